import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "~/db.server";
import { migrateDatabase } from "../../scripts/lib/database";

describe("migrations", () => {
  it("apply again without changing anything", async () => {
    const db = getDb();
    const before = await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const result = await migrateDatabase(process.env.DATABASE_URL!);
    expect(result.created).toBe(false);
    const after = await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    expect(after[0].n).toBe(before[0].n);
    expect(Number(before[0].n)).toBeGreaterThanOrEqual(2);
  });

  it("create the database when it does not exist", async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `${url.pathname}_fresh`;
    const first = await migrateDatabase(url.toString());
    const second = await migrateDatabase(url.toString());
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    await getDb().execute(sql.raw(`select 1`));
    const { default: postgres } = await import("postgres");
    const admin = postgres(url.toString().replace(/\/[^/]+$/, "/postgres"), { max: 1 });
    await admin.unsafe(`DROP DATABASE "${first.name}" WITH (FORCE)`);
    await admin.end();
  });
});

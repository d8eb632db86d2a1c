import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb, withTransaction } from "~/db.server";

describe("the database helpers", () => {
  it("commits derived work without waiting for the disk only when asked, and only for that transaction", async () => {
    const setting = async (durable?: boolean) =>
      withTransaction(
        getDb(),
        async (tx) => (await tx.execute<{ value: string }>(sql`select current_setting('synchronous_commit') as value`))[0].value,
        durable === undefined ? {} : { durable },
      );
    expect(await setting(false)).toBe("off");
    expect(await setting()).toBe("on");
    expect(await setting(true)).toBe("on");
    // SET LOCAL ended with its transaction: the pooled connection is back to the default.
    const [after] = await getDb().execute<{ value: string }>(sql`select current_setting('synchronous_commit') as value`);
    expect(after.value).toBe("on");
  });

  it("prepares the app's statements (one round trip each instead of two), inside transactions too", async () => {
    const prepared = await withTransaction(getDb(), async (tx) => {
      await tx.execute(sql`select ${"x"}::text as prepared_check_marker`);
      // The same connection: drizzle would have sent the statement unprepared.
      return tx.execute<{ n: number }>(
        sql`select count(*)::int as n from pg_prepared_statements where statement like ${"%as prepared_check_marker%"}`,
      );
    });
    expect(prepared[0].n).toBe(1);
  });
});

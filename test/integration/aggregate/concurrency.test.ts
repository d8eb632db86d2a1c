import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DirectAggregate, applyBatches, type WriteOp } from "~/aggregate";
import * as schema from "../../../drizzle/schema";
import { withTransaction, type Database, type TransactionStats } from "~/db.server";

const CONNECTIONS = 20;
const DURATION_MS = 3_500;
const SHARED = ["shared-a", "shared-b"];

let client: postgres.Sql;
let db: Database;

beforeAll(async () => {
  client = postgres(process.env.DATABASE_URL!, { max: CONNECTIONS, onnotice: () => {} });
  db = drizzle(client, { schema });
  for (const table of ["rows_lazy", "rows_eager"]) {
    await db.execute(sql`create table ${sql.identifier(table)} (
      namespace text not null, id text not null, position int not null, primary key (namespace, id))`);
  }
});

afterAll(async () => {
  await client.end({ timeout: 5 });
});

describe("concurrent writers", () => {
  test("many transactions on shared and separate namespaces lose nothing and surface no error", async () => {
    // Small nodes and a lazy root make splits, merges and root upgrades frequent; the second instance has an eager root.
    const lazy = new DirectAggregate({ name: "concLazy", channels: 2, maxNodeSize: 4 });
    const eager = new DirectAggregate({ name: "concEager", channels: 2, maxNodeSize: 6, rootLazy: false });
    const stats: TransactionStats = { retries: 0 };
    let transactions = 0;
    const errors: unknown[] = [];
    const deadline = Date.now() + DURATION_MS;

    // Each transaction maintains one of the two aggregates from its own source table.
    const targets = [
      { aggregate: lazy, table: sql.identifier("rows_lazy") },
      { aggregate: eager, table: sql.identifier("rows_eager") },
    ];
    const worker = async (w: number) => {
      let serial = 0;
      while (Date.now() < deadline) {
        const pick = Math.random();
        const { aggregate, table } = targets[Math.random() < 0.7 ? 0 : 1];
        const namespace = Math.random() < 0.6 ? SHARED[Math.floor(Math.random() * SHARED.length)] : `own-${w}`;
        try {
          await withTransaction(
            db,
            async (tx) => {
              const ops: WriteOp[] = [];
              if (pick < 0.55) {
                const count = 1 + Math.floor(Math.random() * 4);
                for (let i = 0; i < count; i++) {
                  const row = { namespace, id: `w${w}-${serial++}`, position: Math.floor(Math.random() * 1000) };
                  await tx.execute(sql`insert into ${table} values (${row.namespace}, ${row.id}, ${row.position})`);
                  ops.push({ op: "insert", namespace, key: row.position, id: row.id, sums: [row.position, row.position ** 2] });
                }
              } else if (pick < 0.8) {
                const gone = await tx.execute<{ id: string; position: number }>(
                  sql`delete from ${table} where (namespace, id) in (
                        select namespace, id from ${table} where namespace = ${namespace}
                        order by random() limit 3 for update skip locked)
                      returning id, position`,
                );
                for (const row of gone) ops.push({ op: "delete", namespace, key: row.position, id: row.id });
              } else {
                // Move one row to another namespace and position: a replace across trees.
                const target = Math.random() < 0.5 ? SHARED[0] : `own-${w}`;
                const position = Math.floor(Math.random() * 1000);
                const moved = await tx.execute<{ id: string; old_position: number }>(
                  sql`update ${table} r set namespace = ${target}, position = ${position}
                      from (select namespace, id, position as old_position from ${table} where namespace = ${namespace}
                            order by random() limit 1 for update skip locked) old
                      where r.namespace = old.namespace and r.id = old.id
                      returning r.id, old.old_position`,
                );
                for (const row of moved) {
                  ops.push({ op: "delete", namespace, key: row.old_position, id: row.id });
                  ops.push({ op: "insert", namespace: target, key: position, id: row.id, sums: [position, position ** 2] });
                }
              }
              await applyBatches(tx, [{ aggregate, ops }]);
            },
            { stats, maxAttempts: 50 },
          );
          transactions++;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));

    const namespaces = [...new Set([...SHARED, ...Array.from({ length: CONNECTIONS }, (_, w) => `own-${w}`)])];
    let differences = 0;
    const problems: string[] = [];
    let sharedRows = 0;
    for (const { aggregate, table } of targets) {
      const truth = await db.execute<{ namespace: string; n: string; s1: string; s2: string }>(
        sql`select namespace, count(*) as n, sum(position) as s1, sum(position * position) as s2
            from ${table} group by namespace order by namespace`,
      );
      const expected = new Map(truth.map((row) => [row.namespace, row]));
      sharedRows += Number(expected.get(SHARED[0])?.n ?? 0);
      const counts = await aggregate.countBatch(db, namespaces.map((namespace) => ({ namespace })));
      const sums = await aggregate.sumBatch(db, namespaces.map((namespace) => ({ namespace })));
      for (const [i, namespace] of namespaces.entries()) {
        const row = expected.get(namespace);
        const want = { count: Number(row?.n ?? 0), sums: [Number(row?.s1 ?? 0), Number(row?.s2 ?? 0)] };
        if (counts[i] !== want.count || sums[i][0] !== want.sums[0] || sums[i][1] !== want.sums[1]) differences++;
        const report = await aggregate.validate(db, namespace);
        problems.push(...report.problems.map((p) => `${aggregate.name}/${namespace}: ${p}`));
        if (report.count !== want.count) differences++;
      }
    }
    console.log(
      `aggregate concurrency: ${CONNECTIONS} connections, ${transactions} transactions, ${stats.retries} retries, ` +
        `${differences} differences, ${errors.length} errors surfaced, ${problems.length} invariant problems`,
    );
    expect(errors).toEqual([]);
    expect(problems).toEqual([]);
    expect(differences).toBe(0);
    expect(transactions).toBeGreaterThan(CONNECTIONS * 5);
    expect(sharedRows).toBeGreaterThan(20);
  });

  test("writers under different children of a lazy root do not wait for each other; under an eager root they do", async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ key: i * 10, id: `i${i}`, sums: [i] }));
    const outcomes: Record<string, boolean> = {};
    for (const rootLazy of [true, false]) {
      const agg = new DirectAggregate({ name: `apart${rootLazy}`, maxNodeSize: 16, rootLazy });
      await agg.buildFromSorted(db, "ns", items);
      expect((await agg.validate(db, "ns")).ok).toBe(true);

      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const holds = new Promise<void>((resolve) => (holding = resolve));
      // The first writer inserts near the low end and keeps its transaction open.
      const first = db.transaction(async (tx) => {
        await agg.insert(tx, "ns", { key: 5, id: "low", sums: [1] });
        holding();
        await held;
      });
      await holds;
      // The second inserts near the high end, under another root child.
      const second = db.transaction((tx) => agg.insert(tx, "ns", { key: 2_985, id: "high", sums: [1] }));
      const finishedAlone = await Promise.race([
        second.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_500)),
      ]);
      release();
      await Promise.all([first, second]);
      outcomes[rootLazy ? "lazy" : "eager"] = finishedAlone;
      expect(await agg.count(db, { namespace: "ns" })).toBe(302);
      expect((await agg.validate(db, "ns")).problems).toEqual([]);
    }
    expect(outcomes).toEqual({ lazy: true, eager: false });
  });
});

import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DirectAggregate, applyBatches, compactPending, type WriteOp } from "~/aggregate";
import * as schema from "../../../drizzle/schema";
import { withTransaction, type Database, type TransactionStats } from "~/db.server";

const CONNECTIONS = 20;
const DURATION_MS = 3_500;
const SHARED = ["shared-a", "shared-b"];

let client: postgres.Sql;
let db: Database;

beforeAll(async () => {
  // Writers plus the buffered test's compactors and the held transactions of the waiting tests.
  client = postgres(process.env.DATABASE_URL!, { max: CONNECTIONS + 4, onnotice: () => {} });
  db = drizzle(client, { schema });
  for (const table of ["rows_lazy", "rows_eager", "rows_buf_lazy", "rows_buf_eager"]) {
    await db.execute(sql`create table ${sql.identifier(table)} (
      namespace text not null, id text not null, position int not null, primary key (namespace, id))`);
  }
});

afterAll(async () => {
  await client.end({ timeout: 5 });
});

type Target = { aggregate: DirectAggregate; table: ReturnType<typeof sql.identifier> };

/**
 * Compares every namespace's count and both sums with plain SQL over the source rows and validates every tree
 * (buffered deltas included). Returns the number of differences and the invariant problems.
 */
async function compareWithRows(
  targets: Target[],
  namespaces: string[],
) {
  let differences = 0;
  const problems: string[] = [];
  for (const { aggregate, table } of targets) {
    const truth = await db.execute<{ namespace: string; n: string; s1: string; s2: string }>(
      sql`select namespace, count(*) as n, sum(position) as s1, sum(position * position) as s2
          from ${table} group by namespace order by namespace`,
    );
    const expected = new Map(truth.map((row) => [row.namespace, row]));
    const counts = await aggregate.countBatch(db, namespaces.map((namespace) => ({ namespace })));
    const sums = await aggregate.sumBatch(db, namespaces.map((namespace) => ({ namespace })));
    for (const [i, namespace] of namespaces.entries()) {
      const row = expected.get(namespace);
      const want = { count: Number(row?.n ?? 0), sums: [Number(row?.s1 ?? 0), Number(row?.s2 ?? 0)] };
      if (counts[i] !== want.count || sums[i][0] !== want.sums[0] || sums[i][1] !== want.sums[1]) differences++;
      const report = await aggregate.validate(db, namespace);
      problems.push(...report.problems.map((p) => `${aggregate.name}/${namespace}: ${p}`));
      if (report.count !== want.count || report.sums[0] !== want.sums[0] || report.sums[1] !== want.sums[1]) differences++;
    }
  }
  return { differences, problems };
}

/**
 * Writer `w` until the deadline: random transactions that insert, delete or move rows of a target's source
 * table and maintain its aggregate in the same transaction (most on the shared namespaces). A `trustedShare`
 * of the batches are trusted; those only touch this writer's own rows, which it holds locked.
 */
async function runWriter(
  w: number,
  { targets, deadline, stats, errors, trustedShare = 0 }: { targets: Target[]; deadline: number; stats: TransactionStats; errors: unknown[]; trustedShare?: number },
): Promise<{ transactions: number; trusted: number }> {
  const done = { transactions: 0, trusted: 0 };
  let serial = 0;
  while (Date.now() < deadline) {
    const pick = Math.random();
    const { aggregate, table } = targets[Math.random() < 0.7 ? 0 : 1];
    const namespace = Math.random() < 0.6 ? SHARED[Math.floor(Math.random() * SHARED.length)] : `own-${w}`;
    // Trusted batches only touch this writer's own rows (which it holds locked); checked ones any row.
    const trusted = Math.random() < trustedShare;
    const mine = trusted ? sql`and id like ${`w${w}-%`}` : sql``;
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
                    select namespace, id from ${table} where namespace = ${namespace} ${mine}
                    order by random() limit 3 for update skip locked)
                  returning id, position`,
            );
            for (const row of gone) {
              const sums = trusted ? [row.position, row.position ** 2] : undefined;
              ops.push({ op: "delete", namespace, key: row.position, id: row.id, sums });
            }
          } else {
            // Move one row to another namespace and position: a replace across trees.
            const target = Math.random() < 0.5 ? SHARED[0] : `own-${w}`;
            const position = Math.floor(Math.random() * 1000);
            const moved = await tx.execute<{ id: string; old_position: number }>(
              sql`update ${table} r set namespace = ${target}, position = ${position}
                  from (select namespace, id, position as old_position from ${table} where namespace = ${namespace} ${mine}
                        order by random() limit 1 for update skip locked) old
                  where r.namespace = old.namespace and r.id = old.id
                  returning r.id, old.old_position`,
            );
            for (const row of moved) {
              const sums = trusted ? [row.old_position, row.old_position ** 2] : undefined;
              ops.push({ op: "delete", namespace, key: row.old_position, id: row.id, sums });
              ops.push({ op: "insert", namespace: target, key: position, id: row.id, sums: [position, position ** 2] });
            }
          }
          await applyBatches(tx, [{ aggregate, ops, trusted }]);
        },
        { stats, maxAttempts: 50 },
      );
      done.transactions++;
      if (trusted) done.trusted++;
    } catch (error) {
      errors.push(error);
    }
  }
  return done;
}

describe("concurrent writers", () => {
  test("many transactions on shared and separate namespaces lose nothing and surface no error", async () => {
    // Small nodes and a lazy root make splits, merges and root upgrades frequent; the second instance has an eager root.
    const lazy = new DirectAggregate({ name: "concLazy", channels: 2, maxNodeSize: 4 });
    const eager = new DirectAggregate({ name: "concEager", channels: 2, maxNodeSize: 6, rootLazy: false });
    const stats: TransactionStats = { retries: 0 };
    const errors: unknown[] = [];
    const deadline = Date.now() + DURATION_MS;

    // Each transaction maintains one of the two aggregates from its own source table.
    const targets = [
      { aggregate: lazy, table: sql.identifier("rows_lazy") },
      { aggregate: eager, table: sql.identifier("rows_eager") },
    ];
    const written = await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => runWriter(w, { targets, deadline, stats, errors })));
    const transactions = written.reduce((sum, result) => sum + result.transactions, 0);

    const namespaces = [...SHARED, ...Array.from({ length: CONNECTIONS }, (_, w) => `own-${w}`)];
    const { differences, problems } = await compareWithRows(targets, namespaces);
    const [shared] = await db.execute<{ n: string }>(sql`
      select (select count(*) from rows_lazy where namespace = ${SHARED[0]}) + (select count(*) from rows_eager where namespace = ${SHARED[0]}) as n`);
    const sharedRows = Number(shared.n);
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
  test("buffered: many writers and concurrent compactors lose nothing and surface no error", async () => {
    // Deltas only: writers never touch node rows. Two compactors fold them into the trees meanwhile.
    const lazy = new DirectAggregate({ name: "concBufLazy", channels: 2, maxNodeSize: 4, buffered: true });
    const eager = new DirectAggregate({ name: "concBufEager", channels: 2, maxNodeSize: 6, rootLazy: false, buffered: true });
    const targets = [
      { aggregate: lazy, table: sql.identifier("rows_buf_lazy") },
      { aggregate: eager, table: sql.identifier("rows_buf_eager") },
    ];
    const namespaces = [...SHARED, ...Array.from({ length: CONNECTIONS }, (_, w) => `own-${w}`)];
    const stats: TransactionStats = { retries: 0 };
    const counts = { transactions: 0, trusted: 0, compactions: 0, skipped: 0, compactedDeltas: 0, anomalies: 0 };
    const errors: unknown[] = [];
    const deadline = Date.now() + DURATION_MS;
    let writing = true;

    const record = (result: { deltas: number; anomalies: number } | null) => {
      if (result === null) {
        counts.skipped++;
        return;
      }
      if (result.deltas > 0) counts.compactions++;
      counts.compactedDeltas += result.deltas;
      counts.anomalies += result.anomalies;
    };
    // One compactor sweeps every tree with deltas, the other picks trees at random: they collide on purpose.
    const sweeper = async () => {
      while (writing) {
        try {
          const result = await compactPending(db, [lazy, eager], { maxTrees: 6 });
          counts.compactions += result.trees;
          counts.skipped += result.skipped;
          counts.compactedDeltas += result.deltas;
          counts.anomalies += result.anomalies;
        } catch (error) {
          errors.push(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const picker = async () => {
      while (writing) {
        const { aggregate } = targets[Math.random() < 0.7 ? 0 : 1];
        try {
          record(await aggregate.compact(db, namespaces[Math.floor(Math.random() * 4)]));
        } catch (error) {
          errors.push(error);
        }
      }
    };
    // A reader compares each tree (plus deltas) with the source rows in one statement, so in one snapshot:
    // writers commit rows and deltas together and a compaction swaps deltas for nodes atomically.
    const reads = { total: 0, differences: 0 };
    const reader = async () => {
      while (writing) {
        const { aggregate, table } = targets[Math.random() < 0.7 ? 0 : 1];
        const namespace = namespaces[Math.floor(Math.random() * 4)];
        try {
          const [row] = await db.execute<{ n: string; s: string[] | null; scanned: string; rows: string; s1: string | null; s2: string | null }>(
            sql`select aggregate_count(${aggregate.name}, ${namespace}, null::bytea, null::bytea) as n,
                  aggregate_sum(${aggregate.name}, ${namespace}, null::bytea, null::bytea) as s,
                  (select count(*) from aggregate_scan(${aggregate.name}, ${namespace}, null::bytea, null::bytea, 1000000, false)) as scanned,
                  r.n as rows, r.s1, r.s2
                from (select count(*) as n, sum(position) as s1, sum(position * position) as s2
                      from ${table} where namespace = ${namespace}) r`,
          );
          const sums = (row.s ?? ["0", "0"]).map(Number);
          const same =
            row.n === row.rows && row.scanned === row.rows && sums[0] === Number(row.s1 ?? 0) && sums[1] === Number(row.s2 ?? 0);
          reads.total++;
          if (!same) reads.differences++;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const compactors = Promise.all([sweeper(), picker(), reader()]);
    const written = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, w) => runWriter(w, { targets, deadline, stats, errors, trustedShare: 0.35 })),
    );
    counts.transactions = written.reduce((sum, result) => sum + result.transactions, 0);
    counts.trusted = written.reduce((sum, result) => sum + result.trusted, 0);
    writing = false;
    await compactors;

    const pendingAfterWrites = (await lazy.pendingCount(db)) + (await eager.pendingCount(db));
    const before = await compareWithRows(targets, namespaces);
    // Then fold everything: no compactor is left, so no tree is skipped.
    const final = await compactPending(db, [lazy, eager]);
    const after = await compareWithRows(targets, namespaces);
    const pendingAfterCompaction = (await lazy.pendingCount(db)) + (await eager.pendingCount(db));
    const [shared] = await db.execute<{ n: string }>(
      sql`select count(*) as n from rows_buf_lazy where namespace = ${SHARED[0]}`,
    );
    console.log(
      `aggregate concurrency (buffered): ${CONNECTIONS} connections + 2 compactors + 1 reader, ${counts.transactions} transactions ` +
        `(${counts.trusted} trusted), ${stats.retries} retries, ${counts.compactions} compactions ` +
        `(${counts.compactedDeltas} deltas, ${counts.skipped} skipped, ${counts.anomalies} anomalies), ` +
        `${pendingAfterWrites} deltas pending at the end, ${before.differences} differences before and ` +
        `${after.differences} after the final compaction (${final.trees} trees, ${final.deltas} deltas), ` +
        `${reads.total} reads during the run with ${reads.differences} differences, ` +
        `${errors.length} errors surfaced, ${before.problems.length + after.problems.length} invariant problems`,
    );
    expect(errors).toEqual([]);
    expect(before.problems).toEqual([]);
    expect(before.differences).toBe(0);
    expect(reads).toMatchObject({ differences: 0 });
    expect(reads.total).toBeGreaterThan(10);
    expect(after.problems).toEqual([]);
    expect(after.differences).toBe(0);
    expect(pendingAfterCompaction).toBe(0);
    expect(final).toMatchObject({ skipped: 0, anomalies: 0 });
    expect(counts.anomalies).toBe(0);
    expect(counts.transactions).toBeGreaterThan(CONNECTIONS * 5);
    expect(counts.trusted).toBeGreaterThan(0);
    expect(counts.compactions).toBeGreaterThan(0);
    expect(Number(shared.n)).toBeGreaterThan(20);
  });

  test("buffered: a writer holding deltas open delays neither a writer of the same leaf nor a compaction, only a checked op on its item", async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ key: i * 10, id: `i${i}`, sums: [i] }));
    const outcomes: Record<string, boolean> = {};
    const inTime = <T,>(promise: Promise<T>) =>
      Promise.race([
        promise.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_500)),
      ]);
    for (const buffered of [true, false]) {
      const agg = new DirectAggregate({ name: `bufWait${buffered}`, maxNodeSize: 16, buffered });
      await agg.buildFromSorted(db, "ns", items);

      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const holds = new Promise<void>((resolve) => (holding = resolve));
      // The first writer inserts key 5 (a checked op) and keeps its transaction open.
      const first = db.transaction(async (tx) => {
        await agg.insert(tx, "ns", { key: 5, id: "first", sums: [1000] });
        holding();
        await held;
      });
      await holds;
      // The second inserts key 6: the same leaf of the same tree.
      const second = db.transaction((tx) => agg.insert(tx, "ns", { key: 6, id: "second", sums: [2000] }));
      outcomes[buffered ? "buffered" : "direct"] = await inTime(second);
      if (buffered) {
        // A compaction now folds the second writer's committed delta and leaves the open one alone.
        const compaction = agg.compact(db, "ns");
        expect(await inTime(compaction)).toBe(true);
        expect(await compaction).toEqual({ deltas: 1, items: 1, anomalies: 0 });
        expect(await agg.pendingCount(db, "ns")).toBe(0);
        expect(await agg.count(db, { namespace: "ns" })).toBe(301);
      }
      // A checked op on the held item itself does wait (its per-item lock), and then finds it present.
      const third = buffered
        ? db.transaction((tx) => agg.insertIfDoesNotExist(tx, "ns", { key: 5, id: "first", sums: [7] }))
        : Promise.resolve(false);
      if (buffered) expect(await inTime(third)).toBe(false);
      release();
      await Promise.all([first, second]);
      expect(await third).toBe(false);
      expect(await agg.count(db, { namespace: "ns" })).toBe(302);
      expect(await agg.sum(db, { namespace: "ns" })).toEqual([44_850 + 3000]);
      expect(await agg.at(db, { namespace: "ns", offset: 1 })).toEqual({ key: 5, id: "first", sums: [1000] });
      if (buffered) {
        // The open writer's delta survived the compaction: pending now, folded by the next one.
        expect(await agg.pendingCount(db, "ns")).toBe(1);
        expect(await agg.compact(db, "ns")).toEqual({ deltas: 1, items: 1, anomalies: 0 });
        expect(await agg.pendingCount(db, "ns")).toBe(0);
        expect(await agg.count(db, { namespace: "ns" })).toBe(302);
        expect(await agg.at(db, { namespace: "ns", offset: 2 })).toEqual({ key: 6, id: "second", sums: [2000] });
      }
      expect((await agg.validate(db, "ns")).problems).toEqual([]);
    }
    expect(outcomes).toEqual({ buffered: true, direct: false });
  });
  test("buffered: lenient ops racing on the same items agree on every outcome, with a compactor running", async () => {
    // No source rows serialize these writers: only the per-item locks of the presence check do.
    const agg = new DirectAggregate({ name: "bufContested", maxNodeSize: 4, buffered: true });
    const ITEMS = 6;
    const net = new Array<number>(ITEMS).fill(0);
    const errors: unknown[] = [];
    const stats: TransactionStats = { retries: 0 };
    let transactions = 0;
    let writing = true;
    const deadline = Date.now() + 2_000;
    const worker = async () => {
      while (Date.now() < deadline) {
        const k = Math.floor(Math.random() * ITEMS);
        const inserting = Math.random() < 0.5;
        const item = { key: k % 3, id: `c${k}`, sums: [k + 1] };
        try {
          // One op per transaction (two calls would take their item locks in two passes, which can deadlock).
          const ok = await withTransaction(
            db,
            (tx) => (inserting ? agg.insertIfDoesNotExist(tx, "ns", item) : agg.deleteIfExists(tx, "ns", item)),
            { stats, maxAttempts: 50 },
          );
          if (ok) net[k] += inserting ? 1 : -1;
          transactions++;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    let compactions = 0;
    let anomalies = 0;
    const compactor = async () => {
      while (writing) {
        const result = await agg.compact(db, "ns").catch((error: unknown) => {
          errors.push(error);
          return null;
        });
        if (result && result.deltas > 0) compactions++;
        anomalies += result?.anomalies ?? 0;
      }
    };
    const running = compactor();
    await Promise.all(Array.from({ length: 16 }, () => worker()));
    writing = false;
    await running;

    const present = new Array<number>(ITEMS).fill(0);
    for await (const item of agg.iter(db, { namespace: "ns" })) present[Number(item.id.slice(1))]++;
    const report = await agg.validate(db, "ns");
    const final = await agg.compact(db, "ns");
    console.log(
      `aggregate contested items (buffered): 16 connections, ${transactions} transactions, ${stats.retries} retries, ` +
        `${compactions} compactions, ${anomalies + (final?.anomalies ?? 0)} anomalies, net ${JSON.stringify(net)}, ` +
        `present ${JSON.stringify(present)}, ${errors.length} errors surfaced`,
    );
    expect(errors).toEqual([]);
    expect(transactions).toBeGreaterThan(50);
    expect(compactions).toBeGreaterThan(0);
    // Every successful insert was of an absent item and every successful delete of a present one.
    expect(net).toEqual(present);
    expect(present.every((n) => n === 0 || n === 1)).toBe(true);
    expect(report.problems).toEqual([]);
    expect(anomalies).toBe(0);
    expect(final?.anomalies).toBe(0);
    expect(await agg.sum(db, { namespace: "ns" })).toEqual([present.reduce((total, n, k) => total + n * (k + 1), 0)]);
    expect((await agg.validate(db, "ns")).problems).toEqual([]);
  });
});

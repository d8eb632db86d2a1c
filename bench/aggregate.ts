/**
 * Aggregate benchmark: `npm run bench:aggregate`.
 *
 * In a scratch database (BENCH_DATABASE_URL, default topicmatch_bench_aggregate,
 * recreated each run): namespaces of 500, 10,000 and 1,000,000 items, each read
 * timed as the median of many calls next to plain SQL over an indexed table
 * holding the same rows; then a 50-namespace write batch (one student moving
 * every topic of their ranking) with and without aggregate maintenance,
 * counting round trips. Pass `--quick` to skip the 1M namespace.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { DirectAggregate, applyBatches, compactPending, type Item, type WriteOp } from "../app/aggregate";
import * as schema from "../drizzle/schema";
import { maintenanceUrl, migrateDatabase, databaseName } from "../scripts/lib/database";

const url = process.env.BENCH_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/topicmatch_bench_aggregate";
const quick = process.argv.includes("--quick");
const writesOnly = process.argv.includes("--writes");
const SIZES = quick ? [500, 10_000] : [500, 10_000, 1_000_000];
const TOPICS = 50;
const TOPIC_SIZE = 500;
const WRITE_RUNS = 200;
const CLOCK_TICKS = 100;

let statements = 0;
const client = postgres(url, { max: 1, onnotice: () => {}, debug: () => statements++ });
const db = drizzle(client, { schema });

async function median(runs: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function fmt(ms: number) {
  return ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0);
}

function table(rows: string[][]) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  console.log([line(rows[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n"));
}

async function recreateDatabase() {
  const admin = postgres(maintenanceUrl(url), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName(url)}" WITH (FORCE)`);
  await admin.end({ timeout: 5 });
  await migrateDatabase(url);
  await db.execute(sql`create table bench_rows (namespace text not null, position int not null, id text not null,
    primary key (namespace, id))`);
  await db.execute(sql`create index bench_rows_position_idx on bench_rows (namespace, position, id)`);
}

/** Rows with positions 1..n/2 (so about two items share each key), ids unique within the namespace. */
async function fillNamespace(namespace: string, n: number): Promise<Item[]> {
  await db.execute(sql`insert into bench_rows select ${namespace}, 1 + (g::bigint * 7919) % ${Math.ceil(n / 2)}, 'id' || lpad(g::text, 8, '0')
    from generate_series(1, ${n}) g`);
  // Settle the fresh rows first, so autovacuum does not compete with the build being timed.
  await db.execute(sql`vacuum analyze bench_rows`);
  const items: Item[] = [];
  for (let g = 1; g <= n; g++) {
    const position = 1 + ((g * 7919) % Math.ceil(n / 2));
    items.push({ key: position, id: `id${String(g).padStart(8, "0")}`, sums: [position, position * position] });
  }
  items.sort((a, b) => (a.key as number) - (b.key as number) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return items;
}

/** The five questions, through the aggregate and in plain SQL over the same rows: one table row each. */
async function compare(label: string, agg: DirectAggregate, namespace: string, n: number, runs: number, plainRuns: number) {
  const lo = Math.floor(n / 8);
  const hi = Math.floor((3 * n) / 8);
  const middle = Math.floor(n / 2);
  const questions: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
    ["count", () => agg.count(db, { namespace }), () => db.execute(sql`select count(*) from bench_rows where namespace = ${namespace}`)],
    [
      "sum (2 channels)",
      () => agg.sum(db, { namespace }),
      () => db.execute(sql`select sum(position), sum(position::bigint * position) from bench_rows where namespace = ${namespace}`),
    ],
    [
      "at(median)",
      () => agg.at(db, { namespace, offset: middle }),
      () =>
        db.execute(sql`select position, id from bench_rows where namespace = ${namespace}
          order by position, id offset ${middle} limit 1`),
    ],
    [
      "indexOf(key)",
      () => agg.indexOf(db, { namespace, key: hi }),
      () => db.execute(sql`select count(*) from bench_rows where namespace = ${namespace} and position < ${hi}`),
    ],
    [
      "bounded count",
      () => agg.count(db, { namespace, bounds: { lower: { key: lo, inclusive: true }, upper: { key: hi, inclusive: false } } }),
      () =>
        db.execute(sql`select count(*) from bench_rows where namespace = ${namespace} and position >= ${lo} and position < ${hi}`),
    ],
  ];
  const rows: string[][] = [];
  for (const [question, viaAggregate, viaSql] of questions) {
    const aggregateMs = await median(runs, viaAggregate);
    const plainMs = await median(plainRuns, viaSql);
    rows.push([label, question, fmt(aggregateMs), fmt(plainMs), `${(plainMs / aggregateMs).toFixed(1)}x`]);
  }
  return rows;
}

async function readBenchmark() {
  const rows: string[][] = [["items", "question", "aggregate ms", "plain SQL ms", "plain / aggregate"]];
  const builds: string[] = [];
  const agg = new DirectAggregate({ name: "bench", channels: 2 });
  for (const n of SIZES) {
    const namespace = `size-${n}`;
    const items = await fillNamespace(namespace, n);
    const start = performance.now();
    await agg.buildFromSorted(db, namespace, items);
    builds.push(`${n.toLocaleString("en")} items built in ${fmt(performance.now() - start)} ms`);
    // Measure the steady state on both sides: hint bits set, statistics current.
    await db.execute(sql`vacuum analyze aggregate_nodes`);
    await db.execute(sql`vacuum analyze bench_rows`);
    const runs = n >= 1_000_000 ? 200 : 400;
    const plainRuns = n >= 1_000_000 ? 9 : n >= 10_000 ? 60 : 300;
    rows.push(...(await compare(n.toLocaleString("en"), agg, namespace, n, runs, plainRuns)));
  }
  rows.push(...(await pendingReads()));
  console.log(builds.join("\n"));
  table(rows);
}

/**
 * The same questions on a buffered 500-item namespace with 100 deltas waiting
 * (50 batches that each move one item, about what 2 s of 50 students saving
 * leaves in a topic between the worker's compactions).
 */
async function pendingReads(): Promise<string[][]> {
  const n = 500;
  const namespace = "pending-500";
  const items = await fillNamespace(namespace, n);
  const agg = new DirectAggregate({ name: "benchBuffered", channels: 2, buffered: true });
  await agg.buildFromSorted(db, namespace, items);
  const present = items.slice();
  for (let batch = 0; batch < 50; batch++) {
    const index = (batch * 37) % present.length;
    const old = present[index];
    const position = 1 + ((batch * 53) % (n / 2));
    const moved = { key: position, id: old.id, sums: [position, position * position] };
    await agg.applyBatch(
      db,
      [
        { op: "delete", namespace, key: old.key, id: old.id, sums: old.sums },
        { op: "insert", namespace, ...moved },
      ],
      { trusted: true },
    );
    present[index] = moved;
    await db.execute(sql`update bench_rows set position = ${position} where namespace = ${namespace} and id = ${old.id}`);
  }
  await db.execute(sql`vacuum analyze bench_rows`);
  const pending = await agg.pendingCount(db, namespace);
  const rows = await compare(`500 + ${pending} deltas`, agg, namespace, n, 400, 300);
  const [expected] = await db.execute<{ n: string }>(sql`select count(*) as n from bench_rows where namespace = ${namespace}`);
  if ((await agg.count(db, { namespace })) !== Number(expected.n)) throw new Error("buffered namespace count differs from SQL");
  return rows;
}

function shuffled(count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i + 1);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

type WriteConfig = {
  label: string;
  maxNodeSize: number;
  /** Buffered writes, and with them whether the ops are trusted (the app's case) or checked. */
  buffered?: { trusted: boolean; compactEvery: number };
};

const WRITE_CONFIGS: WriteConfig[] = [
  { label: "plain rows only", maxNodeSize: 0 },
  { label: "rows + both aggregates, direct", maxNodeSize: 32 },
  { label: "rows + both aggregates, buffered, checked", maxNodeSize: 32, buffered: { trusted: false, compactEvery: 25 } },
  { label: "rows + both aggregates, buffered, trusted", maxNodeSize: 32, buffered: { trusted: true, compactEvery: 25 } },
  { label: "rows + both aggregates, buffered, trusted", maxNodeSize: 32, buffered: { trusted: true, compactEvery: 100 } },
];

/**
 * One student reorders all 50 topics they ranked: 50 ranking rows change
 * position; maintenance moves the student in 50 per-topic trees (key position,
 * sums position and position²) and rewrites their own tree (key [position, topic]).
 * Buffered configurations fold the deltas into the trees every `compactEvery`
 * batches on the same connection (as the app's worker does on its schedule);
 * that time and CPU is counted, spread over the batches.
 */
async function writeBenchmark() {
  await db.execute(sql`create table bench_rankings (student text not null, topic text not null, position int not null,
    primary key (student, topic))`);
  await db.execute(sql`create index bench_rankings_topic_idx on bench_rankings (topic, position)`);
  await db.execute(sql`create index bench_rankings_student_idx on bench_rankings (student, position)`);
  const rows: string[][] = [
    [
      "write batch",
      "compact every",
      "statements / batch",
      "median ms",
      "vs plain",
      "compaction ms / batch",
      "CPU ms / batch (server + client)",
      "of which compaction",
      "CPU vs plain",
    ],
  ];
  let plainMs = 0;
  let plainCpu = 0;
  const [{ pid: backendPid }] = await db.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
  for (const [index, config] of WRITE_CONFIGS.entries()) {
    const { maxNodeSize, buffered } = config;
    const byTopic = new DirectAggregate({ name: `byTopic${index}`, channels: 2, maxNodeSize: maxNodeSize || 16, buffered: !!buffered });
    const byStudent = new DirectAggregate({ name: `byStudent${index}`, maxNodeSize: maxNodeSize || 16, buffered: !!buffered });
    await db.execute(sql`truncate bench_rankings`);
    // Topics already ranked by 499 other students each, with positions spread over 1..50.
    await db.execute(sql`insert into bench_rankings select 'other' || s, 'topic' || t, 1 + (s * 31 + t) % 50
      from generate_series(1, ${TOPIC_SIZE - 1}) s, generate_series(1, ${TOPICS}) t`);
    const start = shuffled(TOPICS);
    await db.execute(sql`insert into bench_rankings select 'me', 'topic' || t, (${sql.param(start)}::int[])[t]
      from generate_series(1, ${TOPICS}) t`);
    await db.execute(sql`vacuum analyze bench_rankings`);
    if (maxNodeSize > 0) {
      for (let t = 1; t <= TOPICS; t++) {
        const rowsOfTopic = await db.execute<{ student: string; position: number }>(
          sql`select student, position from bench_rankings where topic = ${`topic${t}`} order by position, student`,
        );
        await byTopic.buildFromSorted(
          db,
          `topic${t}`,
          rowsOfTopic.map((r) => ({ key: r.position, id: r.student, sums: [r.position, r.position ** 2] })),
        );
      }
      const mine = start.map((position, i) => ({ key: [position, `topic${i + 1}`], id: `topic${i + 1}`, sums: [position] }));
      mine.sort((a, b) => (a.key[0] as number) - (b.key[0] as number));
      await byStudent.buildFromSorted(db, "me", mine);
      await db.execute(sql`vacuum analyze aggregate_nodes`);
    }
    let current = start;
    let statementCount = 0;
    let compactionMs = 0;
    let compactionCpu = 0;
    const times: number[] = [];
    const compact = async () => {
      const startMs = performance.now();
      const server = await backendCpuMs(backendPid);
      const client = process.cpuUsage();
      await compactPending(db, [byTopic, byStudent]);
      const used = process.cpuUsage(client);
      compactionCpu += (await backendCpuMs(backendPid)) - server + (used.user + used.system) / 1000;
      compactionMs += performance.now() - startMs;
    };
    const serverBefore = await backendCpuMs(backendPid);
    const clientBefore = process.cpuUsage();
    for (let run = 0; run <= WRITE_RUNS; run++) {
      const next = shuffled(TOPICS);
      const before = statements;
      const began = performance.now();
      await db.transaction(async (tx) => {
        await tx.execute(sql`update bench_rankings r set position = v.position
          from unnest(${sql.param(next)}::int[]) with ordinality as v(position, t)
          where r.student = 'me' and r.topic = 'topic' || v.t`);
        if (maxNodeSize > 0) {
          const topicOps: WriteOp[] = [];
          const studentOps: WriteOp[] = [];
          for (let t = 0; t < TOPICS; t++) {
            const topic = `topic${t + 1}`;
            const old = current[t];
            topicOps.push({ op: "delete", namespace: topic, key: old, id: "me", sums: [old, old ** 2] });
            topicOps.push({ op: "insert", namespace: topic, key: next[t], id: "me", sums: [next[t], next[t] ** 2] });
            studentOps.push({ op: "delete", namespace: "me", key: [old, topic], id: topic, sums: [old] });
          }
          for (let t = 0; t < TOPICS; t++) {
            const topic = `topic${t + 1}`;
            studentOps.push({ op: "insert", namespace: "me", key: [next[t], topic], id: topic, sums: [next[t]] });
          }
          const trusted = buffered?.trusted ?? false;
          await applyBatches(tx, [
            { aggregate: byTopic, ops: topicOps, trusted },
            { aggregate: byStudent, ops: studentOps, trusted },
          ]);
        }
      });
      if (run > 0) times.push(performance.now() - began);
      statementCount = statements - before;
      current = next;
      if (buffered && (run + 1) % buffered.compactEvery === 0) await compact();
    }
    if (buffered) await compact();
    const serverCpu = ((await backendCpuMs(backendPid)) - serverBefore) / (WRITE_RUNS + 1);
    const clientUsage = process.cpuUsage(clientBefore);
    const clientCpu = (clientUsage.user + clientUsage.system) / 1000 / (WRITE_RUNS + 1);
    const cpu = serverCpu + clientCpu;
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    if (maxNodeSize === 0) {
      plainMs = ms;
      plainCpu = cpu;
    }
    rows.push([
      config.label,
      buffered ? String(buffered.compactEvery) : "-",
      String(statementCount),
      fmt(ms),
      maxNodeSize === 0 ? "1.00x" : `${(ms / plainMs).toFixed(2)}x`,
      buffered ? fmt(compactionMs / (WRITE_RUNS + 1)) : "-",
      `${fmt(cpu)} (${fmt(serverCpu)} + ${fmt(clientCpu)})`,
      buffered ? fmt(compactionCpu / (WRITE_RUNS + 1)) : "-",
      maxNodeSize === 0 ? "1.00x" : `${(cpu / plainCpu).toFixed(2)}x`,
    ]);
    if (maxNodeSize > 0) {
      for (let t = 1; t <= 3; t++) {
        const report = await byTopic.validate(db, `topic${t}`);
        if (!report.ok || report.count !== TOPIC_SIZE) throw new Error(`bench tree topic${t} is invalid: ${report.problems[0]}`);
      }
      const mine = await byStudent.validate(db, "me");
      if (!mine.ok || mine.count !== TOPICS) throw new Error(`bench tree of "me" is invalid: ${mine.problems[0]}`);
    }
  }
  table(rows);
  console.log(`load average during the write batches: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} cores`);
}

/**
 * CPU time the server backend has used so far, from /proc (Postgres runs on
 * this machine): wall time on a loaded machine mostly measures waiting for a
 * core, CPU time measures the work. Ticks of 10 ms, so only totals over many
 * batches are meaningful.
 */
async function backendCpuMs(pid: number): Promise<number> {
  // A server on another machine has no /proc entry here: the CPU columns then read NaN.
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  if (stat === null) return Number.NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

async function main() {
  await recreateDatabase();
  console.log(`aggregate benchmark on ${databaseName(url)} (statements counted include BEGIN/COMMIT)`);
  if (!writesOnly) await readBenchmark();
  await writeBenchmark();
  await client.end({ timeout: 5 });
}

main().catch(async (error) => {
  console.error(error);
  await client.end({ timeout: 5 });
  process.exit(1);
});

/**
 * Backfill and consistency benchmark: `npm run bench:consistency`.
 *
 * In a throw-away database: STUDENTS legacy preferences (top RANK_LENGTH of
 * TOPICS topics, skewed popularity) are backfilled through the ranking model;
 * then verifyAggregates over the period is timed against its own SQL half
 * alone (the baseline: the plain aggregation every verify has to run), and
 * a repair that rebuilds every topic and student tree is timed per tree.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { preferences } from "../drizzle/schema";
import { closeDb, getDb } from "../app/db.server";
import { generatePreferences } from "../app/models/assignment/synthetic";
import { backfillPreferences } from "../app/models/backfill.server";
import { rebuildNamespace, verifyAggregates } from "../app/models/consistency.server";
import { ensureOpenPeriod, ensureStudents } from "../app/models/seed.server";
import { databaseName, maintenanceUrl, migrateDatabase } from "../scripts/lib/database";

const STUDENTS = Number(process.env.BENCH_STUDENTS ?? 1000);
const TOPICS = Number(process.env.BENCH_TOPICS ?? 100);
const RANK_LENGTH = Number(process.env.BENCH_RANK_LENGTH ?? 10);
const REPEATS = 3;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

async function median(work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) samples.push((await timed(work)).ms);
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

async function main() {
  const server = new URL(process.env.BENCH_DATABASE_SERVER ?? "postgres://root@127.0.0.1:5432/postgres");
  server.pathname = `/tm_bench_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
  const databaseUrl = server.toString();
  process.env.DATABASE_URL = databaseUrl;
  process.env.NODE_ENV = "test";
  console.log(`Consistency benchmark: ${STUDENTS} students, ${TOPICS} topics, top ${RANK_LENGTH} each`);
  await migrateDatabase(databaseUrl);
  try {
    const db = getDb();
    const period = await ensureOpenPeriod({
      db,
      title: "Consistency benchmark",
      description: "",
      topics: Array.from({ length: TOPICS }, (_, index) => ({
        title: `Topic ${index + 1}`,
        description: "",
        supervisor: "Bench",
        capacity: Math.ceil((STUDENTS * 1.1) / TOPICS),
      })),
    });
    const emails = Array.from({ length: STUDENTS }, (_, index) => `bench-${index + 1}@bench.test`);
    const studentIds = await ensureStudents({ db, emails, password: "bench-student-password" });
    const generated = generatePreferences({
      students: studentIds,
      topics: period.topicIds,
      zipfExponent: 1,
      seed: 1,
      rankLength: RANK_LENGTH,
    });
    await db.insert(preferences).values(
      studentIds.map((studentId) => ({
        studentId,
        periodId: period.periodId,
        topicIds: generated.rankings[studentId],
      }))
    );

    const backfill = await timed(() => backfillPreferences({ db, periodId: period.periodId }));
    const again = await timed(() => backfillPreferences({ db, periodId: period.periodId }));

    const plainSql = await median(async () => {
      await db.execute(sql`
        select topic_id, count(*), sum(position), sum(position::bigint * position) from rankings
        where period_id = ${period.periodId} group by topic_id`);
      await db.execute(sql`
        select student_id, count(*), sum(position) from rankings
        where period_id = ${period.periodId} group by student_id`);
    });
    const verify = await timed(() => verifyAggregates({ db, periodId: period.periodId }));
    const verifyMedian = await median(() => verifyAggregates({ db, periodId: period.periodId }));
    const clean = verify.result.differences.length === 0 && verify.result.invalidTrees.length === 0;

    const trees = [
      ...period.topicIds.map((namespace) => ({ aggregate: "rankingsByTopic" as const, namespace })),
      ...studentIds.map((studentId) => ({
        aggregate: "rankingsByStudent" as const,
        namespace: `${period.periodId}:${studentId}`,
      })),
    ];
    const repair = await timed(async () => {
      for (const tree of trees) await rebuildNamespace({ db, ...tree });
    });
    const after = await verifyAggregates({ db, periodId: period.periodId });

    const rows = [
      ["step", "ms", "figure"],
      [
        "backfill (first run)",
        backfill.ms.toFixed(0),
        `${((STUDENTS / backfill.ms) * 1000).toFixed(0)} students/s, ${backfill.result.applied} applied`,
      ],
      ["backfill (second run)", again.ms.toFixed(0), `${again.result.total} pending, ${again.result.applied} applied`],
      ["plain SQL totals (baseline)", plainSql.toFixed(1), "1.0×"],
      [
        "verifyAggregates (median)",
        verifyMedian.toFixed(1),
        `${(verifyMedian / plainSql).toFixed(1)}× baseline; ${verify.result.checkedTopics} topic + ${
          verify.result.checkedStudents
        } student trees; ${clean ? "clean" : "DIFFERENCES"}`,
      ],
      [
        "rebuild every tree",
        repair.ms.toFixed(0),
        `${(repair.ms / trees.length).toFixed(2)} ms per tree; afterwards ${
          after.differences.length + after.invalidTrees.length
        } problems`,
      ],
    ];
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join("  "));
  } finally {
    await closeDb();
    const admin = postgres(maintenanceUrl(databaseUrl), { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName(databaseUrl)}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  }
}

await main();

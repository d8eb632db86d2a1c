/**
 * Review page benchmark: `npm run bench:assignment-review`.
 *
 * On a 20,000-student run, times what the review and compare loaders query
 * now (one page plus grouped counts) against loading every row as they did
 * before, in one process, on a throwaway database. Medians of repeated reads.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { databaseUrl, testServerUrl } from "../test/setup/urls";
import { maintenanceUrl, migrateDatabase } from "../scripts/lib/database";

const STUDENTS = 20_000;
const TOPICS = 1_000;
const REPEATS = 15;

const name = `tm_bench_${randomBytes(4).toString("hex")}`;
process.env.DATABASE_URL = databaseUrl(name);
process.env.QUEUE_PREFIX = `tmbench-${name}`;

async function median(work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let index = 0; index < REPEATS; index++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

async function main() {
  await migrateDatabase(process.env.DATABASE_URL!);
  const { sql } = await import("drizzle-orm");
  const { closeDb, getDb } = await import("../app/db.server");
  const { assignmentRuns, selectionPeriods, topics } = await import("../drizzle/schema");
  const runsModule = await import("../app/models/assignment/runs.server");
  const { profileOfRows } = await import("../app/models/assignment/explain");
  const { generatePreferences } = await import("../app/models/assignment/synthetic");
  const { compareRuns, executeAssignmentRun, listRunAssignments, pageRunAssignments, summarizeRun } = runsModule;
  const db = getDb();
  try {
    const [period] = await db.insert(selectionPeriods).values({ title: "review bench", status: "closed" }).returning();
    const topicRows = await db
      .insert(topics)
      .values(Array.from({ length: TOPICS }, (_, index) => ({ periodId: period.id, title: `Topic ${index}`, capacity: 25 })))
      .returning({ id: topics.id });
    const names = Array.from({ length: STUDENTS }, (_, index) => `Student ${String(index + 1).padStart(5, "0")}`);
    const inserted = await db.execute<{ id: string }>(sql`
      insert into users (email, name, role)
      select lower(replace(n, ' ', '-')) || '@bench.test', n, 'student' from unnest(${sql.param(names)}::text[]) as t(n)
      returning id`);
    const studentIds = [...inserted].map((row) => row.id);
    const preferences = generatePreferences({ students: studentIds, topics: topicRows.map((row) => row.id), zipfExponent: 1, seed: 2026, rankLength: 10 });
    const lists = studentIds.flatMap((studentId) => preferences.rankings[studentId].map((topicId, index) => [studentId, topicId, index + 1] as const));
    await db.execute(sql`
      insert into rankings (student_id, topic_id, period_id, position)
      select s, t, ${period.id}, p from unnest(${sql.param(lists.map((row) => row[0]))}::uuid[],
        ${sql.param(lists.map((row) => row[1]))}::uuid[], ${sql.param(lists.map((row) => row[2]))}::int[]) as r(s, t, p)`);
    const runs = await db
      .insert(assignmentRuns)
      .values([
        { periodId: period.id, objective: "linear", seed: 1, unassignedPolicy: "leave" },
        { periodId: period.id, objective: "rank-maximal", seed: 1, unassignedPolicy: "leave" },
      ])
      .returning();
    for (const run of runs) await executeAssignmentRun({ db, runId: run.id });
    const [a, b] = runs.map((run) => run.id);

    // What the loaders did before: every row of the run, then profile and search in JavaScript.
    const everyRow = await median(async () => {
      const rows = await listRunAssignments({ db, runId: a });
      profileOfRows(rows);
      return rows.filter((row) => `${row.name} ${row.email} ${row.topicTitle ?? "unassigned"}`.toLowerCase().includes("student 1")).slice(0, 50);
    });
    const bothRuns = await median(async () => {
      const [left, right] = await Promise.all([a, b].map((runId) => listRunAssignments({ db, runId })));
      const inRight = new Map(right.map((row) => [row.studentId, row.topicId]));
      return left.filter((row) => row.topicId !== (inRight.get(row.studentId) ?? null)).slice(0, 50);
    });
    const figures: [string, number, number][] = [
      ["review, first page", await median(() => Promise.all([summarizeRun({ db, runId: a }), pageRunAssignments({ db, runId: a })])), everyRow],
      ["review, last page", await median(() => pageRunAssignments({ db, runId: a, page: STUDENTS / 50 })), everyRow],
      ["review, search 'student 1'", await median(() => pageRunAssignments({ db, runId: a, query: "student 1" })), everyRow],
      ["compare, first page", await median(() => compareRuns({ db, periodId: period.id, runIds: [a, b] })), bothRuns],
    ];
    const table = [["20k students, 1k topics", "paged ms", "all rows ms", "paged / all rows"]];
    for (const [label, paged, all] of figures) table.push([label, paged.toFixed(1), all.toFixed(1), (paged / all).toFixed(2)]);
    const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
    for (const row of table) console.log(row.map((cell, column) => cell.padStart(widths[column])).join("  "));
  } finally {
    await closeDb();
    const admin = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/**
 * Assignment run benchmark: `npm run bench:assignment-run`.
 *
 * Times the worker's whole run (load rankings, solve, save every row, record
 * the event) against the solver alone on the same input, in one process, on
 * a throwaway database. The ratio shows what the database side adds.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { databaseUrl, testServerUrl } from "../test/setup/urls";
import { maintenanceUrl, migrateDatabase } from "../scripts/lib/database";

const SIZES = [
  { name: "1k x 100 cap 12, top-10", students: 1_000, topics: 100, capacity: 12, rankLength: 10 },
  { name: "5k x 500 cap 12, top-10", students: 5_000, topics: 500, capacity: 12, rankLength: 10 },
  { name: "20k x 1k cap 25, top-10", students: 20_000, topics: 1_000, capacity: 25, rankLength: 10 },
];

const name = `tm_bench_${randomBytes(4).toString("hex")}`;
process.env.DATABASE_URL = databaseUrl(name);
process.env.QUEUE_PREFIX = `tmbench-${name}`;

async function main() {
  await migrateDatabase(process.env.DATABASE_URL!);
  const { closeDb, getDb } = await import("../app/db.server");
  const { assignmentRuns, rankings, selectionPeriods, topics, users } = await import("../drizzle/schema");
  const { executeAssignmentRun, loadAssignmentInput } = await import("../app/models/assignment/runs.server");
  const { solveAssignment } = await import("../app/models/assignment/solver");
  const { generatePreferences } = await import("../app/models/assignment/synthetic");
  const db = getDb();
  const table: string[][] = [["instance", "load ms", "solve ms", "save ms", "run total ms", "solver alone ms", "run / solver"]];
  try {
    for (const size of SIZES) {
      const [period] = await db.insert(selectionPeriods).values({ title: size.name, status: "closed" }).returning();
      const topicRows = await db
        .insert(topics)
        .values(Array.from({ length: size.topics }, (_, index) => ({ periodId: period.id, title: `T${index}`, capacity: size.capacity })))
        .returning({ id: topics.id });
      const studentIds: string[] = [];
      for (let start = 0; start < size.students; start += 5_000) {
        const chunk = await db
          .insert(users)
          .values(
            Array.from({ length: Math.min(5_000, size.students - start) }, (_, index) => ({
              email: `${period.id.slice(0, 8)}-${start + index}@bench.test`,
              name: `Student ${start + index}`,
            })),
          )
          .returning({ id: users.id });
        studentIds.push(...chunk.map((row) => row.id));
      }
      const preferences = generatePreferences({
        students: studentIds,
        topics: topicRows.map((row) => row.id),
        zipfExponent: 1,
        seed: 2026,
        rankLength: size.rankLength,
      });
      const rows = studentIds.flatMap((studentId) =>
        preferences.rankings[studentId].map((topicId, index) => ({ studentId, topicId, periodId: period.id, position: index + 1 })),
      );
      for (let start = 0; start < rows.length; start += 10_000) await db.insert(rankings).values(rows.slice(start, start + 10_000));

      const [run] = await db
        .insert(assignmentRuns)
        .values({ periodId: period.id, objective: "linear", seed: 1, unassignedPolicy: "leave" })
        .returning();
      const marks: Record<string, number> = {};
      const started = performance.now();
      await executeAssignmentRun({
        db,
        runId: run.id,
        onProgress: async ({ stage }) => {
          marks[stage] = performance.now();
        },
      });
      const total = performance.now() - started;

      const input = await loadAssignmentInput({ db, periodId: period.id });
      const solveStart = performance.now();
      solveAssignment({ ...input, objective: "linear", unassignedPolicy: "leave", seed: 1 });
      const solverAlone = performance.now() - solveStart;

      table.push([
        size.name,
        (marks.solving - marks.loading).toFixed(0),
        (marks.saving - marks.solving).toFixed(0),
        (marks.done - marks.saving).toFixed(0),
        total.toFixed(0),
        solverAlone.toFixed(0),
        `${(total / solverAlone).toFixed(1)}x`,
      ]);
    }
  } finally {
    await closeDb();
    const admin = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  }
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  for (const row of table) console.log(row.map((cell, column) => cell.padStart(widths[column])).join("  "));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

import { parseArgs } from "node:util";
import { z } from "zod";
import { getDb } from "../app/db.server";
import { backfillPreferences, type BackfillProgress } from "../app/models/backfill.server";
import { runScript } from "./lib/run";

const USAGE = `Usage:
  npm run backfill                              carry every legacy preference over into rankings
  npm run backfill -- --period ID               only the preferences of one selection period
  npm run backfill -- --batch-size N            rows read per page (default 200)
Safe to run again and to resume after an interruption. Exit code 1 when rows were rejected.`;

const Options = z.object({
  period: z.uuid("--period must be a selection period id (a UUID)").optional(),
  "batch-size": z.coerce
    .number()
    .int("--batch-size must be a whole number")
    .min(1, "--batch-size must be at least 1")
    .default(200),
  help: z.boolean().optional(),
});

function progressLine({ done, total, applied, unchanged, rejected }: BackfillProgress): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${"-".repeat(
    width - filled
  )}] ${done}/${total}  applied ${applied}, unchanged ${unchanged}, rejected ${rejected}`;
}

await runScript(async () => {
  const { values } = parseArgs({
    options: { period: { type: "string" }, "batch-size": { type: "string" }, help: { type: "boolean" } },
    strict: true,
  });
  const parsed = Options.safeParse(values);
  if (!parsed.success) {
    console.error(`${parsed.error.issues[0].message}\n${USAGE}`);
    return 2;
  }
  if (parsed.data.help) {
    console.log(USAGE);
    return 0;
  }
  const interactive = process.stdout.isTTY === true;
  const report = await backfillPreferences({
    db: getDb(),
    periodId: parsed.data.period,
    batchSize: parsed.data["batch-size"],
    onProgress: interactive ? (progress) => void process.stdout.write(`\r${progressLine(progress)}`) : undefined,
  });
  if (interactive && report.total > 0) process.stdout.write("\n");
  console.log(
    `Backfill of legacy preferences: ${report.total} pending, ${report.applied} applied, ` +
      `${report.unchanged} already matching, ${report.rejected} rejected.`
  );
  for (const problem of report.problems) {
    console.log(
      `  rejected: student ${problem.studentId}, period ${problem.periodId}, topics [${problem.topicIds.join(", ")}]: ${
        problem.reason
      }`
    );
  }
  return report.rejected > 0 ? 1 : 0;
});

import { parseArgs } from "node:util";
import { z } from "zod";
import { getDb } from "../app/db.server";
import {
  formatVerifyReport,
  namespacesToRepair,
  runConsistencyCheck,
  verifyAggregates,
} from "../app/models/consistency.server";
import { runScript } from "./lib/run";

const USAGE = `Usage:
  npm run aggregates:verify [-- --period ID]   compare the ranking aggregates with the rankings table
  npm run aggregates:repair [-- --period ID]   rebuild every namespace that differs, then verify again
verify exits 1 when it finds a difference or an invalid tree; repair exits 1 when one remains after the repair.`;

const Options = z.object({
  command: z.enum(["verify", "repair"], "the command must be verify or repair"),
  period: z.uuid("--period must be a selection period id (a UUID)").optional(),
  help: z.boolean().optional(),
});

await runScript(async () => {
  const { values, positionals } = parseArgs({
    options: { period: { type: "string" }, help: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parsed = Options.safeParse({ ...values, command: positionals[0] });
  if (!parsed.success || positionals.length !== 1) {
    console.error(`${parsed.success ? "exactly one command is expected" : parsed.error.issues[0].message}\n${USAGE}`);
    return 2;
  }
  const { command, period } = parsed.data;
  if (command === "verify") {
    const report = await verifyAggregates({ db: getDb(), periodId: period });
    for (const line of formatVerifyReport(report)) console.log(line);
    return namespacesToRepair(report).length > 0 ? 1 : 0;
  }
  const run = await runConsistencyCheck({ db: getDb(), periodId: period, trigger: "cli" });
  for (const line of formatVerifyReport(run.before)) console.log(line);
  if (run.repaired.length > 0) {
    console.log(`Repaired ${run.repaired.length} namespace(s) from the rankings table:`);
    for (const { aggregate, namespace, items } of run.repaired)
      console.log(`  ${aggregate} ${namespace}: rebuilt with ${items} items`);
    console.log("After the repair:");
    for (const line of formatVerifyReport(run.after)) console.log(`  ${line}`);
  }
  if (run.staleTopicIds.length > 0) {
    console.log(
      `${run.staleTopicIds.length} topic(s) have stored metrics from another student count; the consistency job requests their recompute.`
    );
  }
  console.log(`Recorded as consistency run ${run.id}.`);
  return namespacesToRepair(run.after).length > 0 ? 1 : 0;
});

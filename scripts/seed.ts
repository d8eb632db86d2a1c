import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { getDb } from "../app/db.server";
import { parseSoc } from "../app/models/preflib";
import { AGH_PERIOD_TITLE, DEMO_ADMIN, DEMO_STUDENT_PASSWORD, demoStudentEmail, seedAgh } from "../app/models/seed.server";
import { AGH_SOC_PATH } from "./lib/paths";
import { runScript } from "./lib/run";

const USAGE = `Usage:
  npm run seed                       load the AGH 2003 demo (146 students, 9 topics)
  npm run seed -- --file PATH.soc    the same from another PrefLib soc file`;

function progress(stage: string, done: number, total: number) {
  process.stdout.write(`\r  ${stage}: ${done}/${total}${done === total ? "\n" : ""}`);
}

await runScript(async () => {
  const { values } = parseArgs({
    options: { file: { type: "string" }, help: { type: "boolean" } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = values.file ?? AGH_SOC_PATH;
  if (!existsSync(file)) {
    console.error(`Demo data not found at ${file}: the shared/ folder must sit beside the repository, or pass --file PATH.soc.`);
    return 1;
  }
  const soc = parseSoc(readFileSync(file, "utf8"));
  console.log(`Seeding ${soc.voters.length} students and ${soc.alternatives.length} topics from ${file}`);
  const result = await seedAgh({ db: getDb(), soc, onProgress: progress });
  console.log(
    `Period "${AGH_PERIOD_TITLE}" ${result.period.created ? "created and opened" : "already existed"}; ` +
      `${result.applied} rankings applied, ${result.kept} kept as they were; capacity ${result.capacity} per topic.`,
  );
  console.log(`\nSign in at http://localhost:${process.env.PORT ?? 3000}/login`);
  console.log(`  admin:   ${DEMO_ADMIN.email} / ${DEMO_ADMIN.password}`);
  console.log(`  student: ${demoStudentEmail(0)} … ${demoStudentEmail(soc.voters.length - 1)} / ${DEMO_STUDENT_PASSWORD}`);
});

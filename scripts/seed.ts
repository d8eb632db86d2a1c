import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { getDb } from "../app/db.server";
import { parseSoc } from "../app/models/preflib";
import { AGH_PERIOD_TITLE, DEMO_ADMIN, DEMO_STUDENT_PASSWORD, demoStudentEmail, seedAgh, seedSynthetic } from "../app/models/seed.server";
import { AGH_SOC_PATH } from "./lib/paths";
import { runScript } from "./lib/run";

const USAGE = `Usage:
  npm run seed                       load the AGH 2003 demo (146 students, 9 topics)
  npm run seed -- --file PATH.soc    the same from another PrefLib soc file
  npm run seed -- --students 5000 --topics 500 [--rank-length 20] [--zipf 1] [--seed 1]
                                     a synthetic open period with skewed popularity`;

const positiveInt = (name: string, value: string | undefined, fallback?: number): number => {
  if (value === undefined && fallback !== undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`--${name} must be a whole number of at least 1`);
  return parsed;
};

class UsageError extends Error {}

function progress(stage: string, done: number, total: number) {
  process.stdout.write(`\r  ${stage}: ${done}/${total}${done === total ? "\n" : ""}`);
}

await runScript(async () => {
  const { values } = parseArgs({
    options: {
      file: { type: "string" },
      students: { type: "string" },
      topics: { type: "string" },
      "rank-length": { type: "string" },
      zipf: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.students !== undefined || values.topics !== undefined) {
    try {
      const students = positiveInt("students", values.students);
      const topics = positiveInt("topics", values.topics);
      const rankLength = Math.min(topics, positiveInt("rank-length", values["rank-length"], 20));
      const zipfExponent = values.zipf === undefined ? 1 : Number(values.zipf);
      if (!Number.isFinite(zipfExponent) || zipfExponent < 0) throw new UsageError("--zipf must be a number ≥ 0");
      const seed = positiveInt("seed", values.seed, 1);
      const result = await seedSynthetic({ db: getDb(), students, topics, rankLength, zipfExponent, seed, onProgress: progress });
      console.log(
        `Period "${result.title}" ${result.period.created ? "created and opened" : "already existed"}; ` +
          `${result.applied} rankings applied, ${result.kept} kept; capacity ${result.capacity} per topic.`,
      );
      return 0;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      console.error(`${error.message}\n${USAGE}`);
      return 2;
    }
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

import os from "node:os";
import { closeDb } from "../app/db.server";
import { getEnv } from "../app/env.server";
import { explainStartupError, preflight } from "../app/preflight.server";
import { closeQueues } from "../app/queues.server";
import { QUEUE_NAMES } from "./catalogue";
import { startWorkers } from "./workers";

async function main() {
  await preflight();
  // Jobs (metric recomputes, compaction, checks) are background work: on a small machine they should not
  // take a core from a student's save. Only mildly lowered (5): at 10 the metrics recomputes starved under
  // load and updates reached the pages seconds late. Postgres does their queries at its own priority.
  try {
    os.setPriority(getEnv().WORKER_NICE);
  } catch (error) {
    console.warn(`worker: could not lower its CPU priority (${(error as Error).message})`);
  }
  const running = await startWorkers();
  console.log(`TopicMatch worker running: queues ${QUEUE_NAMES.join(", ")}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`worker: ${signal} received, finishing active jobs`);
    const force = setTimeout(() => {
      console.error("worker: active jobs did not finish within 20 s; exiting");
      process.exit(1);
    }, 20_000);
    force.unref();
    await running.close();
    await Promise.allSettled([closeQueues(), closeDb()]);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error) => {
  console.error(explainStartupError(error) ?? error);
  process.exit(1);
});

import { closeDb } from "../../app/db.server";
import { startWorkers } from "../../jobs/workers";

/**
 * The real workers and processors in a child process whose locks expire
 * quickly, so a test can kill it mid-job and see another worker take the
 * job over within seconds instead of BullMQ's default 30 s.
 */
const lockDuration = Number(process.env.WORKER_LOCK_MS ?? 1_500);
const running = await startWorkers({ concurrency: 1, lockDuration, stalledInterval: lockDuration });
console.log("test worker running");
process.on("SIGTERM", () => {
  void Promise.allSettled([running.close(), closeDb()]).then(() => process.exit(0));
});

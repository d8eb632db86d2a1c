import { Worker, type Job } from "bullmq";
import { getEnv } from "../app/env.server";
import { getQueue } from "../app/queues.server";
import { createRedis } from "../app/redis.server";
import { JOBS, jobByName, QUEUE_NAMES, SCHEDULES, type JobKey } from "./catalogue";
import { ON_FINAL_FAILURE, PROCESSORS } from "./processors";

async function processJob(job: Job) {
  const key = jobByName(job.queueName, job.name);
  if (!key) throw new Error(`No processor for job ${job.name} on queue ${job.queueName}`);
  const payload = JOBS[key].payload.parse(job.data);
  return (PROCESSORS[key] as (payload: unknown, job: Job) => Promise<unknown>)(payload, job);
}

// "failed" fires for every failed attempt; only a job left in the failed set will not run again.
async function recordFinalFailure(job: Job, error: Error) {
  const key = jobByName(job.queueName, job.name);
  const handler = key ? ON_FINAL_FAILURE[key] : undefined;
  if (!key || !handler) return;
  try {
    if (!(await job.isFailed())) return;
    const payload = JOBS[key].payload.parse(job.data);
    await (handler as (payload: unknown, error: Error) => Promise<unknown>)(payload, error);
  } catch (failure) {
    console.error(`job ${job.queueName}/${job.name} ${job.id}: recording the final failure failed: ${(failure as Error).message}`);
  }
}

/** Starts one BullMQ worker per queue and registers the recurring schedules. */
export async function startWorkers(options: { concurrency?: number; lockDuration?: number; stalledInterval?: number } = {}) {
  const { QUEUE_PREFIX, WORKER_LOCK_MS, WORKER_STALLED_CHECK_MS } = getEnv();
  const workers = QUEUE_NAMES.map((name) => {
    const worker = new Worker(name, processJob, {
      connection: createRedis("worker"),
      prefix: QUEUE_PREFIX,
      concurrency: options.concurrency ?? 4,
      lockDuration: options.lockDuration ?? WORKER_LOCK_MS,
      stalledInterval: options.stalledInterval ?? WORKER_STALLED_CHECK_MS,
    });
    worker.on("error", (error) => console.error(`worker ${name}: ${error.message}`));
    worker.on("failed", (job, error) => {
      console.error(`job ${name}/${job?.name} ${job?.id} failed: ${error.message}`);
      if (job) void recordFinalFailure(job, error);
    });
    return worker;
  });
  for (const schedule of SCHEDULES) {
    const job = JOBS[schedule.job as JobKey];
    await getQueue(job.queue).upsertJobScheduler(
      schedule.id,
      { every: schedule.every },
      { name: job.name, data: {}, opts: job.options },
    );
  }
  return {
    workers,
    async close() {
      await Promise.allSettled(workers.map((worker) => worker.close()));
    },
  };
}

import { QueueEvents, Worker } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { getEnv } from "~/env.server";
import { getQueueHealth, retryFailedJob } from "~/models/queue-health.server";
import { closeQueues, enqueue } from "~/queues.server";
import { createRedis } from "~/redis.server";
import { QUEUE_NAMES } from "../../jobs/catalogue";
import { startWorkers } from "../../jobs/workers";

const prefix = getEnv().QUEUE_PREFIX;
const lifecycleEvents = new QueueEvents("lifecycle", { connection: createRedis("worker"), prefix });

afterAll(async () => {
  await lifecycleEvents.close();
  const redis = createRedis("worker");
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await closeQueues();
});

describe("queue health", () => {
  it("counts every catalogued queue, shows a failed job's error, and retries it into a real worker", async () => {
    const healthy = await getQueueHealth();
    expect(healthy.map((queue) => queue.name)).toEqual(QUEUE_NAMES);

    // A worker whose database is unreachable stands in for a job that fails in production.
    const failing = new Worker(
      "lifecycle",
      async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
      },
      { connection: createRedis("worker"), prefix },
    );
    const job = await enqueue("closeDuePeriods", {}, { attempts: 1 });
    await expect(job.waitUntilFinished(lifecycleEvents, 15_000)).rejects.toThrow("ECONNREFUSED");
    await failing.close();

    const lifecycle = (await getQueueHealth()).find((queue) => queue.name === "lifecycle")!;
    expect(lifecycle.counts).toMatchObject({ failed: 1, waiting: 0, active: 0 });
    expect(lifecycle.failed).toEqual([
      expect.objectContaining({ id: job.id, name: "close-due-periods", error: "connect ECONNREFUSED 127.0.0.1:5432", attempts: 1 }),
    ]);

    expect(await retryFailedJob({ queueName: "lifecycle", jobId: job.id! })).toBe(true);
    expect(await retryFailedJob({ queueName: "lifecycle", jobId: job.id! })).toBe(false);
    expect(await retryFailedJob({ queueName: "no-such-queue", jobId: job.id! })).toBe(false);
    const retried = (await getQueueHealth()).find((queue) => queue.name === "lifecycle")!;
    expect(retried.counts).toMatchObject({ failed: 0, waiting: 1 });

    const running = await startWorkers({ concurrency: 1 });
    try {
      await expect(job.waitUntilFinished(lifecycleEvents, 15_000)).resolves.toEqual({ closed: [] });
    } finally {
      await running.close();
    }
    const done = (await getQueueHealth()).find((queue) => queue.name === "lifecycle")!;
    // The worker's boot also registers the recurring close job, which may have run too.
    expect(done.counts.failed).toBe(0);
    expect(done.counts.completed).toBeGreaterThanOrEqual(1);
    expect(done.failed).toEqual([]);
  });
});

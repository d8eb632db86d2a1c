import { QueueEvents } from "bullmq";
import { afterAll, beforeAll } from "vitest";
import { startWorkers } from "../../jobs/workers";
import { getEnv } from "~/env.server";
import { closeQueues } from "~/queues.server";
import { createRedis } from "~/redis.server";

/**
 * Closes this process's queues, then deletes every key under the test file's
 * QUEUE_PREFIX, so that no job, scheduler or event stream outlives the file.
 */
export async function releaseQueues(): Promise<void> {
  await closeQueues();
  const redis = createRedis("worker");
  try {
    const keys = await redis.keys(`${getEnv().QUEUE_PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts the real workers in this process and listens to one queue's events
 * for the enclosing describe block (for `job.waitUntilFinished`), and stops
 * both and releases the queues after it.
 */
export function useWorkersWithEvents(queueName: string): { readonly queueEvents: QueueEvents } {
  let running: Awaited<ReturnType<typeof startWorkers>> | undefined;
  let queueEvents: QueueEvents | undefined;
  beforeAll(async () => {
    running = await startWorkers({ concurrency: 1 });
    queueEvents = new QueueEvents(queueName, { connection: createRedis("worker"), prefix: getEnv().QUEUE_PREFIX });
    await queueEvents.waitUntilReady();
  });
  afterAll(async () => {
    await running?.close();
    await queueEvents?.close();
    await releaseQueues();
  });
  return {
    get queueEvents() {
      if (!queueEvents) throw new Error("queueEvents is ready only inside the tests of the describe block");
      return queueEvents;
    },
  };
}

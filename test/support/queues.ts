import { QueueEvents } from "bullmq";
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
 * The real workers in this process plus the events of one queue, for tests
 * that wait on `job.waitUntilFinished`. `stop` closes both; call
 * releaseQueues afterwards.
 */
export async function startWorkersWithEvents(queueName: string) {
  const running = await startWorkers({ concurrency: 1 });
  const queueEvents = new QueueEvents(queueName, { connection: createRedis("worker"), prefix: getEnv().QUEUE_PREFIX });
  await queueEvents.waitUntilReady();
  return {
    queueEvents,
    async stop() {
      await running.close();
      await queueEvents.close();
    },
  };
}

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

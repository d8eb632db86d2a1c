import { Redis, type RedisOptions } from "ioredis";
import { getEnv } from "./env.server";

/**
 * Producer connections fail fast (a web request must not hang on a dead
 * Redis); worker connections wait forever, as BullMQ requires.
 */
export function createRedis(kind: "producer" | "worker" | "subscriber", url = getEnv().REDIS_URL): Redis {
  const options: RedisOptions =
    kind === "producer"
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }
      : { maxRetriesPerRequest: null };
  const redis = new Redis(url, options);
  redis.on("error", (error) => {
    if (kind !== "producer") console.error(`redis (${kind}): ${error.message}`);
  });
  return redis;
}

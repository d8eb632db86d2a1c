import { afterAll, describe, expect, it } from "vitest";
import { getEnv } from "~/env.server";
import { METRICS_RECOMPUTE_DELAY_MS, requestMetricsRecompute } from "~/models/metrics-queue.server";
import { getQueue } from "~/queues.server";
import { createRedis } from "~/redis.server";
import { startWorkers } from "../../jobs/workers";
import { makeOpenPeriod } from "../support/factories";
import { calculatedEventsFor } from "../support/metrics";
import { releaseQueues } from "../support/queues";
import { until } from "../support/wait";

const redis = createRedis("worker");
const markKey = () => `${getEnv().QUEUE_PREFIX}:metrics:drain-requested`;
const dirtyKey = () => `${getEnv().QUEUE_PREFIX}:metrics:dirty`;

afterAll(async () => {
  await releaseQueues();
  redis.disconnect();
});

async function drainJobs() {
  return (await getQueue("metrics").getJobs(["delayed", "waiting", "active", "completed"])).filter(
    (job) => job.name === "recompute-dirty-topic-metrics",
  ).length;
}

describe("metrics recompute requests", () => {
  it("request one drain job while one is waiting, and a new one once it has claimed its topics", async () => {
    const { topics } = await makeOpenPeriod({ topicCount: 3 });
    const [first, second, third] = topics.map((topic) => topic.id);

    // No worker yet: the first request schedules the job and marks it; the others only join the dirty set.
    await requestMetricsRecompute([first]);
    await requestMetricsRecompute([second, first]);
    await requestMetricsRecompute([third]);
    expect(await drainJobs()).toBe(1);
    expect(await redis.exists(markKey())).toBe(1);
    expect((await redis.zrange(dirtyKey(), 0, -1)).sort()).toEqual([first, second, third].sort());
    // The mark lapses on its own if its job was lost with Redis.
    expect(await redis.pttl(markKey())).toBeGreaterThan(METRICS_RECOMPUTE_DELAY_MS);

    const running = await startWorkers({ concurrency: 1 });
    try {
      await until(async () => (await calculatedEventsFor(third)) === 1, "the drain to recompute every topic", 20_000);
      expect([await calculatedEventsFor(first), await calculatedEventsFor(second)]).toEqual([1, 1]);
      // Claiming removed the mark, so the next request schedules a job of its own.
      expect(await redis.exists(markKey())).toBe(0);
      await requestMetricsRecompute([second]);
      expect(await redis.exists(markKey())).toBe(1);
      await until(async () => (await calculatedEventsFor(second)) === 2, "the second drain", 20_000);
      expect(await drainJobs()).toBe(2);
      expect(await calculatedEventsFor(first)).toBe(1);
    } finally {
      await running.close();
    }
  }, 60_000);
});

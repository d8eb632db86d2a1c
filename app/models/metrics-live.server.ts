import type { Redis } from "ioredis";
import { getDb } from "../db.server";
import { getEnv } from "../env.server";
import { createRedis } from "../redis.server";
import type { TopicMetricsView } from "./metrics";
import { getPeriodMetrics } from "./metrics.server";

/**
 * Live metrics across processes: the worker publishes "these topics of this
 * period changed" on Redis after each recompute; every web process keeps one
 * subscriber and, per period, reads the period's metrics once per burst of
 * messages and hands the result to all of its open streams.
 */

type PeriodWatch = {
  listeners: Set<(topics: TopicMetricsView[]) => void>;
  refreshing: boolean;
  pending: boolean;
  timer?: NodeJS.Timeout;
};

type Hub = { publisher?: Redis; subscriber?: Redis; periods: Map<string, PeriodWatch> };

// On globalThis so dev rebuilds reuse the connections (STYLE habit 2).
const globalForLive = globalThis as unknown as { __topicmatchLiveMetrics?: Hub };
const hub: Hub = (globalForLive.__topicmatchLiveMetrics ??= { periods: new Map() });

/** Messages that arrive this close together cause one read of the period's metrics. */
const COALESCE_MS = 25;

function channelPrefix() {
  return `${getEnv().QUEUE_PREFIX}:metrics-changed:`;
}

export async function publishMetricsChanged({ periodId, topicIds }: { periodId: string; topicIds: string[] }): Promise<void> {
  // Runs in the worker, which cannot work without Redis anyway: wait for the connection rather than fail the job.
  hub.publisher ??= createRedis("worker");
  await hub.publisher.publish(`${channelPrefix()}${periodId}`, JSON.stringify({ topicIds }));
}

function subscriber(): Redis {
  if (hub.subscriber) return hub.subscriber;
  const redis = createRedis("subscriber");
  const prefix = channelPrefix();
  redis.on("message", (channel: string) => {
    if (!channel.startsWith(prefix)) return;
    const watch = hub.periods.get(channel.slice(prefix.length));
    if (watch) scheduleRefresh(channel.slice(prefix.length), watch);
  });
  hub.subscriber = redis;
  return redis;
}

function scheduleRefresh(periodId: string, watch: PeriodWatch) {
  if (watch.refreshing) {
    watch.pending = true;
    return;
  }
  if (watch.timer) return;
  watch.timer = setTimeout(() => void refresh(periodId, watch), COALESCE_MS);
}

async function refresh(periodId: string, watch: PeriodWatch) {
  watch.timer = undefined;
  watch.refreshing = true;
  try {
    const topics = await getPeriodMetrics({ db: getDb(), periodId });
    for (const listener of watch.listeners) listener(topics);
  } catch (error) {
    console.error(`live metrics: could not read period ${periodId}: ${(error as Error).message}`);
  } finally {
    watch.refreshing = false;
    if (watch.pending && watch.listeners.size > 0) {
      watch.pending = false;
      scheduleRefresh(periodId, watch);
    }
  }
}

/**
 * Calls `listener` with the period's full metrics whenever a recompute of one
 * of its topics is published. Returns the function that stops watching.
 */
export function watchPeriodMetrics(periodId: string, listener: (topics: TopicMetricsView[]) => void): () => void {
  let watch = hub.periods.get(periodId);
  if (!watch) {
    watch = { listeners: new Set(), refreshing: false, pending: false };
    hub.periods.set(periodId, watch);
    subscriber()
      .subscribe(`${channelPrefix()}${periodId}`)
      .catch((error: Error) => console.error(`live metrics: could not subscribe to period ${periodId}: ${error.message}`));
  }
  watch.listeners.add(listener);
  const current = watch;
  return () => {
    current.listeners.delete(listener);
    if (current.listeners.size > 0 || hub.periods.get(periodId) !== current) return;
    hub.periods.delete(periodId);
    clearTimeout(current.timer);
    hub.subscriber?.unsubscribe(`${channelPrefix()}${periodId}`).catch(() => {});
  };
}

export async function closeLiveMetrics(): Promise<void> {
  const { publisher, subscriber: sub } = hub;
  hub.publisher = undefined;
  hub.subscriber = undefined;
  hub.periods.clear();
  await Promise.allSettled([publisher?.quit(), sub?.quit()]);
}

import { enqueueMany, isQueueReachable } from "../queues.server";

/** How long a recompute waits after the first change, gathering the burst behind it. */
export const METRICS_RECOMPUTE_DELAY_MS = 200;

/**
 * Asks for a recompute of each topic, at most one waiting per topic.
 *
 * The first request schedules a job after METRICS_RECOMPUTE_DELAY_MS; further
 * requests while it waits are absorbed (the job reads the aggregates when it
 * runs, so it sees their changes). A request while the job is running keeps
 * one follow-up job (keepLastIfActive), so the last recompute always starts
 * after the last change. Unlike a trailing debounce (replace + extend), a
 * steady stream of saves cannot postpone the recompute forever.
 *
 * Never throws: saves must commit without Redis, and the consistency job
 * recomputes stale topics once Redis is back.
 */
export async function requestMetricsRecompute(topicIds: string[]): Promise<void> {
  const unique = [...new Set(topicIds)];
  if (unique.length === 0) return;
  if (!isQueueReachable("metrics")) {
    console.error(`metrics: Redis is unreachable, ${unique.length} topic(s) left stale; the consistency job will catch up`);
    return;
  }
  const adding = enqueueMany(
    "recomputeTopicMetrics",
    unique.map((topicId) => ({
      payload: { topicId },
      options: { delay: METRICS_RECOMPUTE_DELAY_MS, deduplication: { id: `topic-metrics:${topicId}`, keepLastIfActive: true } },
    })),
  );
  // BullMQ waits for a connection rather than failing, so a dead Redis would
  // hold the student's save; give up waiting (the add may still land later).
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
  });
  try {
    await Promise.race([adding, timeout]);
  } catch (error) {
    adding.catch(() => {});
    console.error(
      `metrics: could not request a recompute of ${unique.length} topic(s) (${(error as Error).message}); the consistency job will catch up`,
    );
  } finally {
    clearTimeout(timer);
  }
}

const ENQUEUE_TIMEOUT_MS = 1_000;

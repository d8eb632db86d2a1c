import { enqueue, isQueueReachable } from "../queues.server";

/** How long the compaction requested by a save waits, gathering the saves of a burst into one job. */
export const COMPACTION_DELAY_MS = 200;
const ENQUEUE_TIMEOUT_MS = 1_000;

/**
 * Asks for a compaction of the ranking aggregates soon, after a save that
 * added deltas has committed. One deduplication id: while a requested job
 * waits, further requests join it; while it runs, one follow-up is kept
 * (keepLastIfActive), so deltas committed during a compaction are folded
 * next. A fixed jobId would do the same while the job waits, but a failed job
 * kept for the queues page would then swallow every later request.
 *
 * Never throws and never holds a save up for long: without Redis the deltas
 * simply wait (reads stay exact) for the scheduled compaction.
 */
export async function requestAggregateCompaction(): Promise<void> {
  if (!isQueueReachable("aggregates")) return;
  const adding = enqueue(
    "compactAggregates",
    {},
    { delay: COMPACTION_DELAY_MS, deduplication: { id: "compact-aggregates-after-save", keepLastIfActive: true } },
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
  });
  try {
    await Promise.race([adding, timeout]);
  } catch (error) {
    adding.catch(() => {});
    console.error(`aggregates: could not request a compaction (${(error as Error).message}); the scheduled one will run`);
  } finally {
    clearTimeout(timer);
  }
}

import type { JobsOptions } from "bullmq";
import { z } from "zod";

/**
 * Every queue and job the system runs, declared once: names, payload schemas
 * (ids only) and default options. Producers (app/queues.server.ts) and the
 * worker (jobs/worker.ts) both read this file.
 */
export const JOBS = {
  closeDuePeriods: {
    queue: "lifecycle",
    name: "close-due-periods",
    payload: z.strictObject({}),
    options: { attempts: 3, backoff: { type: "exponential", delay: 1_000 }, removeOnComplete: 100, removeOnFail: 500 },
  },
  // One named topic on demand; saves go through requestMetricsRecompute and the batch job below.
  recomputeTopicMetrics: {
    queue: "metrics",
    name: "recompute-topic-metrics",
    payload: z.strictObject({ topicId: z.uuid() }),
    options: { attempts: 5, backoff: { type: "exponential", delay: 500 }, removeOnComplete: 1_000, removeOnFail: 1_000 },
  },
  runAssignment: {
    queue: "assignment",
    name: "run-assignment",
    payload: z.strictObject({ runId: z.uuid() }),
    options: { attempts: 3, backoff: { type: "exponential", delay: 2_000 }, removeOnComplete: 100, removeOnFail: 500 },
  },
  backfillPreferences: {
    queue: "maintenance",
    name: "backfill-preferences",
    payload: z.strictObject({ periodId: z.uuid().optional() }),
    // Resumable from its checkpoints, so a retry continues where the failed attempt stopped.
    options: { attempts: 5, backoff: { type: "exponential", delay: 5_000 }, removeOnComplete: 50, removeOnFail: 200 },
  },
  checkConsistency: {
    queue: "maintenance",
    name: "check-consistency",
    payload: z.strictObject({ periodId: z.uuid().optional() }),
    options: { attempts: 2, backoff: { type: "fixed", delay: 10_000 }, removeOnComplete: 50, removeOnFail: 200 },
  },
  // Recomputes the topics requestMetricsRecompute marked dirty, in batches (app/models/metrics-queue.server.ts).
  recomputeDirtyTopicMetrics: {
    queue: "metrics",
    name: "recompute-dirty-topic-metrics",
    payload: z.strictObject({}),
    options: { attempts: 8, backoff: { type: "exponential", delay: 250 }, removeOnComplete: 1_000, removeOnFail: 1_000 },
  },
  // Folds the ranking aggregates' buffered deltas into their trees every 2 s, many saves per pass.
  // Its own queue, so it never waits behind a backfill or a consistency check.
  compactAggregates: {
    queue: "aggregates",
    name: "compact-aggregates",
    payload: z.strictObject({}),
    options: { attempts: 3, backoff: { type: "exponential", delay: 500 }, removeOnComplete: 100, removeOnFail: 500 },
  },
} as const satisfies Record<
  string,
  { queue: string; name: string; payload: z.ZodType; options: JobsOptions }
>;

export type JobKey = keyof typeof JOBS;
export type JobPayload<K extends JobKey> = z.infer<(typeof JOBS)[K]["payload"]>;

export const QUEUE_NAMES = [...new Set(Object.values(JOBS).map((job) => job.queue))];
export type QueueName = (typeof JOBS)[JobKey]["queue"];

/** Recurring work, registered with upsertJobScheduler when the worker boots. */
export const SCHEDULES: { id: string; job: JobKey; every: number }[] = [
  { id: "close-due-periods-every-minute", job: "closeDuePeriods", every: 60_000 },
  // Also how topics whose recompute was lost while Redis was down get caught up.
  { id: "check-consistency-every-5-minutes", job: "checkConsistency", every: 5 * 60_000 },
  // Reads stay exact either way; compacting keeps the deltas readers add up few.
  { id: "compact-aggregates-every-2-seconds", job: "compactAggregates", every: 2_000 },
];

export function jobByName(queue: string, name: string): JobKey | undefined {
  return (Object.keys(JOBS) as JobKey[]).find((key) => JOBS[key].queue === queue && JOBS[key].name === name);
}

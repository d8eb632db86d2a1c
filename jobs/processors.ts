import type { Job } from "bullmq";
import { getDb, withTransaction } from "../app/db.server";
import { recomputeTopicMetrics, recomputeTopicsMetrics } from "../app/models/metrics.server";
import { claimDirtyTopics, finishClaim } from "../app/models/metrics-queue.server";
import { publishMetricsChanged } from "../app/models/metrics-live.server";
import { closeDuePeriods } from "../app/models/period.server";
import { JOBS, type JobKey, type JobPayload } from "./catalogue";

type Processor<K extends JobKey> = (payload: JobPayload<K>, job: Job) => Promise<unknown>;

/** Thin processors: validate the payload (done by the worker) and call a model function. */
export const PROCESSORS: { [K in JobKey]: Processor<K> } = {
  closeDuePeriods: async () => {
    const closed = await withTransaction(getDb(), (tx) => closeDuePeriods({ tx }));
    return { closed };
  },
  recomputeTopicMetrics: async ({ topicId }, job) => {
    // The job id and creation time identify the recompute, so a retry after a
    // crash recognises the trend point and event its first attempt committed.
    const result = await recomputeTopicMetrics({
      db: getDb(),
      topicId,
      recomputeId: job.id!,
      requestedAt: new Date(job.timestamp),
    });
    if (!result) return { missing: true };
    await publishMetricsChanged({ periodId: result.periodId, topicIds: [topicId] });
    return { studentCount: result.view.studentCount, averagePosition: result.view.averagePosition, replayed: result.replayed };
  },
  recomputeDirtyTopicMetrics: async (_payload, job) => {
    const topicIds = await claimDirtyTopics(job.id!);
    const results = await recomputeTopicsMetrics({
      db: getDb(),
      topicIds,
      recomputeId: job.id!,
      requestedAt: new Date(job.timestamp),
    });
    const byPeriod = new Map<string, string[]>();
    for (const { periodId, view } of results) byPeriod.set(periodId, [...(byPeriod.get(periodId) ?? []), view.topicId]);
    await Promise.all([...byPeriod].map(([periodId, changed]) => publishMetricsChanged({ periodId, topicIds: changed })));
    await finishClaim(job.id!);
    return { recomputed: results.length, replayed: results.filter((result) => result.replayed).length };
  },
};

export { JOBS };

import type { Job } from "bullmq";
import { getDb, withTransaction } from "../app/db.server";
import { recomputeTopicMetrics } from "../app/models/metrics.server";
import { publishMetricsChanged } from "../app/models/metrics-live.server";
import { executeAssignmentRun } from "../app/models/assignment/runs.server";
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
  runAssignment: async ({ runId }, job) =>
    executeAssignmentRun({ db: getDb(), runId, onProgress: (progress) => job.updateProgress(progress) }),
};

export { JOBS };

import type { Job } from "bullmq";
import { getDb, withTransaction } from "../app/db.server";
import { recomputeTopicMetrics, recomputeTopicsMetrics } from "../app/models/metrics.server";
import { claimDirtyTopics, finishClaim, requestMetricsRecompute } from "../app/models/metrics-queue.server";
import { publishMetricsChanged } from "../app/models/metrics-live.server";
import { executeAssignmentRun, markAssignmentRunFailed } from "../app/models/assignment/runs.server";
import { backfillPreferences, type BackfillProgress } from "../app/models/backfill.server";
import { runConsistencyCheck } from "../app/models/consistency.server";
import { closeDuePeriods } from "../app/models/period.server";
import { compactRankingAggregates } from "../app/models/ranking-aggregates.server";
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
  backfillPreferences: async ({ periodId }, job) => {
    const report = await backfillPreferences({ db: getDb(), periodId, onProgress: throttledProgress(job) });
    const { problems, ...counts } = report;
    return { ...counts, problems: problems.slice(0, MAX_PROBLEMS_IN_RESULT), problemCount: problems.length };
  },
  checkConsistency: async ({ periodId }) => {
    const run = await runConsistencyCheck({ db: getDb(), periodId, trigger: "job", requestRecompute: requestMetricsRecompute });
    return {
      runId: run.id,
      differences: run.before.differences.length,
      invalidTrees: run.before.invalidTrees.length,
      repaired: run.repaired.map(({ aggregate, namespace }) => `${aggregate}/${namespace}`),
      staleTopicIds: run.staleTopicIds,
    };
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
  compactAggregates: async () => {
    // Runs every 2 s, so it logs only trouble; its counts are the job's result on the queues page.
    const totals = await compactRankingAggregates(getDb(), { paced: true });
    if (totals.anomalies > 0) {
      console.warn(
        `compact-aggregates: ${totals.anomalies} deltas did not match their trees; the consistency check repairs the aggregates`,
      );
    }
    return totals;
  },
};

/** What to record when a job has failed for good (no retry left), for jobs whose rows track their own state. */
export const ON_FINAL_FAILURE: { [K in JobKey]?: (payload: JobPayload<K>, error: Error) => Promise<unknown> } = {
  runAssignment: ({ runId }, error) =>
    markAssignmentRunFailed({
      db: getDb(),
      runId,
      reason: /stalled/.test(error.message)
        ? "The worker running this job stopped repeatedly (crashed or was killed); start a new run."
        : `The run failed on every attempt: ${error.message}`,
    }),
};

/** Job results live in Redis; the full list of rejected rows is the CLI's to print. */
const MAX_PROBLEMS_IN_RESULT = 50;

/** Reports progress to BullMQ about once per percent instead of once per row. */
function throttledProgress(job: Job) {
  let reported = -1;
  return async (progress: BackfillProgress) => {
    const step = Math.max(1, Math.ceil(progress.total / 100));
    if (progress.done === progress.total || progress.done - reported >= step) {
      reported = progress.done;
      await job.updateProgress(progress);
    }
  };
}

export { JOBS };

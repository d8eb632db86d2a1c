import type { Job } from "bullmq";
import { getDb, withTransaction } from "../app/db.server";
import { executeAssignmentRun, markAssignmentRunFailed } from "../app/models/assignment/runs.server";
import { closeDuePeriods } from "../app/models/period.server";
import { JOBS, type JobKey, type JobPayload } from "./catalogue";

type Processor<K extends JobKey> = (payload: JobPayload<K>, job: Job) => Promise<unknown>;

/** Thin processors: validate the payload (done by the worker) and call a model function. */
export const PROCESSORS: { [K in JobKey]: Processor<K> } = {
  closeDuePeriods: async () => {
    const closed = await withTransaction(getDb(), (tx) => closeDuePeriods({ tx }));
    return { closed };
  },
  runAssignment: async ({ runId }, job) =>
    executeAssignmentRun({ db: getDb(), runId, onProgress: (progress) => job.updateProgress(progress) }),
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

export { JOBS };

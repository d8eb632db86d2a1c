import type { Job } from "bullmq";
import { getDb, withTransaction } from "../app/db.server";
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
  runAssignment: async ({ runId }, job) =>
    executeAssignmentRun({ db: getDb(), runId, onProgress: (progress) => job.updateProgress(progress) }),
};

export { JOBS };

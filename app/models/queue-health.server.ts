import { getQueue, QUEUE_NAMES } from "../queues.server";

export type QueueHealth = {
  name: string;
  counts: { waiting: number; active: number; failed: number; delayed: number; completed: number };
  failed: { id: string; name: string; error: string; attempts: number; failedAt: string | null; data: string }[];
};

export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis did not answer: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "QueueUnavailableError";
  }
}

function isKnownQueue(name: string): boolean {
  return QUEUE_NAMES.includes(name as (typeof QUEUE_NAMES)[number]);
}

/** Job counts of every catalogued queue and its most recent failed jobs with their errors. */
export async function getQueueHealth({ failedLimit = 20 }: { failedLimit?: number } = {}): Promise<QueueHealth[]> {
  try {
    return await Promise.all(
      QUEUE_NAMES.map(async (name) => {
        const queue = getQueue(name);
        const [counts, failed] = await Promise.all([
          queue.getJobCounts("waiting", "active", "failed", "delayed", "completed"),
          queue.getFailed(0, failedLimit - 1),
        ]);
        return {
          name,
          counts: {
            waiting: counts.waiting ?? 0,
            active: counts.active ?? 0,
            failed: counts.failed ?? 0,
            delayed: counts.delayed ?? 0,
            completed: counts.completed ?? 0,
          },
          failed: failed
            .filter((job) => job?.id)
            .map((job) => ({
              id: job.id!,
              name: job.name,
              error: job.failedReason ?? "",
              attempts: job.attemptsMade,
              failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
              data: JSON.stringify(job.data),
            })),
        };
      }),
    );
  } catch (error) {
    throw new QueueUnavailableError(error);
  }
}

/** Moves a failed job back to waiting. Answers false when the job is gone or not failed (someone retried it already). */
export async function retryFailedJob({ queueName, jobId }: { queueName: string; jobId: string }): Promise<boolean> {
  if (!isKnownQueue(queueName)) return false;
  const job = await getQueue(queueName).getJob(jobId);
  if (!job || !(await job.isFailed())) return false;
  await job.retry("failed");
  return true;
}

export function knownQueueNames(): readonly string[] {
  return QUEUE_NAMES;
}

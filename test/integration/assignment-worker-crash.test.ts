import { and, count, eq } from "drizzle-orm";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { assignmentRuns, assignments, events } from "../../drizzle/schema";
import { getDb } from "~/db.server";
import { getEnv } from "~/env.server";
import { requestAssignmentRun } from "~/models/assignment/runs.server";
import { getQueue } from "~/queues.server";
import { createRedis } from "~/redis.server";
import { startWorkerProcess, type RunningProcess } from "../support/app-server";
import { makeLargeClosedPeriod } from "../support/bulk";
import { makeUser } from "../support/factories";
import { releaseQueues } from "../support/queues";

const db = getDb();
// Short lock and check so a dead worker's job is picked up in seconds rather than a minute.
const FAST_RECOVERY = { WORKER_LOCK_MS: "3000", WORKER_STALLED_CHECK_MS: "1000" };
const started: RunningProcess[] = [];

// A worker left over from one test would take the next test's job.
afterEach(async () => {
  await Promise.all(started.splice(0).map((process) => process.stop()));
});

afterAll(async () => {
  await releaseQueues();
});

async function runState(runId: string) {
  const [run] = await db.select().from(assignmentRuns).where(eq(assignmentRuns.id, runId));
  return run;
}

async function jobHash(runId: string) {
  const redis = createRedis("worker");
  try {
    return await redis.hgetall(`${getEnv().QUEUE_PREFIX}:assignment:${runId}`);
  } finally {
    redis.disconnect();
  }
}

async function assignmentRowCount(runId: string) {
  const [{ rows }] = await db.select({ rows: count() }).from(assignments).where(eq(assignments.runId, runId));
  return rows;
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, pollMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

describe("a worker killed in the middle of an assignment run", () => {
  it("has its job retried by another worker, which finishes the run once: one set of rows, one ALGORITHM_EXECUTED", async () => {
    // Large enough that loading and solving take a good fraction of a second, so the kill lands mid-job.
    const { periodId } = await makeLargeClosedPeriod({ students: 5_000, topicCount: 200, capacity: 28, rankLength: 10, seed: 7 });
    const admin = await makeUser({ role: "admin" });

    const doomed = await startWorkerProcess(FAST_RECOVERY);
    started.push(doomed);
    const run = await requestAssignmentRun({
      db,
      periodId,
      objective: "linear",
      seed: 1,
      unassignedPolicy: "leave",
      actor: { actorId: admin.id, sessionId: null },
    });

    const picked = await waitFor(() => runState(run.id), (state) => state.status !== "queued", 20_000);
    expect(picked.status).toBe("running");
    await doomed.crash();

    // The kill came before the save committed: nothing of the run is stored yet.
    const afterKill = await runState(run.id);
    expect(afterKill.status).toBe("running");
    expect(await assignmentRowCount(run.id)).toBe(0);

    const rescuer = await startWorkerProcess(FAST_RECOVERY);
    started.push(rescuer);
    const finished = await waitFor(() => runState(run.id), (state) => state.status === "succeeded" || state.status === "failed", 25_000, 100);
    expect(finished).toMatchObject({ status: "succeeded", stage: "done", progress: 100, studentCount: 5_000, error: null });

    expect(await assignmentRowCount(run.id)).toBe(5_000);
    const executed = await db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.type, "ALGORITHM_EXECUTED"), eq(events.periodId, periodId)));
    expect(executed).toHaveLength(1);
    expect(executed[0].payload).toMatchObject({ runId: run.id, inputHash: finished.inputHash });

    // It was the stalled-job recovery that brought the job back, not a second enqueue.
    const job = await getQueue("assignment").getJob(run.id);
    expect(job?.returnvalue).toEqual({ runId: run.id, status: "succeeded", replayed: false });
    const stored = await jobHash(run.id);
    expect({ stalled: stored.stc, started: stored.ats }).toEqual({ stalled: "1", started: "2" });
  });

  it("marks the run failed, with nothing stored, when its workers die on every try", async () => {
    const { periodId } = await makeLargeClosedPeriod({ students: 5_000, topicCount: 200, capacity: 28, rankLength: 10, seed: 8 });
    const first = await startWorkerProcess(FAST_RECOVERY);
    started.push(first);
    const admin = await makeUser({ role: "admin" });
    const run = await requestAssignmentRun({
      db,
      periodId,
      objective: "generous",
      seed: 1,
      unassignedPolicy: "leave",
      actor: { actorId: admin.id, sessionId: null },
    });
    await waitFor(() => runState(run.id), (state) => state.status === "running", 20_000);
    await first.crash();

    const second = await startWorkerProcess(FAST_RECOVERY);
    started.push(second);
    // The job starts a second time; kill that worker too before it can save.
    await waitFor(() => jobHash(run.id), (hash) => hash.ats === "2", 20_000);
    await second.crash();
    expect(await assignmentRowCount(run.id)).toBe(0);

    // BullMQ allows one stall; the third worker fails the job instead of running it.
    const third = await startWorkerProcess(FAST_RECOVERY);
    started.push(third);
    const failed = await waitFor(() => runState(run.id), (state) => state.status !== "running", 25_000, 100);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("The worker running this job stopped repeatedly (crashed or was killed); start a new run.");
    expect(await assignmentRowCount(run.id)).toBe(0);
    const executed = await db.select().from(events).where(and(eq(events.type, "ALGORITHM_EXECUTED"), eq(events.periodId, periodId)));
    expect(executed).toEqual([]);
    expect((await jobHash(run.id)).failedReason).toMatch(/stalled more than allowable limit/);
  });
});

import { QueueEvents } from "bullmq";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignmentRuns, assignments, events, selectionPeriods } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import { getEnv } from "~/env.server";
import {
  AssignmentError,
  compareRuns,
  executeAssignmentRun,
  explainStudentAssignment,
  getPublishedResult,
  overrideAssignment,
  publishAssignmentRun,
  requestAssignmentRun,
  type RunProgress,
} from "~/models/assignment/runs.server";
import { solveAssignment } from "~/models/assignment/solver";
import { generatePreferences } from "~/models/assignment/synthetic";
import { closePeriod, createPeriod, createTopic } from "~/models/period.server";
import { ensureRankings } from "~/models/seed.server";
import { getQueue } from "~/queues.server";
import { createRedis } from "~/redis.server";
import { startWorkers } from "../../jobs/workers";
import { makeOpenPeriod, makeUser } from "../support/factories";
import { releaseQueues } from "../support/queues";

const SYSTEM = { actorId: null, actorType: "system" as const, sessionId: "test" };
const db = getDb();

type Fixture = Awaited<ReturnType<typeof makeClosedPeriod>>;

/** A closed period where 5 topics of 2 seats face 12 students with skewed, partly partial lists. */
async function makeClosedPeriod() {
  const { period, topics } = await makeOpenPeriod({ topicCount: 5, capacity: 2 });
  const students = await Promise.all(Array.from({ length: 12 }, () => makeUser()));
  const generated = generatePreferences({
    students: students.map((student) => student.id),
    topics: topics.map((topic) => topic.id),
    zipfExponent: 1.2,
    seed: 11,
  });
  const lists = students.map((student, index) => ({
    studentId: student.id,
    // Every third student ranks only their top 2, so some cannot be placed on a ranked topic.
    order: index % 3 === 0 ? generated.rankings[student.id].slice(0, 2) : generated.rankings[student.id],
  }));
  await ensureRankings({ db, periodId: period.id, rankings: lists });
  await withTransaction(db, (tx) => closePeriod({ tx, periodId: period.id, actor: SYSTEM }));
  return { period, topics, students, lists };
}

/** A closed period of one-seat topics; `lists` gives each student's ranking as topic indexes. */
async function makeClosedPeriodWith({ topicCount, lists }: { topicCount: number; lists: number[][] }) {
  const { period, topics } = await makeOpenPeriod({ topicCount, capacity: 1 });
  const students = await Promise.all(lists.map(() => makeUser()));
  const orders = lists.map((list, index) => ({ studentId: students[index].id, order: list.map((topic) => topics[topic].id) }));
  await ensureRankings({ db, periodId: period.id, rankings: orders });
  await withTransaction(db, (tx) => closePeriod({ tx, periodId: period.id, actor: SYSTEM }));
  return { period, topics, students, lists: orders };
}

/** The problem as the test sees it: ids sorted, every list as it was given. */
function expectedProblem(fixture: Fixture) {
  return {
    students: fixture.students.map((student) => student.id).sort(),
    topics: fixture.topics.map((topic) => ({ id: topic.id, capacity: topic.capacity })).sort((a, b) => a.id.localeCompare(b.id)),
    rankings: Object.fromEntries(fixture.lists.map((list) => [list.studentId, list.order])),
  };
}

async function storedAssignments(runId: string) {
  const rows = await db.select().from(assignments).where(eq(assignments.runId, runId));
  return Object.fromEntries(rows.map((row) => [row.studentId, row.topicId]));
}

let admin: Awaited<ReturnType<typeof makeUser>>;
let running: Awaited<ReturnType<typeof startWorkers>>;
let queueEvents: QueueEvents;

beforeAll(async () => {
  admin = await makeUser({ role: "admin" });
  running = await startWorkers({ concurrency: 2 });
  queueEvents = new QueueEvents("assignment", { connection: createRedis("worker"), prefix: getEnv().QUEUE_PREFIX });
  await queueEvents.waitUntilReady();
});

afterAll(async () => {
  await running?.close();
  await queueEvents?.close();
  await releaseQueues();
});

const actor = () => ({ actorId: admin.id, sessionId: "test-session" });

async function runThroughWorker(fixture: Fixture, options: { objective?: "linear" | "generous" | "rank-maximal"; seed?: number } = {}) {
  const run = await requestAssignmentRun({
    db,
    periodId: fixture.period.id,
    objective: options.objective ?? "linear",
    seed: options.seed ?? 7,
    unassignedPolicy: "leave",
    actor: actor(),
  });
  const job = await getQueue("assignment").getJob(run.id);
  expect(job).toBeDefined();
  await job!.waitUntilFinished(queueEvents, 30_000);
  const [stored] = await db.select().from(assignmentRuns).where(eq(assignmentRuns.id, run.id));
  return stored;
}

describe("running an assignment", () => {
  it("stores, through the worker, exactly what solveAssignment gives for the period, and records it", async () => {
    const fixture = await makeClosedPeriod();
    const stages: string[] = [];
    const onProgress = ({ data }: { jobId: string; data: unknown }) => stages.push((data as RunProgress).stage);
    queueEvents.on("progress", onProgress);
    const run = await runThroughWorker(fixture, { objective: "rank-maximal", seed: 42 });
    queueEvents.off("progress", onProgress);

    const expected = solveAssignment({ ...expectedProblem(fixture), objective: "rank-maximal", unassignedPolicy: "leave", seed: 42 });
    expect(await storedAssignments(run.id)).toEqual(expected.assignments);
    expect(run).toMatchObject({
      status: "succeeded",
      stage: "done",
      progress: 100,
      profile: expected.profile,
      objectiveValue: expected.objectiveValue,
      studentCount: 12,
      unassignedCount: expected.unassigned.length,
    });
    expect(stages).toEqual(["loading", "solving", "saving", "done"]);

    const rows = await db.select().from(assignments).where(eq(assignments.runId, run.id));
    for (const row of rows) {
      const list = fixture.lists.find((entry) => entry.studentId === row.studentId)!.order;
      expect(row.rank).toBe(row.topicId === null ? null : list.indexOf(row.topicId) + 1);
    }

    const [event] = await db.select().from(events).where(eq(events.type, "ALGORITHM_EXECUTED"));
    expect(event.payload).toEqual({
      runId: run.id,
      objective: "rank-maximal",
      seed: 42,
      inputHash: run.inputHash,
      assignments: 12 - expected.unassigned.length,
      profile: expected.profile,
    });
    const [period] = await db.select().from(selectionPeriods).where(eq(selectionPeriods.id, fixture.period.id));
    expect(period.status).toBe("assigned");
  });

  it("is reproducible: the same inputs and seed give the same assignments and input hash", async () => {
    const fixture = await makeClosedPeriod();
    const first = await runThroughWorker(fixture, { seed: 3 });
    const second = await runThroughWorker(fixture, { seed: 3 });
    expect(second.inputHash).toBe(first.inputHash);
    expect(first.inputHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await storedAssignments(second.id)).toEqual(await storedAssignments(first.id));
    const comparison = await compareRuns({ db, periodId: fixture.period.id, runIds: [first.id, second.id] });
    expect(comparison.sameInput).toBe(true);
    expect(comparison.differences).toEqual([]);
  });

  it("does not duplicate rows or events when the job runs again or overlaps itself", async () => {
    const fixture = await makeClosedPeriod();
    const [run] = await db
      .insert(assignmentRuns)
      .values({ periodId: fixture.period.id, objective: "generous", seed: 1, unassignedPolicy: "any-free-seat", requestedBy: admin.id })
      .returning();
    const outcomes = await Promise.all([executeAssignmentRun({ db, runId: run.id }), executeAssignmentRun({ db, runId: run.id })]);
    expect(outcomes.map((outcome) => outcome.replayed).sort()).toEqual([false, true]);
    const again = await executeAssignmentRun({ db, runId: run.id });
    expect(again.replayed).toBe(true);

    const rows = await db.select().from(assignments).where(eq(assignments.runId, run.id));
    expect(rows).toHaveLength(12);
    const recorded = await db.select().from(events).where(and(eq(events.type, "ALGORITHM_EXECUTED"), eq(events.periodId, fixture.period.id)));
    expect(recorded).toHaveLength(1);
  });

  it("refuses a period that has not closed, with nothing stored", async () => {
    const { period } = await makeOpenPeriod();
    await expect(
      requestAssignmentRun({ db, periodId: period.id, objective: "linear", seed: 1, unassignedPolicy: "leave", actor: actor() }),
    ).rejects.toMatchObject({ status: 409, message: expect.stringContaining("open") });
    expect(await db.select().from(assignmentRuns).where(eq(assignmentRuns.periodId, period.id))).toEqual([]);
  });

  it("marks the run failed with the reason when the period was published meanwhile", async () => {
    const fixture = await makeClosedPeriod();
    const published = await runThroughWorker(fixture);
    const [late] = await db
      .insert(assignmentRuns)
      .values({ periodId: fixture.period.id, objective: "linear", seed: 1, unassignedPolicy: "leave" })
      .returning();
    await publishAssignmentRun({ db, periodId: fixture.period.id, runId: published.id, actor: actor() });
    await expect(executeAssignmentRun({ db, runId: late.id })).rejects.toThrow(/published/);
    const [stored] = await db.select().from(assignmentRuns).where(eq(assignmentRuns.id, late.id));
    expect(stored.status).toBe("failed");
    expect(stored.error).toMatch(/published/);
    expect(await db.select().from(assignments).where(eq(assignments.runId, late.id))).toEqual([]);
  });
});

describe("overriding one student", () => {
  it("requires a reason and a free seat, and records ASSIGNMENT_OVERRIDDEN when both hold", async () => {
    // Topics A, B, C of one seat; five students all rank [A, B]: A and B fill, three stay out, C stays free.
    const fixture = await makeClosedPeriodWith({ topicCount: 3, lists: Array.from({ length: 5 }, () => [0, 1]) });
    const run = await runThroughWorker(fixture);
    const [topicA, topicB, topicC] = fixture.topics;
    const placed = await db.select().from(assignments).where(eq(assignments.runId, run.id));
    const onB = placed.find((row) => row.topicId === topicB.id)!;
    const left = placed.find((row) => row.topicId === null)!;
    const base = { db, periodId: fixture.period.id, runId: run.id, actor: actor() };

    await expect(overrideAssignment({ ...base, studentId: onB.studentId, topicId: topicC.id, reason: "  " })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("reason"),
    });
    await expect(overrideAssignment({ ...base, studentId: left.studentId, topicId: topicA.id, reason: "Supervisor asked" })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("is full"),
    });
    const elsewhere = await makeOpenPeriod({ topicCount: 1 });
    await expect(
      overrideAssignment({ ...base, studentId: left.studentId, topicId: elsewhere.topics[0].id, reason: "Wrong period" }),
    ).rejects.toMatchObject({ status: 400 });
    expect(await storedAssignments(run.id)).toEqual(Object.fromEntries(placed.map((row) => [row.studentId, row.topicId])));
    expect(await db.select().from(events).where(eq(events.type, "ASSIGNMENT_OVERRIDDEN"))).toEqual([]);

    await overrideAssignment({ ...base, studentId: onB.studentId, topicId: topicC.id, reason: "Medical reasons" });
    await overrideAssignment({ ...base, studentId: left.studentId, topicId: topicB.id, reason: "Seat freed on B" });
    const after = await db.select().from(assignments).where(eq(assignments.runId, run.id));
    const rowOf = (studentId: string) => after.find((row) => row.studentId === studentId);
    expect(rowOf(onB.studentId)).toMatchObject({
      topicId: topicC.id,
      rank: null,
      overridden: true,
      overrideReason: "Medical reasons",
      overriddenBy: admin.id,
    });
    expect(rowOf(left.studentId)).toMatchObject({ topicId: topicB.id, rank: 2, overridden: true });
    const recorded = await db.select().from(events).where(eq(events.type, "ASSIGNMENT_OVERRIDDEN")).orderBy(events.id);
    expect(recorded.map((event) => event.payload)).toEqual([
      { runId: run.id, studentId: onB.studentId, fromTopicId: topicB.id, toTopicId: topicC.id, reason: "Medical reasons" },
      { runId: run.id, studentId: left.studentId, fromTopicId: null, toTopicId: topicB.id, reason: "Seat freed on B" },
    ]);
  });

  it("lets only one of two concurrent overrides take the last seat", async () => {
    const fixture = await makeClosedPeriodWith({ topicCount: 3, lists: Array.from({ length: 5 }, () => [0, 1]) });
    const run = await runThroughWorker(fixture);
    const topicC = fixture.topics[2];
    const left = (await db.select().from(assignments).where(eq(assignments.runId, run.id))).filter((row) => row.topicId === null);
    expect(left).toHaveLength(3);
    const results = await Promise.allSettled(
      left.map((row) =>
        overrideAssignment({ db, periodId: fixture.period.id, runId: run.id, studentId: row.studentId, topicId: topicC.id, reason: "Race", actor: actor() }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected", "rejected"]);
    const onC = await db.select().from(assignments).where(and(eq(assignments.runId, run.id), eq(assignments.topicId, topicC.id)));
    expect(onC).toHaveLength(1);
  });
});

describe("publishing", () => {
  it("publishes one run, refuses a second publication, and only then shows each student their own result", async () => {
    const fixture = await makeClosedPeriod();
    const linear = await runThroughWorker(fixture, { objective: "linear" });
    const rankMaximal = await runThroughWorker(fixture, { objective: "rank-maximal" });
    const student = fixture.students[1];

    expect(await getPublishedResult({ db, studentId: student.id, periodId: fixture.period.id })).toBeNull();

    await publishAssignmentRun({ db, periodId: fixture.period.id, runId: rankMaximal.id, actor: actor() });
    for (const runId of [rankMaximal.id, linear.id]) {
      await expect(publishAssignmentRun({ db, periodId: fixture.period.id, runId, actor: actor() })).rejects.toMatchObject({
        status: 409,
        message: expect.stringContaining("already published"),
      });
    }
    const runs = await db.select().from(assignmentRuns).where(eq(assignmentRuns.periodId, fixture.period.id));
    expect(runs.filter((run) => run.publishedAt !== null).map((run) => run.id)).toEqual([rankMaximal.id]);
    const [period] = await db.select().from(selectionPeriods).where(eq(selectionPeriods.id, fixture.period.id));
    expect(period.status).toBe("published");
    const published = await db
      .select()
      .from(events)
      .where(and(eq(events.type, "SELECTION_PERIOD_PUBLISHED"), eq(events.periodId, fixture.period.id)));
    expect(published.map((event) => event.payload)).toEqual([{ periodId: fixture.period.id, runId: rankMaximal.id }]);

    const result = await getPublishedResult({ db, studentId: student.id, periodId: fixture.period.id });
    const stored = await storedAssignments(rankMaximal.id);
    expect(result?.topic?.id ?? null).toBe(stored[student.id]);
    const list = fixture.lists[1].order;
    expect(result?.rank).toBe(stored[student.id] ? list.indexOf(stored[student.id]!) + 1 : null);
    expect(result?.listLength).toBe(list.length);

    await expect(
      requestAssignmentRun({ db, periodId: fixture.period.id, objective: "linear", seed: 1, unassignedPolicy: "leave", actor: actor() }),
    ).rejects.toMatchObject({ status: 409 });
    await expect(
      overrideAssignment({
        db,
        periodId: fixture.period.id,
        runId: rankMaximal.id,
        studentId: student.id,
        topicId: null,
        reason: "Too late",
        actor: actor(),
      }),
    ).rejects.toMatchObject({ status: 409 });
  });

  it("refuses to publish an unfinished run", async () => {
    const fixture = await makeClosedPeriod();
    await runThroughWorker(fixture);
    const [queued] = await db
      .insert(assignmentRuns)
      .values({ periodId: fixture.period.id, objective: "linear", seed: 1, unassignedPolicy: "leave" })
      .returning();
    await expect(publishAssignmentRun({ db, periodId: fixture.period.id, runId: queued.id, actor: actor() })).rejects.toBeInstanceOf(
      AssignmentError,
    );
    const [period] = await db.select().from(selectionPeriods).where(eq(selectionPeriods.id, fixture.period.id));
    expect(period.status).toBe("assigned");
  });
});

describe("explanations", () => {
  it("counts applicants and placements from the data", async () => {
    const fixture = await makeClosedPeriod();
    const run = await runThroughWorker(fixture);
    const rows = await db.select().from(assignments).where(eq(assignments.runId, run.id));
    const moved = rows.find((row) => row.rank !== null && row.rank >= 2) ?? rows.find((row) => row.topicId === null)!;
    const list = fixture.lists.find((entry) => entry.studentId === moved.studentId)!.order;
    const firstChoice = list[0];
    const applicants = fixture.lists.filter((entry) => entry.order[0] === firstChoice).length;
    const title = fixture.topics.find((topic) => topic.id === firstChoice)!.title;

    const lines = await explainStudentAssignment({ db, run, studentId: moved.studentId, voice: "admin" });
    expect(lines.find((line) => line.includes(`1st choice, ${title},`))).toContain(
      `had ${applicants} applicant${applicants === 1 ? "" : "s"} for 2 seats (students who ranked it 1st)`,
    );
  });
});

describe("an empty period", () => {
  it("stores a run with no students", async () => {
    const period = await withTransaction(db, async (tx) => {
      const created = await createPeriod({ tx, title: "Nobody ranked" });
      await createTopic({ tx, periodId: created.id, title: "Lonely", capacity: 1, actor: SYSTEM });
      return created;
    });
    await db.update(selectionPeriods).set({ status: "closed" }).where(eq(selectionPeriods.id, period.id));
    const run = await runThroughWorker({ period, topics: [], students: [], lists: [] } as unknown as Fixture);
    expect(run).toMatchObject({ status: "succeeded", studentCount: 0, profile: [] });
  });
});

import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignmentRuns, assignments, selectionPeriods } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import { executeAssignmentRun } from "~/models/assignment/runs.server";
import { closePeriod } from "~/models/period.server";
import { ensureRankings } from "~/models/seed.server";
import { action as runsAction, loader as runsLoader } from "~/routes/admin.periods.$periodId.assignment";
import { action as runAction, loader as runLoader } from "~/routes/admin.periods.$periodId.assignment_.$runId";
import { loader as csvLoader } from "~/routes/admin.periods.$periodId.assignment_.$runId.csv";
import { loader as compareLoader } from "~/routes/admin.periods.$periodId.assignment_.compare";
import { action as loginAction } from "~/routes/login";
import { loader as resultLoader } from "~/routes/student.result";
import { makeOpenPeriod, makeUser, TEST_PASSWORD } from "../support/factories";
import { releaseQueues } from "../support/queues";
import { callRoute, getRequest, postRequest, type RouteHandler } from "../support/routes";

const db = getDb();

async function signIn(email: string) {
  const response = await callRoute(loginAction as RouteHandler, postRequest("/login", { email, password: TEST_PASSWORD }));
  expect(response.status).toBe(302);
  return response.headers.get("Set-Cookie")!.split(";")[0];
}

const SYSTEM = { actorId: null, actorType: "system" as const, sessionId: "test" };

let periodId: string;
let topicIds: string[];
let studentIds: string[];
let adminCookie: string;
let studentCookies: string[];
let runId: string;
let otherRunId: string;

beforeAll(async () => {
  // Three one-seat topics; four students rank [A, B]: A and B fill, two students are left out, C stays free.
  const { period, topics } = await makeOpenPeriod({ topicCount: 3, capacity: 1 });
  periodId = period.id;
  topicIds = topics.map((topic) => topic.id);
  const admin = await makeUser({ role: "admin" });
  const students = await Promise.all(Array.from({ length: 4 }, (_, index) => makeUser({ name: `Student ${index + 1}` })));
  studentIds = students.map((student) => student.id);
  await ensureRankings({ db, periodId, rankings: studentIds.map((studentId) => ({ studentId, order: [topicIds[0], topicIds[1]] })) });
  await withTransaction(db, (tx) => closePeriod({ tx, periodId, actor: SYSTEM }));
  adminCookie = await signIn(admin.email);
  studentCookies = await Promise.all(students.map((student) => signIn(student.email)));
});

afterAll(async () => {
  await releaseQueues();
});

const base = () => `/admin/periods/${periodId}/assignment`;

describe("the admin assignment pages", () => {
  it("start a run from the form, refusing bad input with a 400 and a message per field", async () => {
    const bad = await callRoute(runsAction as RouteHandler, postRequest(base(), { objective: "fastest", seed: "-3", unassignedPolicy: "leave" }, adminCookie), {
      periodId,
    });
    expect(bad.status).toBe(400);
    const { errors } = (await bad.json()) as { errors: Record<string, string> };
    expect(errors.objective).toMatch(/objective/i);
    expect(errors.seed).toMatch(/between 0/);
    expect(await db.select().from(assignmentRuns).where(eq(assignmentRuns.periodId, periodId))).toEqual([]);

    for (const objective of ["linear", "rank-maximal"]) {
      const started = await callRoute(runsAction as RouteHandler, postRequest(base(), { objective, seed: "5", unassignedPolicy: "leave" }, adminCookie), {
        periodId,
      });
      expect(started.status).toBe(302);
    }
    const runs = await db.select().from(assignmentRuns).where(eq(assignmentRuns.periodId, periodId)).orderBy(assignmentRuns.createdAt);
    expect(runs.map((run) => [run.objective, run.status])).toEqual([
      ["linear", "queued"],
      ["rank-maximal", "queued"],
    ]);
    [runId, otherRunId] = runs.map((run) => run.id);
    // The queued jobs are executed here directly; the worker path has its own test.
    for (const run of runs) await executeAssignmentRun({ db, runId: run.id });

    const page = await callRoute(runsLoader as RouteHandler, getRequest(base(), adminCookie), { periodId });
    const body = (await page.json()) as { runs: { id: string; status: string; progress: number }[] };
    expect(body.runs.map((run) => [run.status, run.progress])).toEqual([
      ["succeeded", 100],
      ["succeeded", 100],
    ]);
  });

  it("shows a run with its profile, search and a student's explanation", async () => {
    const placedOnA = (await db.select().from(assignments).where(and(eq(assignments.runId, runId), eq(assignments.topicId, topicIds[0]))))[0];
    const response = await callRoute(runLoader as RouteHandler, getRequest(`${base()}/${runId}?q=student&student=${placedOnA.studentId}`, adminCookie), {
      periodId,
      runId,
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as {
      profile: { byRank: number[]; unassigned: number };
      matches: number;
      selected: { explanation: string[] };
    };
    expect(page.profile).toEqual({ byRank: [1, 1], unranked: 0, unassigned: 2 });
    expect(page.matches).toBe(4);
    expect(page.selected.explanation[0]).toBe("They were placed on their 1st choice, Topic 01.");
    expect(page.selected.explanation[1]).toBe(
      "Their 1st choice, Topic 01, had 4 applicants for 1 seat (students who ranked it 1st); the 1 student placed there ranked it 1st.",
    );
  });

  it("refuses an override without a reason or onto a full topic, and applies a valid one", async () => {
    const left = (await db.select().from(assignments).where(eq(assignments.runId, runId))).filter((row) => row.topicId === null)[0];
    const url = `${base()}/${runId}`;
    const noReason = await callRoute(runAction as RouteHandler, postRequest(url, { intent: "override", studentId: left.studentId, topicId: topicIds[2], reason: "" }, adminCookie), {
      periodId,
      runId,
    });
    expect(noReason.status).toBe(400);
    expect(((await noReason.json()) as { errors: Record<string, string> }).errors.reason).toMatch(/reason/);

    const full = await callRoute(
      runAction as RouteHandler,
      postRequest(url, { intent: "override", studentId: left.studentId, topicId: topicIds[0], reason: "Asked nicely" }, adminCookie),
      { periodId, runId },
    );
    expect(full.status).toBe(409);
    expect(((await full.json()) as { errors: Record<string, string> }).errors.form).toMatch(/Topic 01 is full \(1 of 1 seats/);

    const moved = await callRoute(
      runAction as RouteHandler,
      postRequest(url, { intent: "override", studentId: left.studentId, topicId: topicIds[2], reason: "Supervisor of C agreed" }, adminCookie),
      { periodId, runId },
    );
    expect(moved.status).toBe(302);
    const [row] = await db.select().from(assignments).where(and(eq(assignments.runId, runId), eq(assignments.studentId, left.studentId)));
    expect(row).toMatchObject({ topicId: topicIds[2], rank: null, overridden: true, overrideReason: "Supervisor of C agreed" });
  });

  it("compares two runs and exports a run as CSV", async () => {
    const compared = await callRoute(compareLoader as RouteHandler, getRequest(`${base()}/compare?a=${runId}&b=${otherRunId}`, adminCookie), { periodId });
    expect(compared.status).toBe(200);
    const comparison = (await compared.json()) as { sameInput: boolean; differences: { studentId: string }[]; runs: unknown[] };
    expect(comparison.sameInput).toBe(true);
    const [first, second] = await Promise.all(
      [runId, otherRunId].map((id) => db.select().from(assignments).where(eq(assignments.runId, id))),
    );
    const topicIn = new Map(second.map((row) => [row.studentId, row.topicId]));
    const expected = first.filter((row) => row.topicId !== topicIn.get(row.studentId)).map((row) => row.studentId);
    expect(expected.length).toBeGreaterThan(0);
    expect(comparison.differences.map((difference) => difference.studentId).sort()).toEqual(expected.sort());

    const csv = await callRoute(csvLoader as RouteHandler, getRequest(`${base()}/${runId}/csv`, adminCookie), { periodId, runId });
    expect(csv.headers.get("Content-Type")).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split(/\r?\n/);
    expect(lines[0]).toBe("student_name,student_email,topic,choice,overridden,override_reason");
    expect(lines).toHaveLength(5);
    expect(lines.some((line) => line.includes("Topic 03,,yes,Supervisor of C agreed"))).toBe(true);
  });

  it("answers 403 to a student and sends a visitor to sign in, on every loader and action", async () => {
    const student = studentCookies[0];
    const calls: [RouteHandler, (cookie?: string) => Request, Record<string, string>][] = [
      [runsLoader as RouteHandler, (cookie) => getRequest(base(), cookie), { periodId }],
      [runsAction as RouteHandler, (cookie) => postRequest(base(), { objective: "linear", seed: "1", unassignedPolicy: "leave" }, cookie), { periodId }],
      [runLoader as RouteHandler, (cookie) => getRequest(`${base()}/${runId}`, cookie), { periodId, runId }],
      [runAction as RouteHandler, (cookie) => postRequest(`${base()}/${runId}`, { intent: "publish" }, cookie), { periodId, runId }],
      [
        runAction as RouteHandler,
        (cookie) => postRequest(`${base()}/${runId}`, { intent: "override", studentId: studentIds[0], topicId: "", reason: "Hijack" }, cookie),
        { periodId, runId },
      ],
      [compareLoader as RouteHandler, (cookie) => getRequest(`${base()}/compare?a=${runId}&b=${otherRunId}`, cookie), { periodId }],
      [csvLoader as RouteHandler, (cookie) => getRequest(`${base()}/${runId}/csv`, cookie), { periodId, runId }],
    ];
    for (const [handler, request, params] of calls) {
      expect((await callRoute(handler, request(student), params)).status).toBe(403);
      const anonymous = await callRoute(handler, request(), params);
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.get("Location")).toMatch(/^\/login\?redirectTo=/);
    }
    const runs = await db.select().from(assignmentRuns).where(eq(assignmentRuns.periodId, periodId));
    expect(runs).toHaveLength(2);
    expect(runs.every((run) => run.publishedAt === null)).toBe(true);
    const [mine] = await db.select().from(assignments).where(and(eq(assignments.runId, runId), eq(assignments.studentId, studentIds[0])));
    expect(mine.overrideReason).not.toBe("Hijack");
  });

  it("answers 404 for ids that name nothing", async () => {
    expect((await callRoute(runLoader as RouteHandler, getRequest(`${base()}/nope`, adminCookie), { periodId, runId: "nope" })).status).toBe(404);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await callRoute(runLoader as RouteHandler, getRequest(`${base()}/${unknown}`, adminCookie), { periodId, runId: unknown })).status).toBe(404);
  });
});

describe("publication and the student's view", () => {
  it("shows nothing before publication, then each student only their own result", async () => {
    for (const cookie of studentCookies) {
      const before = (await (await callRoute(resultLoader as RouteHandler, getRequest("/student/result", cookie))).json()) as { result: unknown };
      expect(before.result).toBeNull();
    }

    const published = await callRoute(runAction as RouteHandler, postRequest(`${base()}/${runId}`, { intent: "publish" }, adminCookie), { periodId, runId });
    expect(published.status).toBe(302);
    const again = await callRoute(runAction as RouteHandler, postRequest(`${base()}/${otherRunId}`, { intent: "publish" }, adminCookie), {
      periodId,
      runId: otherRunId,
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { errors: Record<string, string> }).errors.form).toMatch(/already published/);
    const [period] = await db.select().from(selectionPeriods).where(eq(selectionPeriods.id, periodId));
    expect(period.status).toBe("published");

    const rows = await db.select().from(assignments).where(eq(assignments.runId, runId));
    const topicOf = new Map(rows.map((row) => [row.studentId, row.topicId]));
    for (const [index, cookie] of studentCookies.entries()) {
      // Asking for someone else's id changes nothing: the page only ever reads the signed-in student's row.
      const other = studentIds[(index + 1) % studentIds.length];
      const response = await callRoute(resultLoader as RouteHandler, getRequest(`/student/result?studentId=${other}`, cookie));
      const { result } = (await response.json()) as { result: { topic: { id: string } | null; rank: number | null } };
      expect(result.topic?.id ?? null).toBe(topicOf.get(studentIds[index]));
    }
    expect((await callRoute(resultLoader as RouteHandler, getRequest("/student/result", adminCookie))).status).toBe(403);

    const latecomer = await makeUser({ name: "Late student" });
    const late = (await (await callRoute(resultLoader as RouteHandler, getRequest("/student/result", await signIn(latecomer.email)))).json()) as {
      period: { status: string };
      result: unknown;
    };
    expect(late).toMatchObject({ period: { status: "published" }, result: null });
  });
});

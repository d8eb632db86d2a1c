import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { assignmentRuns, assignments, topics, users } from "../../drizzle/schema";
import { getDb } from "~/db.server";
import { profileOfRows } from "~/models/assignment/explain";
import { executeAssignmentRun } from "~/models/assignment/runs.server";
import { loader as runLoader } from "~/routes/admin.periods.$periodId.assignment_.$runId";
import { loader as compareLoader } from "~/routes/admin.periods.$periodId.assignment_.compare";
import { action as loginAction } from "~/routes/login";
import { makeLargeClosedPeriod } from "../support/bulk";
import { makeUser, TEST_PASSWORD } from "../support/factories";

const db = getDb();
const STUDENTS = 2_000;

type Handler = (args: { request: Request; params: Record<string, string>; context: object }) => Promise<unknown>;

let periodId: string;
let runIds: [string, string];
let cookie: string;

type RunPage = {
  total: number;
  matches: number;
  page: number;
  pages: number;
  rows: { studentId: string; name: string; topicTitle: string | null }[];
  profile: unknown;
  overrides: number;
  selected: { studentId: string; explanation: string[] } | null;
};
type ComparePage = {
  differenceCount: number;
  page: number;
  pages: number;
  differences: { studentId: string; a: { topicId: string | null }; b: { topicId: string | null } }[];
};

async function load<T>(handler: unknown, path: string, params: Record<string, string>): Promise<T> {
  const result = await (handler as Handler)({
    request: new Request(`http://localhost${path}`, { headers: { Cookie: cookie } }),
    params,
    context: { clientAddress: "203.0.113.9" },
  });
  return result as T;
}

const runPage = (query: string) =>
  load<RunPage>(runLoader, `/admin/periods/${periodId}/assignment/${runIds[0]}?${query}`, { periodId, runId: runIds[0] });

beforeAll(async () => {
  // 100 topics of 18 seats for 2,000 students with top-5 lists: some students are always left out.
  ({ periodId } = await makeLargeClosedPeriod({ students: STUDENTS, topicCount: 100, capacity: 18, rankLength: 5, seed: 3 }));
  const admin = await makeUser({ role: "admin" });
  const made = await db
    .insert(assignmentRuns)
    .values([
      { periodId, objective: "linear", seed: 1, unassignedPolicy: "leave", requestedBy: admin.id },
      { periodId, objective: "rank-maximal", seed: 2, unassignedPolicy: "any-free-seat", requestedBy: admin.id },
    ])
    .returning({ id: assignmentRuns.id });
  runIds = [made[0].id, made[1].id];
  for (const runId of runIds) await executeAssignmentRun({ db, runId });
  const login = (await (loginAction as Handler)({
    request: new Request("http://localhost/login", {
      method: "POST",
      body: new URLSearchParams({ email: admin.email, password: TEST_PASSWORD }),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
    params: {},
    context: { clientAddress: "203.0.113.9" },
  })) as Response;
  cookie = login.headers.get("Set-Cookie")!.split(";")[0];
});

async function storedRows(runId: string) {
  return db
    .select({ studentId: assignments.studentId, name: users.name, topicId: assignments.topicId, rank: assignments.rank, title: topics.title })
    .from(assignments)
    .innerJoin(users, eq(users.id, assignments.studentId))
    .leftJoin(topics, eq(topics.id, assignments.topicId))
    .where(eq(assignments.runId, runId));
}

describe("the run review page with 2,000 students", () => {
  it("sends one page of 50 rows by name, with the profile and counts of the whole run", async () => {
    const stored = await storedRows(runIds[0]);
    const first = await runPage("");
    expect(first).toMatchObject({ total: STUDENTS, matches: STUDENTS, page: 1, pages: 40, overrides: 0 });
    expect(first.rows.map((row) => row.name)).toEqual(Array.from({ length: 50 }, (_, index) => `Student ${String(index + 1).padStart(4, "0")}`));
    expect(first.profile).toEqual(profileOfRows(stored));

    const last = await runPage("page=40");
    expect(last.rows.map((row) => row.name).at(-1)).toBe("Student 2000");
    // Out-of-range and malformed pages fall back to the nearest real page.
    expect((await runPage("page=999")).page).toBe(40);
    expect((await runPage("page=abc")).page).toBe(1);
  });

  it("walks every page exactly once", async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 40; page++) seen.push(...(await runPage(`page=${page}`)).rows.map((row) => row.studentId));
    expect(seen).toHaveLength(STUDENTS);
    expect(new Set(seen).size).toBe(STUDENTS);
  });

  it("searches names, topic titles and 'unassigned' in the database, treating % and _ literally", async () => {
    const stored = await storedRows(runIds[0]);
    const byName = await runPage("q=student%2001");
    expect(byName.matches).toBe(100);
    expect(byName.rows[0].name).toBe("Student 0100");

    const onTopic = await runPage("q=topic%2007");
    expect(onTopic.matches).toBe(stored.filter((row) => row.title === "Topic 07").length);
    expect(onTopic.matches).toBeGreaterThan(0);

    const unassigned = await runPage("q=UNASSIGNED");
    const expectedUnassigned = stored.filter((row) => row.topicId === null).length;
    expect(expectedUnassigned).toBeGreaterThan(0);
    expect(unassigned.matches).toBe(expectedUnassigned);
    expect(unassigned.rows.every((row) => row.topicTitle === null)).toBe(true);

    expect((await runPage("q=%25")).matches).toBe(0);
    expect((await runPage("q=Student_0")).matches).toBe(0);
  });

  it("explains a selected student who is not on the page shown", async () => {
    const stored = await storedRows(runIds[0]);
    const late = stored.find((row) => row.name === "Student 1999")!;
    const view = await runPage(`page=1&student=${late.studentId}`);
    expect(view.rows.some((row) => row.studentId === late.studentId)).toBe(false);
    expect(view.selected?.studentId).toBe(late.studentId);
    expect(view.selected?.explanation.length).toBeGreaterThan(0);
  });
});

describe("comparing two runs of 2,000 students", () => {
  it("pages through exactly the students whose topic differs, 50 at a time", async () => {
    const [a, b] = await Promise.all(runIds.map(storedRows));
    const topicInB = new Map(b.map((row) => [row.studentId, row.topicId]));
    const expected = a.filter((row) => row.topicId !== (topicInB.get(row.studentId) ?? null)).map((row) => row.studentId);
    expect(expected.length).toBeGreaterThan(50);

    const path = (page: number) => `/admin/periods/${periodId}/assignment/compare?a=${runIds[0]}&b=${runIds[1]}&page=${page}`;
    const first = await load<ComparePage>(compareLoader, path(1), { periodId });
    expect(first.differenceCount).toBe(expected.length);
    expect(first.pages).toBe(Math.ceil(expected.length / 50));
    const seen: string[] = [];
    for (let page = 1; page <= first.pages; page++) {
      const view = await load<ComparePage>(compareLoader, path(page), { periodId });
      expect(view.differences.length).toBeLessThanOrEqual(50);
      for (const difference of view.differences) expect(difference.a.topicId).not.toBe(difference.b.topicId);
      seen.push(...view.differences.map((difference) => difference.studentId));
    }
    expect(seen.sort()).toEqual(expected.sort());
  });
});

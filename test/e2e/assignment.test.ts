import { and, eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignmentRuns, assignments, topics, users } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import { closePeriod } from "~/models/period.server";
import { DEMO_ADMIN, DEMO_STUDENT_PASSWORD, demoStudentEmail, seedAgh } from "~/models/seed.server";
import { startWebServer, startWorkerProcess, type RunningProcess } from "../support/app-server";
import { launchBrowser } from "../support/browser";
import { loadAgh } from "../support/factories";

let server: RunningProcess;
let worker: RunningProcess;
let browser: Browser;
let periodId: string;

beforeAll(async () => {
  const seeded = await seedAgh({ db: getDb(), soc: loadAgh() });
  periodId = seeded.period.periodId;
  await withTransaction(getDb(), (tx) =>
    closePeriod({ tx, periodId, actor: { actorId: null, actorType: "system", sessionId: "e2e" } }),
  );
  [server, worker, browser] = await Promise.all([startWebServer(), startWorkerProcess(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), worker?.stop()]);
});

async function signIn(email: string, password: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname !== "/login");
  return page;
}

describe("assignment from run to the student's result", () => {
  it("runs on the closed AGH period, is reviewed and published, and the student then sees their topic", async () => {
    const studentEmail = demoStudentEmail(0);
    const student = await signIn(studentEmail, DEMO_STUDENT_PASSWORD);
    await student.goto(`${server.url}/student/result`);
    await student.getByTestId("no-result").waitFor();

    const admin = await signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
    await admin.goto(`${server.url}/admin/periods/${periodId}/assignment`);
    await admin.getByLabel("Rank-maximal").check();
    await admin.getByLabel(/^Seed/).fill("2003");
    await admin.getByRole("button", { name: "Run assignment" }).click();
    // The page polls while the job runs; the worker process does the work.
    await admin.getByTestId("run-status").filter({ hasText: "done" }).waitFor({ timeout: 60_000 });
    await admin.getByRole("link", { name: /146 students, \d+ unassigned — review/ }).click();
    await admin.getByRole("heading", { name: "Run: rank-maximal, seed 2003" }).waitFor();

    const [run] = await getDb().select().from(assignmentRuns).where(eq(assignmentRuns.periodId, periodId));
    const profileText = await admin.getByTestId("profile-table").textContent();
    expect(profileText).toContain(`1st choice${run.profile![0]}`);
    // The chart itself is drawn on the client.
    await admin.locator(".recharts-bar-rectangle").first().waitFor();

    await admin.getByLabel("Search students or topics").fill(studentEmail);
    await admin.getByRole("button", { name: "Search" }).click();
    await admin.getByText("1 of 146 students match").waitFor();
    await admin.getByRole("link", { name: "Why?" }).click();
    const explanation = await admin.getByTestId("explanation").textContent();
    expect(explanation).toMatch(/They were placed on their \d+(st|nd|rd|th) choice, Course \d\./);
    expect(explanation).toMatch(/applicants for \d+ seats/);

    await admin.getByRole("button", { name: "Publish this run" }).click();
    await admin.getByTestId("run-published").waitFor();

    const [mine] = await getDb()
      .select({ title: topics.title, rank: assignments.rank })
      .from(assignments)
      .innerJoin(users, eq(users.id, assignments.studentId))
      .innerJoin(topics, eq(topics.id, assignments.topicId))
      .where(and(eq(assignments.runId, run.id), eq(users.email, studentEmail)));
    await student.goto(`${server.url}/student`);
    await student.getByRole("link", { name: "See your topic" }).click();
    await expect(student.getByTestId("assigned-topic").textContent()).resolves.toBe(mine.title);
    // The first voter line of the AGH file ranks all 9 courses.
    await expect(student.getByTestId("assigned-rank").textContent()).resolves.toBe(
      `Your ${["1st", "2nd", "3rd"][mine.rank! - 1] ?? `${mine.rank}th`} choice of the 9 topics you ranked.`,
    );
    await admin.close();
    await student.close();
  });
});

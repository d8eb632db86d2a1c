import { and, eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignmentRuns, assignments, users } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import { executeAssignmentRun } from "~/models/assignment/runs.server";
import { closePeriod } from "~/models/period.server";
import { DEMO_ADMIN, demoStudentEmail, seedAgh } from "~/models/seed.server";
import { startWebServer, type RunningProcess } from "../support/app-server";
import { launchBrowser } from "../support/browser";
import { loadAgh } from "../support/factories";

let server: RunningProcess;
let browser: Browser;
let page: Page;
let periodId: string;
let runIds: string[];

beforeAll(async () => {
  const seeded = await seedAgh({ db: getDb(), soc: loadAgh() });
  periodId = seeded.period.periodId;
  await withTransaction(getDb(), (tx) => closePeriod({ tx, periodId, actor: { actorId: null, actorType: "system", sessionId: "e2e" } }));
  // The runs themselves are not under test here; executing them directly spares a worker process.
  const made = await getDb()
    .insert(assignmentRuns)
    .values([
      { periodId, objective: "linear", seed: 1, unassignedPolicy: "leave" },
      { periodId, objective: "rank-maximal", seed: 1, unassignedPolicy: "leave" },
    ])
    .returning({ id: assignmentRuns.id });
  runIds = made.map((run) => run.id);
  for (const runId of runIds) await executeAssignmentRun({ db: getDb(), runId });
  [server, browser] = await Promise.all([startWebServer(), launchBrowser()]);
  page = await browser.newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(DEMO_ADMIN.email);
  await page.getByLabel("Password").fill(DEMO_ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname !== "/login");
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Static checks in the page: named controls, captioned tables, nothing focusable hidden from assistive technology. */
async function audit(target: Page): Promise<string[]> {
  return target.evaluate(() => {
    const problems: string[] = [];
    const describe = (element: Element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""} "${(element.textContent ?? "").trim().slice(0, 40)}"`;
    const nameOf = (element: Element) => {
      const labelledBy = element.getAttribute("aria-labelledby");
      if (labelledBy) return labelledBy.split(" ").map((id) => document.getElementById(id)?.textContent ?? "").join(" ").trim();
      const label = element.getAttribute("aria-label");
      if (label) return label.trim();
      const labels = (element as HTMLInputElement).labels;
      if (labels && labels.length > 0) return [...labels].map((item) => item.textContent ?? "").join(" ").trim();
      return "";
    };
    for (const control of document.querySelectorAll("input:not([type=hidden]), select, textarea, progress")) {
      if (!nameOf(control)) problems.push(`unlabelled ${describe(control)}`);
    }
    for (const action of document.querySelectorAll("a[href], button")) {
      if (!(action.textContent ?? "").trim() && !action.getAttribute("aria-label")) problems.push(`no accessible name: ${describe(action)}`);
    }
    for (const table of document.querySelectorAll("table")) {
      if (!table.caption || !(table.caption.textContent ?? "").trim()) problems.push(`table without caption: ${describe(table)}`);
      if (table.querySelectorAll("th").length === 0) problems.push(`table without headers: ${describe(table)}`);
    }
    const focusable = "a[href], button:not([disabled]), input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])";
    for (const hidden of document.querySelectorAll("[aria-hidden=true]")) {
      for (const inner of hidden.querySelectorAll(focusable)) problems.push(`focusable inside aria-hidden: ${describe(inner)}`);
    }
    for (const element of document.querySelectorAll("[tabindex]")) {
      if (Number(element.getAttribute("tabindex")) > 0) problems.push(`positive tabindex breaks the focus order: ${describe(element)}`);
    }
    const ids = [...document.querySelectorAll("[id]")].map((element) => element.id);
    for (const id of new Set(ids.filter((id, index) => ids.indexOf(id) !== index))) problems.push(`duplicate id ${id}`);
    return problems;
  });
}

/** Presses Tab from the top of the page and names each element that takes focus, in order. */
async function tabOrder(target: Page, presses: number): Promise<string[]> {
  await target.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const order: string[] = [];
  for (let index = 0; index < presses; index++) {
    await target.keyboard.press("Tab");
    order.push(
      await target.evaluate(() => {
        const active = document.activeElement as HTMLElement | null;
        if (!active || active === document.body) return "body";
        const labels = (active as HTMLInputElement).labels;
        const name = active.getAttribute("aria-label") ?? (labels && labels.length > 0 ? labels[0].textContent : active.textContent) ?? "";
        return `${active.tagName.toLowerCase()}:${name.replace(/\s+/g, " ").trim()}`;
      }),
    );
  }
  return order;
}

describe("the assignment pages for keyboard and screen-reader users", () => {
  it("label every control and caption every table on the runs page, and reach the form by keyboard in reading order", async () => {
    // A run waiting for a worker (none runs here): its progress is also given in words to screen readers.
    const [waiting] = await getDb()
      .insert(assignmentRuns)
      .values({ periodId, objective: "generous", seed: 9, unassignedPolicy: "leave" })
      .returning({ id: assignmentRuns.id });
    await page.goto(`${server.url}/admin/periods/${periodId}/assignment`);
    await expect(page.getByRole("status").filter({ hasText: "Run generous" }).textContent()).resolves.toBe("Run generous, seed 9: queued, 0%.");
    expect(await audit(page)).toEqual([]);
    await getDb().delete(assignmentRuns).where(eq(assignmentRuns.id, waiting.id));
    await page.reload();
    const order = await tabOrder(page, 40);
    const wanted = ["input:Linear", "input:Seed", "select:Students whose ranked topics are all full", "button:Run assignment", "select:Run A", "select:Run B", "button:Compare"];
    const positions = wanted.map((name) => order.findIndex((entry) => entry.startsWith(name)));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    // Arrow keys move between the objectives, as in any radio group.
    await page.getByLabel("Linear").focus();
    await page.keyboard.press("ArrowDown");
    await expect(page.getByLabel("Generous").isChecked()).resolves.toBe(true);
  });

  it("on the run page: a text table for the chart, keyboard search, 'Why?' moving focus to the explanation, and an override by keyboard", async () => {
    await page.goto(`${server.url}/admin/periods/${periodId}/assignment/${runIds[0]}`);
    expect(await audit(page)).toEqual([]);
    const profile = page.getByRole("table", { name: "Students per choice" });
    await expect(profile.getByRole("rowheader", { name: "1st choice" }).count()).resolves.toBe(1);

    const order = await tabOrder(page, 12);
    const wanted = ["a:Download CSV", "button:Publish this run", "input:Search students or topics", "button:Search", "a:Why?"];
    const positions = wanted.map((name) => order.findIndex((entry) => entry.startsWith(name)));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);

    const email = demoStudentEmail(3);
    await page.getByLabel("Search students or topics").focus();
    await page.keyboard.type(email);
    await page.keyboard.press("Enter");
    await page.getByText("1 of 146 students match").waitFor();
    const why = page.getByRole("link", { name: /^Why\? / });
    await why.focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("explanation").waitFor();
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("student-detail");

    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("override-topic");
    await page.keyboard.type("No topic");
    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("override-reason");
    await page.keyboard.type("Keyboard-only check");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.getByText("changed by hand: Keyboard-only check").waitFor();
    const [changed] = await getDb()
      .select({ topicId: assignments.topicId, overridden: assignments.overridden })
      .from(assignments)
      .innerJoin(users, eq(users.id, assignments.studentId))
      .where(and(eq(assignments.runId, runIds[0]), eq(users.email, email)));
    expect(changed).toEqual({ topicId: null, overridden: true });
  });

  it("label and caption the compare page", async () => {
    await page.goto(`${server.url}/admin/periods/${periodId}/assignment/compare?a=${runIds[0]}&b=${runIds[1]}`);
    await page.getByRole("table", { name: "Students per choice in each run" }).waitFor();
    expect(await audit(page)).toEqual([]);
  });
});

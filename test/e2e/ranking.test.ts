import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb, withTransaction } from "~/db.server";
import { closePeriod } from "~/models/period.server";
import { AGH_PERIOD_TITLE, DEMO_STUDENT_PASSWORD, demoStudentEmail, seedAgh } from "~/models/seed.server";
import { startWebServer, type RunningProcess } from "../support/app-server";
import { launchBrowser } from "../support/browser";
import { loadAgh } from "../support/factories";

let server: RunningProcess;
let browser: Browser;
let periodId: string;

beforeAll(async () => {
  ({
    period: { periodId },
  } = await seedAgh({ db: getDb(), soc: loadAgh() }));
  [server, browser] = await Promise.all([startWebServer(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(studentIndex: number): Promise<{ context: BrowserContext; page: Page }> {
  // Tall enough that the whole AGH list is on screen for the mouse drag.
  const context = await browser.newContext({ viewport: { width: 1280, height: 1800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(demoStudentEmail(studentIndex));
  await page.getByLabel("Password").fill(DEMO_STUDENT_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/student`);
  await waitForHydration(page);
  return { context, page };
}

/** Buttons do nothing until React has hydrated the server-rendered list. */
async function waitForHydration(page: Page) {
  await page.getByTestId("my-ranking").waitFor();
  await page.waitForFunction(() => {
    const handle = document.querySelector("[data-testid=drag-handle]");
    return handle !== null && Object.keys(handle).some((key) => key.startsWith("__reactFiber"));
  });
}

async function rankedTitles(page: Page): Promise<string[]> {
  return page.getByTestId("my-ranking").getByTestId("topic-title").allTextContents();
}

async function waitForStatus(page: Page, status: "saved" | "failed" | "saving") {
  await page.locator(`[data-testid=save-status][data-status=${status}]`).waitFor({ timeout: 15_000 });
}

async function reloaded(page: Page): Promise<string[]> {
  await page.reload();
  await waitForHydration(page);
  return rankedTitles(page);
}

describe("ranking topics in the browser", () => {
  it("drags a topic to the top, saves it, keeps the order after a reload, and undoes it", async () => {
    const { context, page } = await signIn(1);
    const before = await rankedTitles(page);
    expect(before.length).toBeGreaterThan(3);
    const handles = page.getByTestId("drag-handle");
    const source = (await handles.nth(before.length - 1).boundingBox())!;
    const target = (await page.getByTestId("my-ranking").locator("li").first().boundingBox())!;
    await page.mouse.move(source.x + source.width / 2, source.y + source.height / 2);
    await page.mouse.down();
    await page.mouse.move(source.x + source.width / 2, source.y - 20, { steps: 5 });
    await page.mouse.move(source.x + source.width / 2, target.y + 4, { steps: 25 });
    await page.mouse.up();
    const expected = [before.at(-1)!, ...before.slice(0, -1)];
    await expect.poll(() => rankedTitles(page)).toEqual(expected);
    await waitForStatus(page, "saved");
    expect(await reloaded(page)).toEqual(expected);

    await page.getByRole("button", { name: /Undo last change/ }).click();
    await expect.poll(() => rankedTitles(page)).toEqual(before);
    await waitForStatus(page, "saved");
    expect(await reloaded(page)).toEqual(before);
    await context.close();
  });

  it("moves topics with the keyboard, announces each move and keeps the order after a reload", async () => {
    const { context, page } = await signIn(2);
    const before = await rankedTitles(page);
    const third = before[2];
    await page.getByRole("button", { name: `Move to top: ${third}` }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByTestId("ranking-announcement").textContent()).toBe(
      `Moved ${third} to position 1 of ${before.length}.`,
    );
    // Focus follows the topic, so the student can keep moving it.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(`Move down: ${third}`);
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: `Remove from my list: ${before[0]}` }).focus();
    await page.keyboard.press("Enter");
    const expected = [third, ...before.slice(1).filter((title) => title !== third)];
    await expect.poll(() => rankedTitles(page)).toEqual(expected);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent))
      .toContain(`Add to my list`);
    await waitForStatus(page, "saved");
    expect(await reloaded(page)).toEqual(expected);
    await page.getByRole("button", { name: `Add to my list: ${before[0]}` }).click();
    await waitForStatus(page, "saved");
    const withAdded = [...expected, before[0]];
    expect(await reloaded(page)).toEqual(withAdded);

    // dnd-kit's own keyboard dragging: Space picks up, arrows move, Space drops.
    await page.getByRole("button", { name: `Reorder ${withAdded[3]}, position 4 of ${withAdded.length}` }).focus();
    // Each key waits for dnd-kit's announcement, so no key lands before the list has measured itself.
    await page.keyboard.press("Space");
    await page.getByText(`${withAdded[3]} is over position 4.`).waitFor({ state: "attached" });
    await page.keyboard.press("ArrowUp");
    await page.getByText(`${withAdded[3]} is over position 3.`).waitFor({ state: "attached" });
    await page.keyboard.press("ArrowUp");
    await page.getByText(`${withAdded[3]} is over position 2.`).waitFor({ state: "attached" });
    await page.keyboard.press("Space");
    const dragged = [withAdded[0], withAdded[3], withAdded[1], withAdded[2], ...withAdded.slice(4)];
    await expect.poll(() => rankedTitles(page)).toEqual(dragged);
    await waitForStatus(page, "saved");
    expect(await reloaded(page)).toEqual(dragged);
    await context.close();
  });

  it("shows Failed when the save is blocked, keeps the order, and saves it on Retry", async () => {
    const { context, page } = await signIn(3);
    const before = await rankedTitles(page);
    await page.route("**/student/ranking", (route) => route.abort("internetdisconnected"));
    await page.getByRole("button", { name: `Move to top: ${before[1]}` }).click();
    await page.getByRole("button", { name: `Move down: ${before[2]}` }).click();
    const expected = [before[1], before[0], before[3], before[2], ...before.slice(4)];
    await waitForStatus(page, "failed");
    expect(await page.getByTestId("save-status").textContent()).toMatch(/Failed.*network.*Retry/);
    expect(await rankedTitles(page)).toEqual(expected);
    // Leaving now would lose the change: the page asks first.
    const dialog = new Promise<string>((resolve) =>
      page.once("dialog", (shown) => {
        resolve(shown.type());
        void shown.dismiss();
      }),
    );
    await page.close({ runBeforeUnload: true });
    expect(await dialog).toBe("beforeunload");
    expect(page.isClosed()).toBe(false);
    await page.unroute("**/student/ranking");
    await page.getByRole("button", { name: "Retry" }).click();
    await waitForStatus(page, "saved");
    expect(await rankedTitles(page)).toEqual(expected);
    expect(await reloaded(page)).toEqual(expected);
    await context.close();
  });

  it("keeps an unsaved change through closing the tab and saves it when the page is opened again", async () => {
    const { context, page } = await signIn(6);
    const before = await rankedTitles(page);
    await page.route("**/student/ranking", (route) => route.abort("internetdisconnected"));
    await page.getByRole("button", { name: `Move to top: ${before.at(-1)}` }).click();
    await waitForStatus(page, "failed");
    await page.close();

    const again = await context.newPage();
    await again.goto(`${server.url}/student`);
    await waitForHydration(again);
    const expected = [before.at(-1)!, ...before.slice(0, -1)];
    // The draft is restored by an effect after hydration, so the order may show the saved one for a moment.
    await expect.poll(() => rankedTitles(again)).toEqual(expected);
    await waitForStatus(again, "saved");
    expect(await reloaded(again)).toEqual(expected);
    await context.close();
  });

  it("adopts the saved order with a notice when another tab changed the ranking first", async () => {
    const { context, page: first } = await signIn(4);
    const second = await context.newPage();
    await second.goto(`${server.url}/student`);
    await waitForHydration(second);
    const before = await rankedTitles(first);
    // The first tab's save must be answered before the second tab edits: the status can still read "saved"
    // from before the click, and a save of the second tab that landed first would make the first the stale one.
    const firstSave = first.waitForResponse((response) => response.url().endsWith("/student/ranking") && response.request().method() === "POST");
    await first.getByRole("button", { name: `Move to top: ${before.at(-1)}` }).click();
    expect((await firstSave).status()).toBe(200);
    await waitForStatus(first, "saved");
    const savedByFirst = await rankedTitles(first);
    expect(savedByFirst).toEqual([before.at(-1), ...before.slice(0, -1)]);

    await second.getByRole("button", { name: `Move down: ${before[0]}` }).click();
    await second.getByTestId("conflict-notice").waitFor({ timeout: 15_000 });
    expect(await second.getByTestId("conflict-notice").textContent()).toMatch(/changed elsewhere/);
    expect(await rankedTitles(second)).toEqual(savedByFirst);
    await waitForStatus(second, "saved");
    expect(await reloaded(second)).toEqual(savedByFirst);
    await context.close();
  });

  // Last: it closes the period for every other test.
  it("says so and stops editing when the period closes under an open page, and shows a read-only notice after", async () => {
    const { context, page } = await signIn(5);
    const before = await rankedTitles(page);
    await withTransaction(getDb(), (tx) =>
      closePeriod({ tx, periodId, actor: { actorId: null, actorType: "system", sessionId: "e2e" } }),
    );
    await page.getByRole("button", { name: `Move to top: ${before[1]}` }).click();
    await waitForStatus(page, "failed");
    expect(await page.getByTestId("save-status").textContent()).toMatch(/closed; rankings can no longer be changed/);
    await page.getByTestId("read-only-notice").waitFor();
    expect(await rankedTitles(page)).toEqual(before);
    expect(await page.getByTestId("drag-handle").count()).toBe(0);

    await page.reload();
    await page.getByRole("heading", { name: AGH_PERIOD_TITLE }).waitFor();
    expect(await page.getByTestId("read-only-notice").textContent()).toMatch(/closed/);
    expect(await rankedTitles(page)).toEqual(before);
    expect(await page.getByRole("button", { name: /Move to top/ }).count()).toBe(0);
    await context.close();
  });
});

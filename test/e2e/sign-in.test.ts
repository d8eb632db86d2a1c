import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "~/db.server";
import { AGH_PERIOD_TITLE, DEMO_ADMIN, DEMO_STUDENT_PASSWORD, demoStudentEmail, seedAgh } from "~/models/seed.server";
import { startWebServer, type RunningProcess } from "../support/app-server";
import { launchBrowser } from "../support/browser";
import { loadAgh } from "../support/factories";

let server: RunningProcess;
let browser: Browser;

beforeAll(async () => {
  await seedAgh({ db: getDb(), soc: loadAgh() });
  [server, browser] = await Promise.all([startWebServer(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(email: string, password: string) {
  const page = await browser.newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page;
}

describe("signing in to the demo", () => {
  it("takes the demo admin to the list of periods, which shows the AGH period", async () => {
    const page = await signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
    await page.waitForURL(`${server.url}/admin`);
    const row = page.getByTestId("period-row").filter({ hasText: AGH_PERIOD_TITLE });
    await expect(row.textContent()).resolves.toMatch(/open\s*9\s*146/);
    await page.close();
  });

  it("takes a demo student to their ranking of the AGH courses", async () => {
    const page = await signIn(demoStudentEmail(0), DEMO_STUDENT_PASSWORD);
    await page.waitForURL(`${server.url}/student`);
    await page.getByRole("heading", { name: AGH_PERIOD_TITLE }).waitFor();
    // The first voter line of the file is `4: 9,2,5,6,7,8,4,3,1`.
    const items = await page.getByTestId("my-ranking").locator("li").allTextContents();
    expect(items.map((text) => text.match(/Course \d/)?.[0])).toEqual(
      [9, 2, 5, 6, 7, 8, 4, 3, 1].map((course) => `Course ${course}`),
    );
    await page.close();
  });

  it("shows a clear message for a wrong password and stays on the page", async () => {
    const page = await signIn(DEMO_ADMIN.email, "not-the-password");
    await expect(page.getByRole("alert").textContent()).resolves.toContain("do not match");
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.close();
  });
});

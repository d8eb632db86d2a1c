import { createServer, connect, type Server, type Socket } from "node:net";
import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignmentRuns, assignments, events, selectionPeriods } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import { getEnv } from "~/env.server";
import { closePeriod } from "~/models/period.server";
import { DEMO_ADMIN, seedAgh } from "~/models/seed.server";
import { closeQueues, getQueue } from "~/queues.server";
import { startWebServer, type RunningProcess } from "../support/app-server";
import { launchBrowser } from "../support/browser";
import { loadAgh } from "../support/factories";

/**
 * A TCP relay in front of the real Redis. The web server checks Redis at
 * boot, so it starts through the relay; closing the relay then leaves its
 * REDIS_URL pointing at a closed port, as when Redis dies under a running app.
 */
async function startRelay(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    const upstream = connect(6379, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const { port } = relay.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        relay.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

let server: RunningProcess;
let browser: Browser;
let periodId: string;
let relay: Awaited<ReturnType<typeof startRelay>>;

beforeAll(async () => {
  const seeded = await seedAgh({ db: getDb(), soc: loadAgh() });
  periodId = seeded.period.periodId;
  await withTransaction(getDb(), (tx) => closePeriod({ tx, periodId, actor: { actorId: null, actorType: "system", sessionId: "e2e" } }));
  relay = await startRelay();
  [server, browser] = await Promise.all([startWebServer({ REDIS_URL: `redis://127.0.0.1:${relay.port}` }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await relay?.close();
  await getQueue("assignment").obliterate({ force: true });
  await closeQueues();
});

describe("requesting an assignment run while Redis is down", () => {
  it("answers 503 with a message the admin can act on, and leaves a failed run and nothing else", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel("Email").fill(DEMO_ADMIN.email);
    await page.getByLabel("Password").fill(DEMO_ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname !== "/login");
    await page.goto(`${server.url}/admin/periods/${periodId}/assignment`);

    await relay.close();
    const started = Date.now();
    const answer = page.waitForResponse((response) => response.request().method() === "POST");
    await page.getByRole("button", { name: "Run assignment" }).click();
    expect((await answer).status()).toBe(503);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toBe(
      "The job queue (Redis) is unavailable, so the run could not be started. Try again when it is back.",
    );
    // Producer connections fail fast: the admin is not left waiting on a dead Redis.
    expect(Date.now() - started).toBeLessThan(10_000);
    // The run list shows the same reason after a reload.
    await page.reload();
    await expect(page.getByTestId("run-status").textContent()).resolves.toMatch(/^failed: The job queue \(Redis\) is unavailable/);
    await page.close();

    const runs = await getDb().select().from(assignmentRuns).where(eq(assignmentRuns.periodId, periodId));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "failed", inputHash: null, profile: null });
    expect(runs[0].finishedAt).not.toBeNull();
    expect(await getDb().select().from(assignments).where(eq(assignments.runId, runs[0].id))).toEqual([]);
    expect(await getDb().select().from(events).where(eq(events.type, "ALGORITHM_EXECUTED"))).toEqual([]);
    const [period] = await getDb().select({ status: selectionPeriods.status }).from(selectionPeriods).where(eq(selectionPeriods.id, periodId));
    expect(period.status).toBe("closed");
    // Nothing reached the real Redis either: this test's queue holds no job.
    expect(await getQueue("assignment").getJobCountByTypes("waiting", "active", "delayed", "completed", "failed", "prioritized")).toBe(0);
    expect(getEnv().QUEUE_PREFIX).toMatch(/^tmtest-/);
  });
});

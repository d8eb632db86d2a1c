import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { rankings } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import { getEnv } from "~/env.server";
import type { TopicMetricsView } from "~/models/metrics";
import { createPeriod } from "~/models/period.server";
import { requestMetricsRecompute } from "~/models/metrics-queue.server";
import { applyRankingBatch, getStudentRanking } from "~/models/ranking.server";
import { DEMO_STUDENT_PASSWORD, demoStudentEmail, seedAgh } from "~/models/seed.server";
import { createRedis } from "~/redis.server";
import { startWorkers } from "../../jobs/workers";
import { startWebServer, type RunningProcess } from "../support/app-server";
import { launchBrowser } from "../support/browser";
import { loadAgh } from "../support/factories";
import { openEventStream, signInOverHttp } from "../support/http";
import { metricsBySql } from "../support/metrics";
import { startTcpProxy } from "../support/tcp-proxy";
import { releaseQueues } from "../support/queues";

let server: RunningProcess;
let browser: Browser;
let workers: Awaited<ReturnType<typeof startWorkers>>;
let agh: Awaited<ReturnType<typeof seedAgh>>;
const redis = createRedis("worker");

beforeAll(async () => {
  agh = await seedAgh({ db: getDb(), soc: loadAgh() });
  [server, browser, workers] = await Promise.all([startWebServer(), launchBrowser(), startWorkers({ concurrency: 2 })]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await workers?.close();
  await releaseQueues();
  redis.disconnect();
});

const streamUrl = (periodId: string) => `${server.url}/periods/${periodId}/metrics/stream`;
const topicsOf = (data: string) => (JSON.parse(data) as { topics: TopicMetricsView[] }).topics;

async function saveOverHttp(baseUrl: string, cookie: string, studentId: string, updates: { topicId: string; position: number | null }[]) {
  const { version } = await getStudentRanking({ db: getDb(), studentId, periodId: agh.period.periodId });
  return fetch(`${baseUrl}/student/ranking`, {
    method: "POST",
    headers: { "Content-Type": "application/json", cookie },
    body: JSON.stringify({ periodId: agh.period.periodId, batchId: randomUUID(), expectedVersion: version, updates }),
  });
}

async function studentIdOf(index: number): Promise<string> {
  const students = await getDb().query.users.findFirst({ where: (user, { eq: equals }) => equals(user.email, demoStudentEmail(index)) });
  return students!.id;
}

describe("live metrics over Server-Sent Events (HTTP client)", () => {
  it("sends the period's metrics at once and an update after another student's save", async () => {
    const watcher = await signInOverHttp(server.url, demoStudentEmail(20), DEMO_STUDENT_PASSWORD);
    const saver = await signInOverHttp(server.url, demoStudentEmail(21), DEMO_STUDENT_PASSWORD);
    const stream = await openEventStream(streamUrl(agh.period.periodId), watcher);
    onTestFinished(() => stream.close());
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const first = await stream.waitFor((event) => event.event === "metrics");
    expect(topicsOf(first.data)).toHaveLength(9);
    // Nothing was computed yet: everything is stale, and the stream itself asked for the recomputes.
    await stream.waitFor((event) => event.event === "metrics" && topicsOf(event.data).every((topic) => !topic.isStale), { timeoutMs: 20_000 });

    const saverId = await studentIdOf(21);
    const { order } = await getStudentRanking({ db: getDb(), studentId: saverId, periodId: agh.period.periodId });
    const moved = order[order.length - 1];
    const from = stream.received.length;
    const reordered = [moved, ...order.slice(0, -1)];
    const response = await saveOverHttp(
      server.url,
      saver,
      saverId,
      reordered.map((topicId, index) => ({ topicId, position: index + 1 })),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    const truth = (await metricsBySql(getDb(), agh.period.periodId)).get(moved)!;
    const update = await stream.waitFor(
      (event) => {
        const view = topicsOf(event.data).find((topic) => topic.topicId === moved);
        return event.event === "metrics" && view !== undefined && !view.isStale && Math.abs(view.averagePosition! - truth.averagePosition!) < 1e-9;
      },
      { from, timeoutMs: 10_000 },
    );
    expect(topicsOf(update.data).find((topic) => topic.topicId === moved)!.distribution).toEqual(truth.distribution);
    stream.close();
  });

  it("answers 401 without a session, 404 for a student asking for a draft or unknown period, and 200 for an admin", async () => {
    const anonymous = await openEventStream(streamUrl(agh.period.periodId));
    expect(anonymous.response.status).toBe(401);
    const draft = await withTransaction(getDb(), (tx) => createPeriod({ tx, title: `Draft ${randomUUID().slice(0, 6)}` }));
    const student = await signInOverHttp(server.url, demoStudentEmail(22), DEMO_STUDENT_PASSWORD);
    expect((await openEventStream(streamUrl(draft.id), student)).response.status).toBe(404);
    expect((await openEventStream(streamUrl(randomUUID()), student)).response.status).toBe(404);
    expect((await openEventStream(`${server.url}/periods/not-a-uuid/metrics/stream`, student)).response.status).toBe(404);
    const admin = await signInOverHttp(server.url, "admin@topicmatch.test", "topicmatch-admin");
    const adminStream = await openEventStream(streamUrl(draft.id), admin);
    expect(adminStream.response.status).toBe(200);
    adminStream.close();
  });

  it("sends heartbeat comments and releases its Redis subscription when the client goes away", async () => {
    const channel = `${getEnv().QUEUE_PREFIX}:metrics-changed:${agh.period.periodId}`;
    const subscribers = async () => Number(((await redis.pubsub("NUMSUB", channel)) as [string, number])[1]);
    const cookie = await signInOverHttp(server.url, demoStudentEmail(23), DEMO_STUDENT_PASSWORD);
    const stream = await openEventStream(streamUrl(agh.period.periodId), cookie);
    await stream.waitFor((event) => event.event === "metrics");
    await expect.poll(subscribers, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => stream.comments.includes("heartbeat"), { timeout: 15_000, interval: 500 }).toBe(true);
    stream.close();
    await expect.poll(subscribers, { timeout: 5_000 }).toBe(0);
  });
});

async function signInPage(index: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(demoStudentEmail(index));
  await page.getByLabel("Password").fill(DEMO_STUDENT_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/student`);
  await page.waitForFunction(() => {
    const handle = document.querySelector("[data-testid=drag-handle]");
    return handle !== null && Object.keys(handle).some((key) => key.startsWith("__reactFiber"));
  });
  return page;
}

describe("live metrics in the browser", () => {
  it("changes the first student's page when a second student saves, without a reload", async () => {
    const watcher = await signInPage(30);
    const saver = await signInPage(31);
    const saverId = await studentIdOf(31);
    const { order } = await getStudentRanking({ db: getDb(), studentId: saverId, periodId: agh.period.periodId });
    const moved = order[order.length - 1];
    const average = watcher.locator(`[data-testid=topic-metrics][data-topic-id="${moved}"] [data-testid=metric-average]`).first();
    await watcher.locator(`[data-testid=topic-metrics][data-topic-id="${moved}"]:not(:has([data-testid=metrics-updating]))`).first().waitFor({ timeout: 20_000 });
    const before = await average.textContent();
    await watcher.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true));

    const title = await saver.locator(`[data-testid=topic-title]`).nth(order.length - 1).textContent();
    await saver.getByRole("button", { name: `Move to top: ${title}` }).click();
    await saver.locator("[data-testid=save-status][data-status=saved]").waitFor({ timeout: 15_000 });

    const truth = (await metricsBySql(getDb(), agh.period.periodId)).get(moved)!;
    const expected = truth.averagePosition!.toFixed(2);
    expect(before).not.toContain(expected);
    await expect.poll(() => average.textContent(), { timeout: 10_000 }).toContain(expected);
    expect(await watcher.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true);
    await watcher.context().close();
    await saver.context().close();
  });
});

describe("a dropped live connection", () => {
  it("reconnects by itself and shows what changed while the server was away", async () => {
    const watcher = await signInPage(50);
    const saverId = await studentIdOf(51);
    const { order, version } = await getStudentRanking({ db: getDb(), studentId: saverId, periodId: agh.period.periodId });
    const moved = order[order.length - 1];
    const average = watcher.locator(`[data-testid=topic-metrics][data-topic-id="${moved}"] [data-testid=metric-average]`).first();
    await watcher.locator(`[data-testid=topic-metrics][data-topic-id="${moved}"]:not(:has([data-testid=metrics-updating]))`).first().waitFor({ timeout: 20_000 });
    const before = await average.textContent();

    const port = server.port;
    await server.stop();
    await applyRankingBatch({
      db: getDb(),
      studentId: saverId,
      periodId: agh.period.periodId,
      batchId: randomUUID(),
      sessionId: "reconnect",
      baseVersion: version,
      updates: [moved, ...order.slice(0, -1)].map((topicId, index) => ({ topicId, position: index + 1 })),
    });
    await requestMetricsRecompute([moved]);
    const expected = (await metricsBySql(getDb(), agh.period.periodId)).get(moved)!.averagePosition!.toFixed(2);
    expect(before).not.toContain(expected);
    // Nobody is there to push the change: the page can only learn it by reconnecting.
    await expect.poll(() => average.textContent(), { timeout: 3_000 }).toBe(before);

    server = await startWebServer({ PORT: String(port) });
    server = { ...server, url: `http://localhost:${port}`, port };
    await expect.poll(() => average.textContent(), { timeout: 20_000 }).toContain(expected);
    await watcher.context().close();
  });
});

describe("when Redis is unreachable", () => {
  it("still commits a save and answers Saved, logging one line about the metrics", async () => {
    // The server must see Redis at boot (its preflight insists), then lose it.
    const proxy = await startTcpProxy(6379);
    const offline = await startWebServer({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    await proxy.close();
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1800 } });
      const page = await context.newPage();
      await page.goto(`${offline.url}/login`);
      await page.getByLabel("Email").fill(demoStudentEmail(40));
      await page.getByLabel("Password").fill(DEMO_STUDENT_PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${offline.url}/student`);
      await page.waitForFunction(() => {
        const handle = document.querySelector("[data-testid=drag-handle]");
        return handle !== null && Object.keys(handle).some((key) => key.startsWith("__reactFiber"));
      });
      const studentId = await studentIdOf(40);
      const { order } = await getStudentRanking({ db: getDb(), studentId, periodId: agh.period.periodId });
      const moved = order[order.length - 1];
      const title = await page.locator(`[data-testid=topic-title]`).nth(order.length - 1).textContent();
      await page.getByRole("button", { name: `Move to top: ${title}` }).click();
      await page.locator("[data-testid=save-status][data-status=saved]").waitFor({ timeout: 15_000 });

      const [row] = await getDb()
        .select({ position: rankings.position })
        .from(rankings)
        .where(and(eq(rankings.studentId, studentId), eq(rankings.topicId, moved)));
      expect(row.position).toBe(1);
      const lines = offline.output().split("\n").filter((line) => line.startsWith("metrics:"));
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.every((line) => /recompute|unreachable/.test(line))).toBe(true);
      await context.close();
    } finally {
      await offline.stop();
    }
  });
});

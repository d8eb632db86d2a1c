import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { topicMetrics } from "../../drizzle/schema";
import { getDb } from "~/db.server";
import { getEnv } from "~/env.server";
import { topicEvents } from "~/models/metrics-aggregates.server";
import { requestMetricsRecompute } from "~/models/metrics-queue.server";
import { getPeriodMetrics } from "~/models/metrics.server";
import { applyRankingBatch } from "~/models/ranking.server";
import { enqueue, getQueue } from "~/queues.server";
import { createRedis } from "~/redis.server";
import { REPO_ROOT } from "../../scripts/lib/paths";
import { startWorkers } from "../../jobs/workers";
import { makeOpenPeriod, makeUser, saveRanking } from "../support/factories";
import { calculatedEventsFor, metricsBySql } from "../support/metrics";
import { releaseQueues } from "../support/queues";
import { until } from "../support/wait";

const cleanups: (() => Promise<unknown>)[] = [];
const redis = createRedis("worker");

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await releaseQueues();
  redis.disconnect();
});

async function metricsQueueIdle() {
  const counts = await getQueue("metrics").getJobCounts("waiting", "delayed", "active", "prioritized");
  return Object.values(counts).every((count) => count === 0);
}

describe("the metrics worker", () => {
  it("turns 200 saves on one topic within about a second into a few recomputes that end at the true values", async () => {
    const running = await startWorkers({ concurrency: 4 });
    cleanups.push(() => running.close());
    const { period, topics } = await makeOpenPeriod({ topicCount: 4 });
    const hot = topics[0].id;
    const students = await Promise.all(Array.from({ length: 20 }, () => makeUser()));

    const started = Date.now();
    await Promise.all(
      students.map(async (student, index) => {
        const other = topics[1 + (index % 3)].id;
        for (let round = 0; round < 10; round++) {
          // Cycle through [hot, other] → [other, hot] → [other], so the hot
          // topic's count, sums and distribution all keep changing.
          const updates = [
            [
              { topicId: hot, position: 1 },
              { topicId: other, position: 2 },
            ],
            [
              { topicId: other, position: 1 },
              { topicId: hot, position: 2 },
            ],
            [{ topicId: hot, position: null }],
          ][round % 3];
          await applyRankingBatch({
            db: getDb(),
            studentId: student.id,
            periodId: period.id,
            batchId: randomUUID(),
            sessionId: "burst",
            baseVersion: null,
            updates,
          });
          await requestMetricsRecompute(updates.map((update) => update.topicId));
        }
      }),
    );
    const burstMs = Date.now() - started;

    await until(async () => (await metricsQueueIdle()) && (await getPeriodMetrics({ db: getDb(), periodId: period.id })).every((view) => !view.isStale), "the recomputes to settle");
    const recomputes = await calculatedEventsFor(hot);
    console.log(`200 saves in ${burstMs} ms → ${recomputes} recomputes of the hot topic`);
    expect(recomputes).toBeGreaterThanOrEqual(1);
    expect(recomputes).toBeLessThanOrEqual(Math.max(4, Math.ceil(burstMs / 200) + 2));

    const truth = (await metricsBySql(getDb(), period.id)).get(hot)!;
    const [stored] = await getDb().select().from(topicMetrics).where(eq(topicMetrics.topicId, hot));
    expect(stored.studentCount).toBe(truth.studentCount);
    expect(stored.distribution).toEqual(truth.distribution);
    expect(stored.averagePosition).toBeCloseTo(truth.averagePosition!, 12);
    expect(stored.standardDeviation).toBeCloseTo(truth.standardDeviation!, 9);
    await running.close();
  });

  it("recomputes one named topic through the per-topic job", async () => {
    const running = await startWorkers({ concurrency: 1 });
    cleanups.push(() => running.close());
    const { period, topics } = await makeOpenPeriod({ topicCount: 2 });
    const student = await makeUser();
    await saveRanking({
      studentId: student.id,
      periodId: period.id,
      topicIds: [topics[1].id, topics[0].id],
      sessionId: "named",
      baseVersion: 0,
    });
    const job = await enqueue("recomputeTopicMetrics", { topicId: topics[0].id });
    await until(async () => (await getQueue("metrics").getJob(job.id!))?.finishedOn, "the job to finish");
    const [stored] = await getDb().select().from(topicMetrics).where(eq(topicMetrics.topicId, topics[0].id));
    expect(stored).toMatchObject({ studentCount: 1, averagePosition: 2, distribution: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0], lastRecomputeId: job.id });
    await running.close();
  });

  it("retries a job whose worker was killed mid-job, and the retry writes exactly one trend point", async () => {
    // Nothing left over from the burst above may take the job's place.
    await getQueue("metrics").obliterate({ force: true });
    // With its job gone, the mark saying a drain is requested must go too, or requests would wait for its expiry.
    await redis.del(`${getEnv().QUEUE_PREFIX}:metrics:drain-requested`);
    const { period, topics } = await makeOpenPeriod({ topicCount: 2 });
    const topicId = topics[0].id;
    const student = await makeUser();
    await saveRanking({
      studentId: student.id,
      periodId: period.id,
      topicIds: [topicId],
      sessionId: "crash",
      baseVersion: 0,
    });

    const child = await startChildWorker();
    // Hold the topic row so the job stops inside its transaction, then kill the process there.
    const blocker = postgres(getEnv().DATABASE_URL, { max: 1, onnotice: () => {} });
    cleanups.push(() => blocker.end({ timeout: 5 }));
    const held = await blocker.reserve();
    await held`begin`;
    await held`select id from topics where id = ${topicId} for update`;

    await requestMetricsRecompute([topicId]);
    // The job has claimed the topic; the held row keeps it from finishing.
    const job = await until(async () => (await getQueue("metrics").getActive())[0], "the job to start");
    await until(async () => (await redis.exists(`${getEnv().QUEUE_PREFIX}:metrics:claimed:${job.id}`)) === 1, "the job to claim the topic");
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    await held`commit`;
    held.release();

    const rescuer = await startWorkers({ concurrency: 1, lockDuration: 1_500, stalledInterval: 500 });
    cleanups.push(() => rescuer.close());
    await until(async () => (await getQueue("metrics").getJob(job.id!))?.finishedOn, "the retried job to finish", 40_000);
    const finished = (await getQueue("metrics").getJob(job.id!))!;
    expect(await finished.getState()).toBe("completed");
    // BullMQ noticed the dead worker's lock expire and handed the job on.
    expect(finished.stalledCounter).toBe(1);

    expect(await topicEvents.count(getDb(), { namespace: topicId })).toBe(1);
    expect(await calculatedEventsFor(topicId)).toBe(1);
    const [stored] = await getDb().select().from(topicMetrics).where(eq(topicMetrics.topicId, topicId));
    expect(stored).toMatchObject({ studentCount: 1, averagePosition: 1, lastRecomputeId: job.id });
    await rescuer.close();
  }, 120_000);
});

function startChildWorker(): Promise<ChildProcess> {
  // Node itself with tsx's loader, not the tsx binary: that one runs Node as
  // a grandchild, which would survive the SIGKILL this test sends.
  const child = spawn(process.execPath, ["--import", "tsx", "test/support/worker-process.ts"], {
    cwd: REPO_ROOT,
    env: { ...process.env, WORKER_LOCK_MS: "1500" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`test worker did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("test worker running")) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
  });
}

import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { events, topicMetrics } from "../../drizzle/schema";
import { getDb } from "~/db.server";
import { getEnv } from "~/env.server";
import { topicEvents } from "~/models/metrics-aggregates.server";
import { getPeriodMetrics, getTopicTrend, recomputeTopicMetrics } from "~/models/metrics.server";
import { applyRankingBatch } from "~/models/ranking.server";
import { seedAgh } from "~/models/seed.server";
import { getQueue } from "~/queues.server";
import { createRedis } from "~/redis.server";
import { loadAgh, makeOpenPeriod, makeUser } from "../support/factories";
import { metricsBySql, type TruthRow } from "../support/metrics";
import { releaseQueues } from "../support/queues";

let agh: Awaited<ReturnType<typeof seedAgh>>;

beforeAll(async () => {
  agh = await seedAgh({ db: getDb(), soc: loadAgh() });
});

afterAll(async () => {
  await releaseQueues();
});

function expectMatchesTruth(actual: Omit<TruthRow, "topicId">, truth: TruthRow) {
  expect(actual.studentCount).toBe(truth.studentCount);
  if (truth.averagePosition === null) expect(actual.averagePosition).toBeNull();
  else expect(actual.averagePosition).toBeCloseTo(truth.averagePosition, 12);
  if (truth.standardDeviation === null) expect(actual.standardDeviation).toBeNull();
  else expect(actual.standardDeviation).toBeCloseTo(truth.standardDeviation, 9);
  expect(actual.distribution).toEqual(truth.distribution);
  expect(actual.percentile).toBe(truth.percentile);
  expect(actual.competitionCategory).toBe(truth.competitionCategory);
  expect(actual.demandRatio).toBe(truth.demandRatio);
}

async function recomputeAll(topicIds: string[]) {
  for (const topicId of topicIds) {
    await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId: randomUUID() });
  }
}

describe("topic metrics on the AGH 2003 data", () => {
  it("equal an independent SQL computation for every course, stored and as listed", async () => {
    const periodId = agh.period.periodId;
    const truth = await metricsBySql(getDb(), periodId);
    expect(truth.size).toBe(9);
    await recomputeAll(agh.period.topicIds);

    const listed = await getPeriodMetrics({ db: getDb(), periodId });
    expect(listed).toHaveLength(9);
    for (const view of listed) {
      expectMatchesTruth(view, truth.get(view.topicId)!);
      expect(view.isStale).toBe(false);
    }

    // A second pass: every average is already in place, so the percentile each
    // recompute reads from the per-period ordering must be the final one.
    await recomputeAll(agh.period.topicIds);
    const stored = await getDb().select().from(topicMetrics).where(eq(topicMetrics.periodId, periodId));
    for (const row of stored) {
      expectMatchesTruth(
        { ...row, competitionCategory: row.competitionCategory, distribution: row.distribution },
        truth.get(row.topicId)!,
      );
    }
  });

  it("marks the topics a save touched as stale and requests one recompute for each", async () => {
    const periodId = agh.period.periodId;
    await recomputeAll(agh.period.topicIds);
    const student = await makeUser();
    const [first, second] = agh.period.topicIds;
    await applyRankingBatch({
      db: getDb(),
      studentId: student.id,
      periodId,
      batchId: randomUUID(),
      sessionId: "test",
      baseVersion: 0,
      updates: [
        { topicId: first, position: 1 },
        { topicId: second, position: 2 },
      ],
    });
    const listed = await getPeriodMetrics({ db: getDb(), periodId });
    expect(listed.filter((view) => view.isStale).map((view) => view.topicId).sort()).toEqual([first, second].sort());
    // Stored values are returned at once, not recomputed inline.
    const truthBefore = listed.find((view) => view.topicId === first)!;
    expect(truthBefore.studentCount).toBe((await metricsBySql(getDb(), periodId)).get(first)!.studentCount - 1);

    await getPeriodMetrics({ db: getDb(), periodId });
    const redis = createRedis("worker");
    const dirty = await redis.zrange(`${getEnv().QUEUE_PREFIX}:metrics:dirty`, 0, -1);
    redis.disconnect();
    expect(dirty.sort()).toEqual([first, second].sort());
    // Asked twice, still one job waiting to recompute them.
    const delayed = await getQueue("metrics").getDelayed();
    expect(delayed.map((job) => job.name)).toEqual(["recompute-dirty-topic-metrics"]);
  });
});

describe("recomputing a topic", () => {
  it("gives a topic nobody ranked a zero count and no average, and does not call it stale", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 3 });
    const result = await recomputeTopicMetrics({ db: getDb(), topicId: topics[0].id, recomputeId: randomUUID() });
    expect(result?.view).toMatchObject({ studentCount: 0, averagePosition: null, standardDeviation: null, percentile: null, competitionCategory: null });
    const listed = await getPeriodMetrics({ db: getDb(), periodId: period.id });
    expect(listed.map((view) => [view.studentCount, view.averagePosition, view.isStale])).toEqual([
      [0, null, false],
      [0, null, false],
      [0, null, false],
    ]);
  });

  it("answers null for a topic that does not exist", async () => {
    expect(await recomputeTopicMetrics({ db: getDb(), topicId: randomUUID(), recomputeId: randomUUID() })).toBeNull();
  });

  it("writes one trend point and one event per recompute, even when the job runs again after committing", async () => {
    const topicId = agh.period.topicIds[3];
    const recomputeId = randomUUID();
    const requestedAt = new Date();
    const first = await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId, requestedAt });
    const again = await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId, requestedAt });
    expect(first?.replayed).toBe(false);
    expect(again?.replayed).toBe(true);
    // Another recompute in between must not make the retry look new.
    await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId: randomUUID() });
    const late = await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId, requestedAt });
    expect(late?.replayed).toBe(true);

    const points = await topicEvents.count(getDb(), { namespace: topicId, bounds: { eq: requestedAt.getTime() } });
    expect(points).toBe(1);
    const calculated = await getDb()
      .select()
      .from(events)
      .where(and(eq(events.type, "METRICS_CALCULATED"), eq(events.periodId, agh.period.periodId)));
    const forTopic = calculated.filter((event) => (event.payload as { topicId: string }).topicId === topicId);
    const [stored] = await getDb().select().from(topicMetrics).where(eq(topicMetrics.topicId, topicId));
    expect(stored.lastRecomputeId).toBe(recomputeId);
    // The two distinct recomputes each recorded one event, the replays none.
    expect(forTopic.length).toBeGreaterThanOrEqual(2);
    const before = forTopic.length;
    await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId, requestedAt });
    const after = await getDb()
      .select()
      .from(events)
      .where(and(eq(events.type, "METRICS_CALCULATED"), eq(events.periodId, agh.period.periodId)));
    expect(after.filter((event) => (event.payload as { topicId: string }).topicId === topicId)).toHaveLength(before);
  });
});

describe("topic trends", () => {
  it("average the points of each bucket within the requested window", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 2 });
    const topicId = topics[0].id;
    const students = await Promise.all([makeUser(), makeUser()]);
    const save = (studentId: string, position: number, version: number) =>
      applyRankingBatch({
        db: getDb(),
        studentId,
        periodId: period.id,
        batchId: randomUUID(),
        sessionId: "test",
        baseVersion: version,
        updates: position === 1 ? [{ topicId, position: 1 }] : [{ topicId: topics[1].id, position: 1 }, { topicId, position: 2 }],
      });
    const base = Date.UTC(2026, 0, 1, 10, 0, 0);
    await save(students[0].id, 1, 0);
    await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId: randomUUID(), requestedAt: new Date(base + 60_000) }); // avg 1
    await save(students[1].id, 2, 0);
    await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId: randomUUID(), requestedAt: new Date(base + 120_000) }); // avg 1.5
    await recomputeTopicMetrics({ db: getDb(), topicId, recomputeId: randomUUID(), requestedAt: new Date(base + 20 * 60_000) }); // avg 1.5

    const fifteen = await getTopicTrend({ db: getDb(), topicId, since: new Date(base), until: new Date(base + 3_600_000), bucketMinutes: 15 });
    expect(fifteen).toEqual([
      { at: new Date(base).toISOString(), averagePosition: 1.25, recomputes: 2 },
      { at: new Date(base + 15 * 60_000).toISOString(), averagePosition: 1.5, recomputes: 1 },
    ]);
    const hourly = await getTopicTrend({ db: getDb(), topicId, since: new Date(base), until: new Date(base + 3_600_000), bucketMinutes: 60 });
    expect(hourly).toHaveLength(1);
    expect(hourly[0].averagePosition).toBeCloseTo((1 + 1.5 + 1.5) / 3, 12);
    const narrowed = await getTopicTrend({ db: getDb(), topicId, since: new Date(base + 90_000), until: new Date(base + 3_600_000), bucketMinutes: 60 });
    expect(narrowed[0]).toMatchObject({ averagePosition: 1.5, recomputes: 2 });
  });
});

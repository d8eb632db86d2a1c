import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { getDb } from "~/db.server";
import { getDashboard, spanWholePeriod, trendBucketMinutes } from "~/models/dashboard.server";
import { makeOpenPeriod, makeUser, saveRanking } from "../support/factories";
import { releaseQueues } from "../support/queues";

// Reading metrics asks the metrics queue to recompute stale topics.
afterAll(async () => {
  await releaseQueues();
});

describe("the dashboard's data", () => {
  it("holds every topic, participation now and over time, and the trend of the asked-for topic", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 4 });
    const [ranker] = await Promise.all([makeUser(), makeUser()]);
    await saveRanking({
      studentId: ranker.id,
      periodId: period.id,
      topicIds: [topics[1].id],
      sessionId: "dashboard-test",
    });
    const asked = await getDashboard({ db: getDb(), period, trendTopicId: topics[2].id });
    expect(asked.metrics.map((view) => view.topicId).sort()).toEqual(topics.map((topic) => topic.id).sort());
    expect(asked.participation).toEqual({ students: 2, ranked: 1, notRanked: 1 });
    expect(asked.participationOverTime.points.at(-1)?.ranked).toBe(1);
    expect(asked.trend.topicId).toBe(topics[2].id);

    const foreign = await getDashboard({ db: getDb(), period, trendTopicId: randomUUID() });
    expect(topics.map((topic) => topic.id)).toContain(foreign.trend.topicId);
  });

  it("picks trend buckets so a young period gets fine points and an old one hourly or coarser", () => {
    const now = new Date("2026-03-01T12:00:00Z");
    const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
    expect(trendBucketMinutes(ago(30), now)).toBe(5);
    expect(trendBucketMinutes(ago(6 * 60), now)).toBe(5);
    expect(trendBucketMinutes(ago(24 * 60), now)).toBe(15);
    expect(trendBucketMinutes(ago(4 * 24 * 60), now)).toBe(60);
    expect(trendBucketMinutes(ago(365 * 24 * 60), now)).toBe(1440);
  });

  it("anchors participation at zero when the period opened and at its last value now", () => {
    const points = [
      { at: "2026-03-01T10:00:00.000Z", ranked: 2 },
      { at: "2026-03-01T11:00:00.000Z", ranked: 5 },
    ];
    expect(spanWholePeriod(points, new Date("2026-03-01T08:00:00Z"), new Date("2026-03-01T12:00:00Z"))).toEqual([
      { at: "2026-03-01T08:00:00.000Z", ranked: 0 },
      ...points,
      { at: "2026-03-01T12:00:00.000Z", ranked: 5 },
    ]);
    expect(spanWholePeriod([], new Date("2026-03-01T08:00:00Z"))).toEqual([]);
  });
});

import { desc, eq, inArray } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { consistencyRuns, topicMetrics } from "../../drizzle/schema";
import { startWorkers } from "../../jobs/workers";
import { getDb } from "~/db.server";
import { enqueue } from "~/queues.server";
import { makeOpenPeriod, makeUser, saveRanking } from "../support/factories";
import { metricsBySql } from "../support/metrics";
import { releaseQueues } from "../support/queues";
import { until } from "../support/wait";

const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await releaseQueues();
});

describe("catching up after saves that never reached the queue", () => {
  it("lets the consistency job find the stale topics and bring their metrics to the truth", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 3 });
    const students = await Promise.all(Array.from({ length: 6 }, () => makeUser()));
    // Saves commit while no recompute is requested, as when Redis is down.
    for (const [index, student] of students.entries()) {
      const order = index % 2 === 0 ? [topics[0], topics[1]] : [topics[1], topics[0], topics[2]];
      await saveRanking({
        studentId: student.id,
        periodId: period.id,
        topicIds: order.map((topic) => topic.id),
        sessionId: "catch-up",
      });
    }
    const topicIds = topics.map((topic) => topic.id);
    const storedBefore = await getDb().select().from(topicMetrics).where(inArray(topicMetrics.topicId, topicIds));
    expect(storedBefore.filter((row) => row.studentCount > 0)).toEqual([]);

    const running = await startWorkers({ concurrency: 2 });
    cleanups.push(() => running.close());
    await enqueue("checkConsistency", { periodId: period.id });

    const [run] = await until(async () => {
      const rows = await getDb().select().from(consistencyRuns).where(eq(consistencyRuns.periodId, period.id)).orderBy(desc(consistencyRuns.id));
      return rows.length > 0 && rows;
    }, "the consistency run");
    expect(run.trigger).toBe("job");
    expect(run.differences).toBe(0);
    expect([...run.report.staleTopicIds].sort()).toEqual([...topicIds].sort());
    expect(run.report.recomputeRequested).toBe(true);

    const truth = await metricsBySql(getDb(), period.id);
    await until(async () => {
      const stored = await getDb().select().from(topicMetrics).where(inArray(topicMetrics.topicId, topicIds));
      return stored.length === topicIds.length && stored.every((row) => row.studentCount === truth.get(row.topicId)!.studentCount);
    }, "the recomputed metrics");
    const stored = await getDb().select().from(topicMetrics).where(inArray(topicMetrics.topicId, topicIds));
    for (const row of stored) {
      const expected = truth.get(row.topicId)!;
      expect(row.distribution).toEqual(expected.distribution);
      expect(row.averagePosition).toBeCloseTo(expected.averagePosition!, 12);
      expect(row.standardDeviation).toBeCloseTo(expected.standardDeviation!, 9);
      expect(row.competitionCategory).toBe(expected.competitionCategory);
    }
  });
});

import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "~/db.server";
import { verifyAggregates } from "~/models/consistency.server";
import { pendingRankingDeltas, rankingsByStudent, rankingsByTopic } from "~/models/ranking-aggregates.server";
import { applyRankingBatch, getStudentRanking, undoLastBatch, type RankingResult } from "~/models/ranking.server";
import { getQueue } from "~/queues.server";
import { action as rankingAction } from "~/routes/student.ranking";
import { seededRandom } from "~/utils/random";
import { JOBS } from "../../jobs/catalogue";
import { makeOpenPeriod, makeUser } from "../support/factories";
import { useWorkersWithEvents } from "../support/queues";
import { callRoute, sessionCookie, type RouteHandler } from "../support/routes";
import { until } from "../support/wait";

/** Deltas a ranking result appended: per changed row, a delete of the old and an insert of the new, in both aggregates. */
const deltasOf = (result: RankingResult) =>
  2 * result.changes.reduce((sum, change) => sum + (change.oldPos === null ? 0 : 1) + (change.newPos === null ? 0 : 1), 0);

/** Stops the aggregates queue handing out jobs and waits for the one running (a scheduled compaction) to end. */
async function pauseCompaction() {
  const queue = getQueue("aggregates");
  await queue.pause();
  await until(async () => (await queue.getActiveCount()) === 0, "the running compaction to finish");
  return queue;
}

/** Every count and sum against plain SQL (verifyAggregates), and every student's list in order against the rankings table. */
async function expectReadsEqualSql(periodId: string) {
  const report = await verifyAggregates({ db: getDb(), periodId });
  expect({ differences: report.differences, invalidTrees: report.invalidTrees }).toEqual({ differences: [], invalidTrees: [] });
  expect(report.checkedTopics).toBeGreaterThan(0);
  const rows = await getDb().execute<{ student_id: string; topics: string[] }>(sql`
    select student_id, array_agg(topic_id::text order by position) as topics
    from rankings where period_id = ${periodId} group by student_id`);
  for (const row of rows) {
    const items = [];
    for await (const item of rankingsByStudent.iter(getDb(), { namespace: `${periodId}:${row.student_id}` })) items.push(item.id);
    expect(items).toEqual(row.topics);
  }
  const [topicTotals] = await getDb().execute<{ n: number }>(sql`select count(*)::int as n from rankings where period_id = ${periodId}`);
  const topics = await getDb().execute<{ id: string }>(sql`select id from topics where period_id = ${periodId}`);
  const counts = await rankingsByTopic.countBatch(getDb(), topics.map((topic) => ({ namespace: topic.id })));
  expect(counts.reduce((sum, count) => sum + count, 0)).toBe(topicTotals.n);
}

describe("the compactAggregates job", () => {
  useWorkersWithEvents("aggregates");

  it("is registered at worker boot to run every 2 seconds", async () => {
    const schedulers = await getQueue("aggregates").getJobSchedulers();
    const scheduler = schedulers.find((entry) => entry.key === "compact-aggregates-every-2-seconds");
    expect(scheduler).toMatchObject({ name: JOBS.compactAggregates.name, every: 2_000 });
  });

  it("drains the deltas that saves and undos leave, in the real worker; reads equal SQL before and after", async () => {
    const queue = await pauseCompaction();
    const { period, topics } = await makeOpenPeriod({ topicCount: 6, capacity: 10 });
    const topicIds = topics.map((topic) => topic.id);
    const students = await Promise.all(Array.from({ length: 20 }, () => makeUser()));
    const random = seededRandom(17);
    let written = 0;
    for (const student of students) {
      for (let round = 0; round < 3; round++) {
        const current = await getStudentRanking({ db: getDb(), studentId: student.id, periodId: period.id });
        const order = [...topicIds].sort(() => random() - 0.5).slice(0, 1 + Math.floor(random() * topicIds.length));
        const result = await applyRankingBatch({
          db: getDb(),
          studentId: student.id,
          periodId: period.id,
          batchId: randomUUID(),
          sessionId: "compaction",
          baseVersion: current.version,
          updates: [
            ...order.map((topicId, index) => ({ topicId, position: index + 1 })),
            ...current.order.filter((id) => !order.includes(id)).map((topicId) => ({ topicId, position: null })),
          ],
        });
        written += deltasOf(result);
      }
      if (random() < 0.3) {
        written += deltasOf(
          await undoLastBatch({ db: getDb(), studentId: student.id, periodId: period.id, batchId: randomUUID(), sessionId: "compaction" }),
        );
      }
    }
    expect(written).toBeGreaterThan(0);
    // Nothing compacted them yet: every delta is pending, and reads add them up exactly.
    expect(await pendingRankingDeltas(getDb())).toBe(written);
    await expectReadsEqualSql(period.id);

    const resumedAt = Date.now();
    await queue.resume();
    await until(async () => (await pendingRankingDeltas(getDb())) === 0, "the worker to fold every delta", 30_000);
    await expectReadsEqualSql(period.id);
    // The trees now hold every item in their nodes.
    const [nodes] = await getDb().execute<{ items: number }>(sql`
      select coalesce(sum(cardinality(keys)), 0)::int as items from aggregate_nodes
      where aggregate = 'rankingsByTopic' and namespace = any(${sql.param(topicIds)}::text[])`);
    const [rows] = await getDb().execute<{ n: number }>(sql`select count(*)::int as n from rankings where period_id = ${period.id}`);
    expect(nodes.items).toBe(rows.n);

    // The jobs that ran since folded exactly the deltas written, and found none that did not match its tree.
    const finished = (await queue.getCompleted(0, 99)).filter((job) => (job.finishedOn ?? 0) >= resumedAt);
    const folded = finished.reduce((sum, job) => sum + (job.returnvalue as { deltas: number }).deltas, 0);
    const anomalies = finished.reduce((sum, job) => sum + (job.returnvalue as { anomalies: number }).anomalies, 0);
    expect({ folded, anomalies }).toEqual({ folded: written, anomalies: 0 });
    expect(await queue.getFailedCount()).toBe(0);
  });

  it("folds the deltas of saves through the ranking route on its schedule; saves request no job of their own", async () => {
    const queue = await pauseCompaction();
    const { period, topics } = await makeOpenPeriod({ topicCount: 4 });
    const student = await makeUser();
    const cookie = await sessionCookie(student.id);
    const post = (body: object) =>
      callRoute(
        rankingAction as RouteHandler,
        new Request("http://localhost/student/ranking", {
          method: "POST",
          body: JSON.stringify({ periodId: period.id, batchId: randomUUID(), ...body }),
          headers: { "Content-Type": "application/json", Cookie: cookie },
        }),
      );
    const orders = [[0, 1, 2], [2, 0], [3, 2, 1, 0]].map((order) => order.map((index) => topics[index].id));
    let previous: string[] = [];
    for (const [version, order] of orders.entries()) {
      const updates = [
        ...order.map((topicId, index) => ({ topicId, position: index + 1 })),
        ...previous.filter((topicId) => !order.includes(topicId)).map((topicId) => ({ topicId, position: null })),
      ];
      const response = await post({ expectedVersion: version, updates });
      expect(await response.json()).toMatchObject({ ok: true, order });
      previous = order;
    }
    // A stale save changes nothing and asks for nothing more.
    expect((await post({ expectedVersion: 0, updates: [{ topicId: topics[0].id, position: 1 }] })).status).toBe(409);

    // Saves only append deltas: folding them is the scheduler's work, not one job per save.
    const requested = (await queue.getJobs(["delayed", "waiting", "prioritized"])).filter(
      (job) => job.name === JOBS.compactAggregates.name && !job.repeatJobKey,
    );
    expect(requested).toHaveLength(0);
    expect(await pendingRankingDeltas(getDb())).toBeGreaterThan(0);

    await queue.resume();
    await until(async () => (await pendingRankingDeltas(getDb())) === 0, "the deltas to be folded", 30_000);
    await expectReadsEqualSql(period.id);
  });
});

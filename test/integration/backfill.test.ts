import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { events, preferences, rankings } from "../../drizzle/schema";
import { REPO_ROOT } from "../../scripts/lib/paths";
import { getDb, withTransaction } from "~/db.server";
import { getEnv } from "~/env.server";
import { backfillPreferences, backfillBatchId } from "~/models/backfill.server";
import { verifyAggregates } from "~/models/consistency.server";
import { pendingRankingDeltas } from "~/models/ranking-aggregates.server";
import { closePeriod } from "~/models/period.server";
import { applyRankingBatch, getStudentRanking } from "~/models/ranking.server";
import { ensureStudents } from "~/models/seed.server";
import { enqueue } from "~/queues.server";
import { loadAgh, makeOpenPeriod } from "../support/factories";
import { useWorkersWithEvents } from "../support/queues";

const run = promisify(execFile);

type Fixture = {
  periodId: string;
  topicIds: string[];
  /** Each AGH voter's student id and expected order. */
  expected: { studentId: string; order: string[] }[];
  /** Legacy rows that must be rejected, by student id, with a word the reason must contain. */
  bad: { studentId: string; reasonContains: string }[];
};

/** Loads the AGH 2003 voters as legacy preferences of a fresh open period, plus three broken rows. */
async function loadAghAsPreferences(tag: string): Promise<Fixture> {
  const soc = loadAgh();
  const { period, topics } = await makeOpenPeriod({ topicCount: soc.alternatives.length, capacity: 20 });
  const other = await makeOpenPeriod({ topicCount: 1 });
  const topicIds = topics.map((topic) => topic.id);
  const emails = soc.voters.map((_, index) => `${tag}-voter-${index + 1}@example.edu`);
  const badEmails = ["unknown", "duplicate", "two-periods"].map((kind) => `${tag}-${kind}@example.edu`);
  const ids = await ensureStudents({ db: getDb(), emails: [...emails, ...badEmails], password: "legacy password" });
  const expected = soc.voters.map((order, index) => ({
    studentId: ids[index],
    order: order.map((alternative) => topicIds[alternative - 1]),
  }));
  const [unknown, duplicate, twoPeriods] = ids.slice(emails.length);
  await getDb()
    .insert(preferences)
    .values([
      ...expected.map(({ studentId, order }) => ({ studentId, periodId: period.id, topicIds: order })),
      { studentId: unknown, periodId: period.id, topicIds: [topicIds[0], randomUUID()] },
      { studentId: duplicate, periodId: period.id, topicIds: [topicIds[0], topicIds[1], topicIds[0]] },
      { studentId: twoPeriods, periodId: period.id, topicIds: [topicIds[2], other.topics[0].id] },
    ]);
  return {
    periodId: period.id,
    topicIds,
    expected,
    bad: [
      { studentId: unknown, reasonContains: "unknown topic" },
      { studentId: duplicate, reasonContains: "more than once" },
      { studentId: twoPeriods, reasonContains: "another period" },
    ],
  };
}

async function snapshot(periodId: string) {
  const [row] = await getDb().execute<{
    rankings: number;
    events: number;
    batches: number;
    checkpoints: number;
    fingerprint: string;
  }>(sql`
    select (select count(*)::int from rankings where period_id = ${periodId}) as rankings,
           (select count(*)::int from events) as events,
           (select count(*)::int from ranking_batches where period_id = ${periodId}) as batches,
           (select count(*)::int from preference_backfills where period_id = ${periodId}) as checkpoints,
           (select md5(coalesce(string_agg(concat_ws(':', student_id, topic_id, position, updated_at), ',' order by student_id, topic_id), ''))
              from rankings where period_id = ${periodId}) as fingerprint`);
  return row;
}

async function eventCount(type: string, periodId: string) {
  const [row] = await getDb().execute<{ n: number }>(
    sql`select count(*)::int as n from events where type = ${type} and period_id = ${periodId}`
  );
  return row.n;
}

async function expectRankingsEqual(fixture: Fixture) {
  for (const { studentId, order } of fixture.expected) {
    const current = await getStudentRanking({ db: getDb(), studentId, periodId: fixture.periodId });
    expect(current.order).toEqual(order);
  }
  for (const { studentId } of fixture.bad) {
    const rows = await getDb()
      .select()
      .from(rankings)
      .where(and(eq(rankings.studentId, studentId), eq(rankings.periodId, fixture.periodId)));
    expect(rows).toEqual([]);
  }
}

describe("backfillPreferences", () => {
  it("survives a crash half way: the resumed run ends with exactly the AGH rankings, one event each, and a second run changes nothing", async () => {
    const fixture = await loadAghAsPreferences("crash");
    const voters = fixture.expected.length;
    const total = voters + fixture.bad.length;

    // Pages of 20: the crash comes after 2 checkpointed pages and 10 rows whose batches committed without a checkpoint.
    const crashAfter = 50;
    const seen: number[] = [];
    await expect(
      backfillPreferences({
        db: getDb(),
        periodId: fixture.periodId,
        batchSize: 20,
        // One row at a time, so exactly what committed before the crash is known.
        concurrency: 1,
        onProgress: (progress) => {
          seen.push(progress.done);
          expect(progress.total).toBe(total);
          if (progress.done === crashAfter) throw new Error("simulated crash");
        },
      })
    ).rejects.toThrow("simulated crash");
    expect(seen).toEqual(Array.from({ length: crashAfter }, (_, index) => index + 1));
    // Rows are taken in student id order: the first 40 were checkpointed (the broken ones are never), the first 50 reached.
    const voterIds = new Set(fixture.expected.map((e) => e.studentId));
    const byId = [...voterIds, ...fixture.bad.map((b) => b.studentId)].sort();
    const checkpointed = byId.slice(0, 40).filter((id) => voterIds.has(id)).length;
    const reached = byId.slice(0, crashAfter).filter((id) => voterIds.has(id));
    const crashed = await snapshot(fixture.periodId);
    expect(crashed.checkpoints).toBe(checkpointed);
    expect(await eventCount("PREFERENCES_BACKFILLED", fixture.periodId)).toBe(checkpointed);
    expect(await distinctRankedStudents(fixture.periodId)).toBe(reached.length);
    // The crashed run never reached its compaction: its batches' deltas wait in the buffers.
    expect(await pendingRankingDeltas(getDb())).toBeGreaterThan(0);

    const resumed = await backfillPreferences({ db: getDb(), periodId: fixture.periodId, batchSize: 20 });
    expect(resumed).toMatchObject({
      total: total - checkpointed,
      done: total - checkpointed,
      applied: voters - checkpointed,
      unchanged: 0,
      rejected: 3,
    });
    expect(resumed.problems.map((problem) => problem.studentId).sort()).toEqual(
      fixture.bad.map((bad) => bad.studentId).sort()
    );
    for (const bad of fixture.bad) {
      const problem = resumed.problems.find((p) => p.studentId === bad.studentId)!;
      expect(problem.reason).toContain(bad.reasonContains);
      expect(problem.periodId).toBe(fixture.periodId);
      expect(problem.topicIds.length).toBeGreaterThan(0);
    }
    await expectRankingsEqual(fixture);
    // The resumed run folded every delta, its own and the crashed run's, into the trees.
    expect(await pendingRankingDeltas(getDb())).toBe(0);
    // Both aggregates were maintained by the ranking model: every count and sum equals SQL and every tree is valid.
    const verified = await verifyAggregates({ db: getDb(), periodId: fixture.periodId });
    expect(verified).toMatchObject({ checkedTopics: fixture.topicIds.length, checkedStudents: voters });
    expect([verified.differences, verified.invalidTrees]).toEqual([[], []]);
    expect(await eventCount("PREFERENCES_BACKFILLED", fixture.periodId)).toBe(voters);
    // One ranking batch per voter: the rows that committed before the crash were not applied twice.
    expect(await eventCount("RANKINGS_BATCH_UPDATED", fixture.periodId)).toBe(voters);
    const backfilled = await getDb()
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.type, "PREFERENCES_BACKFILLED"), eq(events.periodId, fixture.periodId)));
    expect(new Set(backfilled.map((event) => (event.payload as { studentId: string }).studentId)).size).toBe(voters);
    expect(
      backfilled.every((event) => (event.payload as { topicCount: number }).topicCount === fixture.topicIds.length)
    ).toBe(true);

    const before = await snapshot(fixture.periodId);
    expect(before.checkpoints).toBe(voters);
    const again = await backfillPreferences({ db: getDb(), periodId: fixture.periodId });
    expect(again).toMatchObject({ total: 3, applied: 0, unchanged: 0, rejected: 3 });
    expect(await snapshot(fixture.periodId)).toEqual(before);
  });

  it("keeps a ranking the student changed after the backfill, and carries a newer legacy row over again", async () => {
    const fixture = await loadAghAsPreferences("later");
    await backfillPreferences({ db: getDb(), periodId: fixture.periodId });
    const [first, second] = fixture.expected;

    const own = await getStudentRanking({ db: getDb(), studentId: first.studentId, periodId: fixture.periodId });
    await applyRankingBatch({
      db: getDb(),
      studentId: first.studentId,
      periodId: fixture.periodId,
      batchId: randomUUID(),
      sessionId: "student-tab",
      baseVersion: own.version,
      updates: [
        { topicId: own.order[0], position: 2 },
        { topicId: own.order[1], position: 1 },
      ],
    });
    const newer = [...second.order].reverse();
    await getDb()
      .update(preferences)
      .set({ topicIds: newer, lastUpdated: sql`now()` })
      .where(and(eq(preferences.studentId, second.studentId), eq(preferences.periodId, fixture.periodId)));

    const report = await backfillPreferences({ db: getDb(), periodId: fixture.periodId });
    expect(report).toMatchObject({ total: 4, applied: 1, rejected: 3 });
    const firstNow = await getStudentRanking({ db: getDb(), studentId: first.studentId, periodId: fixture.periodId });
    expect(firstNow.order).toEqual([own.order[1], own.order[0], ...own.order.slice(2)]);
    const secondNow = await getStudentRanking({ db: getDb(), studentId: second.studentId, periodId: fixture.periodId });
    expect(secondNow.order).toEqual(newer);
  });

  it("reports the rows of a period that is no longer open instead of changing a closed ranking", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 3 });
    const [studentId] = await ensureStudents({
      db: getDb(),
      emails: ["closed-legacy@example.edu"],
      password: "legacy",
    });
    await getDb()
      .insert(preferences)
      .values({ studentId, periodId: period.id, topicIds: topics.map((topic) => topic.id) });
    await withTransaction(getDb(), (tx) =>
      closePeriod({ tx, periodId: period.id, actor: { actorId: null, actorType: "system", sessionId: "test" } })
    );
    const before = await snapshot(period.id);
    const report = await backfillPreferences({ db: getDb(), periodId: period.id });
    expect(report).toMatchObject({ total: 1, applied: 0, rejected: 1 });
    expect(report.problems[0]).toMatchObject({ studentId, reason: expect.stringContaining("closed") });
    expect(await snapshot(period.id)).toEqual(before);
  });

  it("derives one batch id per legacy row version", () => {
    const row = { studentId: randomUUID(), periodId: randomUUID(), lastUpdatedMicros: "1795889721293481" };
    expect(backfillBatchId(row)).toBe(backfillBatchId({ ...row }));
    expect(backfillBatchId(row)).not.toBe(backfillBatchId({ ...row, lastUpdatedMicros: "1795889721293482" }));
    expect(backfillBatchId(row)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

async function distinctRankedStudents(periodId: string) {
  const [row] = await getDb().execute<{ n: number }>(
    sql`select count(distinct student_id)::int as n from rankings where period_id = ${periodId}`
  );
  return row.n;
}

describe("npm run backfill", () => {
  it("prints the summary and every rejected row, exits 1 while rows are rejected, and applies the rest", async () => {
    const fixture = await loadAghAsPreferences("cli");
    const result = await run(
      `${REPO_ROOT}/node_modules/.bin/tsx`,
      ["scripts/backfill.ts", "--period", fixture.periodId],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: getEnv().DATABASE_URL },
      }
    ).then(
      () => {
        throw new Error("expected exit code 1");
      },
      (error: { code: number; stdout: string }) => error
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${fixture.expected.length + 3} pending, ${fixture.expected.length} applied`);
    for (const bad of fixture.bad)
      expect(result.stdout).toMatch(new RegExp(`rejected: student ${bad.studentId}.*${bad.reasonContains}`));
    await expectRankingsEqual(fixture);

    const usage = await run(`${REPO_ROOT}/node_modules/.bin/tsx`, ["scripts/backfill.ts", "--period", "nope"], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: getEnv().DATABASE_URL },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(usage).toMatchObject({ code: 2 });
    expect((usage as { stderr: string }).stderr).toContain("--period must be a selection period id");
  });
});

describe("the backfillPreferences job", () => {
  const workers = useWorkersWithEvents("maintenance");

  it("runs in the real worker, reports progress to BullMQ and returns the report", async () => {
    const fixture = await loadAghAsPreferences("job");
    const progress: { done: number; total: number }[] = [];
    const onProgress = ({ data }: { jobId: string; data: unknown }) =>
      progress.push(data as { done: number; total: number });
    workers.queueEvents.on("progress", onProgress);
    const job = await enqueue("backfillPreferences", { periodId: fixture.periodId });
    const result = await job.waitUntilFinished(workers.queueEvents, 60_000);
    workers.queueEvents.off("progress", onProgress);
    expect(result).toMatchObject({ total: 149, done: 149, applied: 146, rejected: 3, problemCount: 3 });
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.at(-1)).toMatchObject({ done: 149, total: 149 });
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    await expectRankingsEqual(fixture);
  });
});

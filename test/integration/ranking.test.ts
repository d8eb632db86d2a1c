import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "~/db.server";
import { getEnv } from "~/env.server";
import { diffOrders, orderOf, replayChanges, type RankingChange } from "~/models/ranking";
import { rankingsByStudent, rankingsByTopic } from "~/models/ranking-aggregates.server";
import { applyRankingBatch, getStudentRanking, RankingError, undoLastBatch, type RankingResult } from "~/models/ranking.server";
import { seededRandom } from "~/utils/random";
import { makeOpenPeriod, makeUser } from "../support/factories";
import { until } from "../support/wait";

const STUDENTS = 16;
const TABS_PER_STUDENT = 2;
const STEPS_PER_TAB = 14;
const TOPICS = 12;

/** A random edit of an order, like a student's: move, add, remove or shuffle a few. */
function edit(order: string[], topicIds: string[], next: () => number): string[] {
  const result = order.slice();
  const pick = <T,>(items: T[]) => items[Math.floor(next() * items.length)];
  const unranked = topicIds.filter((id) => !result.includes(id));
  const roll = next();
  if (roll < 0.3 && unranked.length > 0) {
    result.splice(Math.floor(next() * (result.length + 1)), 0, pick(unranked));
  } else if (roll < 0.45 && result.length > 0) {
    result.splice(Math.floor(next() * result.length), 1);
  } else if (roll < 0.9 && result.length > 1) {
    const [moved] = result.splice(Math.floor(next() * result.length), 1);
    result.splice(Math.floor(next() * (result.length + 1)), 0, moved);
  } else {
    for (let index = result.length - 1; index > 0; index--) {
      const other = Math.floor(next() * (index + 1));
      [result[index], result[other]] = [result[other], result[index]];
    }
  }
  return result;
}

type Outcome = { applied: number; conflicts: number; undos: number; replays: number; nothingToUndo: number };

/**
 * One browser tab of a student: it keeps its own idea of the saved order and
 * version, edits it, and saves; on a conflict it adopts the server's order,
 * as the page does.
 */
async function runTab(studentId: string, periodId: string, topicIds: string[], seed: number): Promise<Outcome> {
  const db = getDb();
  const next = seededRandom(seed);
  const outcome: Outcome = { applied: 0, conflicts: 0, undos: 0, replays: 0, nothingToUndo: 0 };
  let known = await getStudentRanking({ db, studentId, periodId });
  const answered: { batchId: string; result: RankingResult }[] = [];
  for (let step = 0; step < STEPS_PER_TAB; step++) {
    const batchId = randomUUID();
    try {
      let result: RankingResult;
      const roll = next();
      if (roll < 0.1 && answered.length > 0) {
        const earlier = answered[Math.floor(next() * answered.length)];
        result = await applyRankingBatch({ db, studentId, periodId, batchId: earlier.batchId, sessionId: "tab", baseVersion: 0, updates: [] });
        expect(result).toEqual({ ...earlier.result, replayed: true });
        outcome.replays++;
        continue;
      }
      if (roll < 0.2) {
        result = await undoLastBatch({ db, studentId, periodId, batchId, sessionId: "tab", baseVersion: known.version });
        outcome.undos++;
      } else {
        const target = edit(known.order, topicIds, next);
        result = await applyRankingBatch({
          db,
          studentId,
          periodId,
          batchId,
          sessionId: "tab",
          baseVersion: known.version,
          updates: diffOrders(known.order, target),
        });
        expect(result.order).toEqual(target);
        outcome.applied++;
      }
      expect(result.affectedTopicIds).toEqual([...new Set(result.changes.map((change) => change.topicId))].sort());
      answered.push({ batchId, result });
      known = { order: result.order, version: result.version };
    } catch (error) {
      if (!(error instanceof RankingError)) throw error;
      if (error.code === "stale-version") {
        outcome.conflicts++;
        known = error.current!;
      } else if (error.code === "nothing-to-undo") {
        outcome.nothingToUndo++;
      } else {
        throw error;
      }
    }
  }
  return outcome;
}

let period: Awaited<ReturnType<typeof makeOpenPeriod>>;
let studentIds: string[];
let outcomes: Outcome[];

beforeAll(async () => {
  period = await makeOpenPeriod({ topicCount: TOPICS });
  studentIds = (await Promise.all(Array.from({ length: STUDENTS }, () => makeUser()))).map((user) => user.id);
  const topicIds = period.topics.map((topic) => topic.id);
  outcomes = await Promise.all(
    studentIds.flatMap((studentId, student) =>
      Array.from({ length: TABS_PER_STUDENT }, (_, tab) => runTab(studentId, period.period.id, topicIds, 1_000 * student + tab + 1)),
    ),
  );
}, 180_000);

describe("hundreds of random batches from concurrent students with two tabs each", () => {
  it("applied hundreds of batches, met real two-tab conflicts, undos and replays", () => {
    const total = { applied: 0, conflicts: 0, undos: 0, replays: 0, nothingToUndo: 0 };
    for (const outcome of outcomes) {
      for (const key of Object.keys(total) as (keyof Outcome)[]) total[key] += outcome[key];
    }
    expect(Object.values(total).reduce((a, b) => a + b)).toBe(STUDENTS * TABS_PER_STUDENT * STEPS_PER_TAB);
    expect(total.applied).toBeGreaterThan(200);
    expect(total.conflicts).toBeGreaterThan(0);
    expect(total.undos).toBeGreaterThan(0);
    expect(total.replays).toBeGreaterThan(0);
  });

  it("leaves every student's ranking contiguous 1..k over distinct topics of the period", async () => {
    const rows = await getDb().execute<{ student_id: string; positions: number[]; topics: number; wrong_period: number }>(sql`
      select r.student_id, array_agg(r.position order by r.position) as positions, count(distinct r.topic_id)::int as topics,
             count(*) filter (where t.period_id <> r.period_id)::int as wrong_period
      from rankings r join topics t on t.id = r.topic_id
      where r.period_id = ${period.period.id}
      group by r.student_id`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.positions).toEqual(Array.from({ length: row.positions.length }, (_, index) => index + 1));
      expect(row.topics).toBe(row.positions.length);
      expect(row.wrong_period).toBe(0);
    }
  });

  it("rebuilds exactly the rankings table by replaying the events in order", async () => {
    const db = getDb();
    const events = await db.execute<{ type: string; payload: { studentId: string; updates: RankingChange[] } }>(sql`
      select type, payload from events
      where period_id = ${period.period.id} and type in ('RANKINGS_BATCH_UPDATED', 'RANKINGS_UNDONE')
      order by id`);
    const rebuilt = new Map<string, Map<string, number>>();
    for (const event of events) {
      const positions = rebuilt.get(event.payload.studentId) ?? new Map<string, number>();
      replayChanges(positions, event.payload.updates);
      rebuilt.set(event.payload.studentId, positions);
    }
    for (const studentId of studentIds) {
      const { order, version } = await getStudentRanking({ db, studentId, periodId: period.period.id });
      expect(orderOf(rebuilt.get(studentId) ?? new Map())).toEqual(order);
      // One version per change that reached the table: no batch applied twice, none lost.
      expect(events.filter((event) => event.payload.studentId === studentId)).toHaveLength(version);
    }
  });

  it("keeps every topic's rankingsByTopic count and sums equal to plain SQL, and every tree valid", async () => {
    const db = getDb();
    const expected = await db.execute<{ topic_id: string; n: number; s: number; s2: number }>(sql`
      select t.id as topic_id, count(r.position)::int as n, coalesce(sum(r.position), 0)::int as s,
             coalesce(sum(r.position * r.position), 0)::int as s2
      from topics t left join rankings r on r.topic_id = t.id
      where t.period_id = ${period.period.id} group by t.id`);
    expect(expected.some((row) => row.n > 0)).toBe(true);
    const namespaces = expected.map((row) => ({ namespace: row.topic_id }));
    const [counts, sums] = await Promise.all([rankingsByTopic.countBatch(db, namespaces), rankingsByTopic.sumBatch(db, namespaces)]);
    expect(expected.map((_, index) => ({ n: counts[index], s: sums[index][0], s2: sums[index][1] }))).toEqual(
      expected.map(({ n, s, s2 }) => ({ n, s, s2 })),
    );
    for (const { topic_id } of expected) {
      const report = await rankingsByTopic.validate(db, topic_id);
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    }
    // The distribution (students per position) comes from key ranges of the same tree.
    const [busiest] = [...expected].sort((a, b) => b.n - a.n);
    const firstChoices = await rankingsByTopic.count(db, { namespace: busiest.topic_id, bounds: { eq: 1 } });
    const [sqlFirst] = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from rankings where topic_id = ${busiest.topic_id} and position = 1`,
    );
    expect(firstChoices).toBe(sqlFirst.n);
  });

  it("keeps every student's rankingsByStudent tree equal to their ranking, in order", async () => {
    const db = getDb();
    for (const studentId of studentIds) {
      const namespace = `${period.period.id}:${studentId}`;
      const { order } = await getStudentRanking({ db, studentId, periodId: period.period.id });
      const items = [];
      for await (const item of rankingsByStudent.iter(db, { namespace })) items.push(item);
      expect(items.map((item) => item.id)).toEqual(order);
      expect(await rankingsByStudent.sum(db, { namespace })).toEqual([(order.length * (order.length + 1)) / 2]);
      expect((await rankingsByStudent.validate(db, namespace)).ok).toBe(true);
    }
  });

  it("keeps previous_position as the position before the row's last move", async () => {
    const [row] = await getDb().execute<{ bad: number }>(sql`
      select count(*)::int as bad from rankings r
      where r.period_id = ${period.period.id} and r.previous_position is not distinct from r.position`);
    expect(row.bad).toBe(0);
  });
});

describe("one batch sent several times at once (a retry racing the original)", () => {
  it("is applied once and every copy answers the same result", async () => {
    const db = getDb();
    const student = await makeUser();
    const [first, second] = period.topics;
    const batchId = randomUUID();
    const send = () =>
      applyRankingBatch({
        db,
        studentId: student.id,
        periodId: period.period.id,
        batchId,
        sessionId: "race",
        baseVersion: 0,
        updates: [
          { topicId: second.id, position: 1 },
          { topicId: first.id, position: 2 },
        ],
      });
    const results = await Promise.all(Array.from({ length: 6 }, send));
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    for (const result of results) {
      expect({ ...result, replayed: false }).toEqual(results.find((r) => !r.replayed));
    }
    expect(await getStudentRanking({ db, studentId: student.id, periodId: period.period.id })).toEqual({
      order: [second.id, first.id],
      version: 1,
    });
    const [row] = await db.execute<{ events: number }>(
      sql`select count(*)::int as events from events where actor_id = ${student.id} and type = 'RANKINGS_BATCH_UPDATED'`,
    );
    expect(row.events).toBe(1);
  });
});

describe("a save whose ranking changes between its read and its commit", () => {
  /** Resolves once `count` backends of this database wait for a row lock. */
  async function lockWaiters(count: number) {
    await until(async () => {
      const [row] = await getDb().execute<{ n: number }>(sql`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and wait_event in ('transactionid', 'tuple')`);
      return row.n >= count;
    }, `${count} saves to wait for the held row`, 20_000, 20);
  }

  it("reads again and applies on top when it has no base version: all of a student's saves land, one after another", async () => {
    const { period: open, topics } = await makeOpenPeriod({ topicCount: 4 });
    const student = await makeUser();
    const topicIds = topics.map((topic) => topic.id);
    const first = await applyRankingBatch({
      db: getDb(),
      studentId: student.id,
      periodId: open.id,
      batchId: randomUUID(),
      sessionId: "race",
      baseVersion: 0,
      updates: diffOrders([], topicIds),
    });
    // Another transaction holds the student's ranking_states row, as a save in flight does: every save below
    // reads version 1, then waits at its commit; once released, all but the first find the version moved on.
    const blocker = postgres(getEnv().DATABASE_URL, { max: 1, onnotice: () => {} });
    const held = await blocker.reserve();
    try {
      await held`begin`;
      await held`select version from ranking_states where student_id = ${student.id} and period_id = ${open.id} for update`;
      const stats = { retries: 0 };
      // Six different orders, none the current one, so every save changes something whichever lands first.
      const [a, b, c, d] = topicIds;
      const targets = [[b, a, c, d], [c, b, a, d], [d, c, b, a], [a, c, d, b], [b, d, a, c], [c, a, d, b]];
      const saves = targets.map((target) =>
        applyRankingBatch({
          db: getDb(),
          studentId: student.id,
          periodId: open.id,
          batchId: randomUUID(),
          sessionId: "race",
          baseVersion: null,
          updates: target.map((topicId, index) => ({ topicId, position: index + 1 })),
          stats,
        }),
      );
      await lockWaiters(targets.length);
      await held`commit`;
      const results = await Promise.all(saves);
      expect(stats.retries).toBeGreaterThanOrEqual(targets.length - 1);
      expect(results.map((result) => result.version).sort()).toEqual([2, 3, 4, 5, 6, 7]);
      for (const [index, result] of results.entries()) expect(result.order).toEqual(targets[index]);
      const last = results.find((result) => result.version === 7)!;
      expect(await getStudentRanking({ db: getDb(), studentId: student.id, periodId: open.id })).toEqual({ order: last.order, version: 7 });
      // Each save's event says what it changed from the ranking it was applied to: replayed, they give the table.
      const rows = await getDb().execute<{ payload: { updates: RankingChange[] } }>(
        sql`select payload from events where actor_id = ${student.id} and type = 'RANKINGS_BATCH_UPDATED' order by id`,
      );
      expect(rows).toHaveLength(1 + targets.length);
      const replayed = new Map<string, number>();
      for (const row of rows) replayChanges(replayed, row.payload.updates);
      expect(orderOf(replayed)).toEqual(last.order);
      const namespace = `${open.id}:${student.id}`;
      expect((await rankingsByStudent.paginate(getDb(), { namespace, pageSize: 100 })).page.map((item) => item.id)).toEqual(last.order);
      expect(first.version).toBe(1);
    } finally {
      held.release();
      await blocker.end({ timeout: 5 });
    }
  });

  it("is refused when the period closes meanwhile, and changes nothing", async () => {
    const { period: open, topics } = await makeOpenPeriod({ topicCount: 3 });
    const student = await makeUser();
    // Closing takes the period row FOR UPDATE: held here, the save reads "open" and then waits at its commit.
    const blocker = postgres(getEnv().DATABASE_URL, { max: 1, onnotice: () => {} });
    const held = await blocker.reserve();
    try {
      await held`begin`;
      await held`select status from selection_periods where id = ${open.id} for update`;
      const save = applyRankingBatch({
        db: getDb(),
        studentId: student.id,
        periodId: open.id,
        batchId: randomUUID(),
        sessionId: "closing",
        baseVersion: 0,
        updates: [{ topicId: topics[0].id, position: 1 }],
      }).catch((error: unknown) => error);
      await lockWaiters(1);
      await held`update selection_periods set status = 'closed' where id = ${open.id}`;
      await held`commit`;
      const refused = await save;
      expect(refused).toBeInstanceOf(RankingError);
      expect(refused).toMatchObject({ code: "period-not-open", status: 409 });
      expect(await getStudentRanking({ db: getDb(), studentId: student.id, periodId: open.id })).toEqual({ order: [], version: 0 });
      const [row] = await getDb().execute<{ events: number; batches: number; deltas: number }>(sql`
        select (select count(*)::int from events where actor_id = ${student.id} and type like 'RANKINGS_%') as events,
               (select count(*)::int from ranking_batches where student_id = ${student.id}) as batches,
               (select count(*)::int from aggregate_pending where namespace in (${topics[0].id}, ${`${open.id}:${student.id}`})) as deltas`);
      expect(row).toEqual({ events: 0, batches: 0, deltas: 0 });
      expect(await rankingsByTopic.count(getDb(), { namespace: topics[0].id })).toBe(0);
    } finally {
      held.release();
      await blocker.end({ timeout: 5 });
    }
  });
});

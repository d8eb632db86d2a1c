import { and, asc, eq, ne, sql } from "drizzle-orm";
import { selectionPeriods, topicMetrics, topics } from "../../drizzle/schema";
import { withTransaction, type Database, type Executor } from "../db.server";
import type { WriteOp } from "../aggregate";
import { recordEvents } from "./event.server";
import type { DomainEvent } from "./events";
import {
  averageKey,
  computeTopicMetrics,
  DISTRIBUTION_POSITIONS,
  percentilesOf,
  trendBuckets,
  type CompetitionCategory,
  type TopicMetricsView,
} from "./metrics";
import { topicAveragesByPeriod, topicEvents, TREND_SCALE } from "./metrics-aggregates.server";
import { requestMetricsRecompute } from "./metrics-queue.server";
import { rankingsByTopic } from "./ranking-aggregates.server";

export type { TopicMetricsView } from "./metrics";

const EMPTY_DISTRIBUTION = Array<number>(DISTRIBUTION_POSITIONS).fill(0);
const POSITIONS = Array.from({ length: DISTRIBUTION_POSITIONS }, (_, index) => index + 1);

export type MetricsViewer = { id: string; role: "student" | "admin" };

/**
 * The period whose metrics `viewer` may watch: admins any, students only
 * periods past their draft (the ones the student pages can show).
 */
export async function getPeriodForMetrics({ db, periodId, viewer }: { db: Executor; periodId: string; viewer: MetricsViewer }) {
  const [period] = await db
    .select({ id: selectionPeriods.id, title: selectionPeriods.title, status: selectionPeriods.status })
    .from(selectionPeriods)
    .where(
      viewer.role === "admin"
        ? eq(selectionPeriods.id, periodId)
        : and(eq(selectionPeriods.id, periodId), ne(selectionPeriods.status, "draft")),
    );
  return period;
}

/** A topic with its period, when `viewer` may see that period's metrics (same rule as getPeriodForMetrics). */
export async function getTopicForMetrics({ db, topicId, viewer }: { db: Executor; topicId: string; viewer: MetricsViewer }) {
  const [topic] = await db
    .select({
      id: topics.id,
      title: topics.title,
      description: topics.description,
      supervisor: topics.supervisor,
      capacity: topics.capacity,
      periodId: selectionPeriods.id,
      periodTitle: selectionPeriods.title,
      periodStatus: selectionPeriods.status,
    })
    .from(topics)
    .innerJoin(selectionPeriods, eq(selectionPeriods.id, topics.periodId))
    .where(viewer.role === "admin" ? eq(topics.id, topicId) : and(eq(topics.id, topicId), ne(selectionPeriods.status, "draft")));
  return topic;
}

type LockedTopic = {
  id: string;
  period_id: string;
  title: string;
  capacity: number;
  topic_count: number;
  stored_average: number | null;
  last_recompute_id: string | null;
};

export type RecomputeResult = { periodId: string; view: TopicMetricsView; replayed: boolean };

/**
 * Recomputes one topic's metrics from the aggregates alone. See
 * recomputeTopicsMetrics. Returns null when the topic no longer exists.
 */
export async function recomputeTopicMetrics({
  db,
  topicId,
  recomputeId,
  requestedAt = new Date(),
}: {
  db: Database;
  topicId: string;
  recomputeId: string;
  /** Time of the trend point; a retry passes the same time so its point is recognised. */
  requestedAt?: Date;
}): Promise<RecomputeResult | null> {
  const [result] = await recomputeTopicsMetrics({ db, topicIds: [topicId], recomputeId, requestedAt });
  return result ?? null;
}

/**
 * Recomputes the metrics of several topics in one transaction, from the
 * aggregates alone: a fixed number of round trips whatever the number of
 * topics or students (each aggregate read is O(log n), none scans rankings).
 * Stores the values, moves each topic within its period's ordering of
 * averages, and appends one trend point per topic.
 *
 * The topic rows are locked, so recomputes of one topic never interleave;
 * `recomputeId` (the job id) with `requestedAt` identifies the trend point, so
 * a job that runs again after committing adds no second point or event.
 * Topics that no longer exist are skipped.
 */
export async function recomputeTopicsMetrics({
  db,
  topicIds,
  recomputeId,
  requestedAt = new Date(),
}: {
  db: Database;
  topicIds: string[];
  recomputeId: string;
  requestedAt?: Date;
}): Promise<RecomputeResult[]> {
  if (topicIds.length === 0) return [];
  const at = requestedAt.getTime();
  return withTransaction(db, async (tx) => {
    // NO KEY UPDATE does not conflict with the KEY SHARE lock that ranking
    // inserts take through their foreign key, so saves never wait on this.
    // Locked in id order, so two batches cannot deadlock on each other.
    const ids = sql.join(
      [...new Set(topicIds)].map((id) => sql`${id}::uuid`),
      sql`, `,
    );
    const locked = (await tx.execute(sql`
      select t.id, t.period_id, t.title, t.capacity,
             (select count(*) from topics o where o.period_id = t.period_id)::int as topic_count,
             m.average_position as stored_average, m.last_recompute_id
      from topics t left join topic_metrics m on m.topic_id = t.id
      where t.id in (${ids})
      order by t.id
      for no key update of t`)) as unknown as LockedTopic[];
    if (locked.length === 0) return [];

    // Cumulative counts (positions ≤ k) need one descent each, half the work
    // of exact-position ranges. A save committing between these reads leaves
    // values from two moments; they then differ from the aggregate (stale),
    // and that save's own recompute request, made after its commit, fixes them.
    const [counts, sums, pointCounts] = await Promise.all([
      rankingsByTopic.countBatch(
        tx,
        locked.flatMap((topic) => [
          { namespace: topic.id },
          ...POSITIONS.map((position) => ({ namespace: topic.id, bounds: { upper: { key: position, inclusive: true } } })),
        ]),
      ),
      rankingsByTopic.sumBatch(
        tx,
        locked.map((topic) => ({ namespace: topic.id })),
      ),
      // This recompute's own trend point, if an earlier run of it committed one.
      topicEvents.countBatch(
        tx,
        locked.map((topic) => {
          const point = { key: at, id: recomputeId, inclusive: true };
          return { namespace: topic.id, bounds: { lower: point, upper: point } };
        }),
      ),
    ]);
    const measured = locked.map((topic, index) => {
      const [studentCount, ...cumulative] = counts.slice(index * 11, index * 11 + 11);
      const distribution = cumulative.map((count, position) => count - (position === 0 ? 0 : cumulative[position - 1]));
      const [sumOfPositions, sumOfSquares] = sums[index];
      return { topic, studentCount, sumOfPositions, sumOfSquares, distribution, average: studentCount === 0 ? null : sumOfPositions / studentCount };
    });

    const placements = await placeInPeriodOrders(
      tx,
      measured.map(({ topic, average }) => ({ periodId: topic.period_id, topicId: topic.id, from: topic.stored_average, to: average })),
    );

    const results: RecomputeResult[] = [];
    const points: WriteOp[] = [];
    const calculated: DomainEvent[] = [];
    const rows: (typeof topicMetrics.$inferInsert)[] = [];
    const lastCalculated = new Date();
    measured.forEach(({ topic, studentCount, sumOfPositions, sumOfSquares, distribution }, index) => {
      const values = computeTopicMetrics({
        studentCount,
        sumOfPositions,
        sumOfSquares,
        distribution,
        capacity: topic.capacity,
        topicCount: topic.topic_count,
        lessContestedCount: placements[index].lessContested,
        otherRankedCount: placements[index].others,
      });
      const replayed = topic.last_recompute_id === recomputeId || pointCounts[index] > 0;
      results.push({ periodId: topic.period_id, replayed, view: toView(topic, values, lastCalculated) });
      rows.push({
        topicId: topic.id,
        periodId: topic.period_id,
        studentCount: values.studentCount,
        sumOfPositions: values.sumOfPositions,
        sumOfSquares: values.sumOfSquares,
        averagePosition: values.averagePosition,
        standardDeviation: values.standardDeviation,
        distribution: values.distribution,
        percentile: values.percentile,
        competitionCategory: values.competitionCategory,
        topThreeCount: values.topThreeCount,
        demandRatio: values.demandRatio,
        lastCalculated,
        lastRecomputeId: recomputeId,
      });
      if (replayed) return;
      if (values.averagePosition !== null) {
        points.push({
          op: "insertIfDoesNotExist",
          namespace: topic.id,
          key: at,
          id: recomputeId,
          sums: [Math.round(values.averagePosition * TREND_SCALE), 1],
        });
      }
      calculated.push({
        type: "METRICS_CALCULATED",
        actorId: null,
        actorType: "system",
        sessionId: null,
        periodId: topic.period_id,
        payload: {
          topicId: topic.id,
          studentCount: values.studentCount,
          averagePosition: values.averagePosition,
          competitionCategory: values.competitionCategory,
        },
      });
    });

    await Promise.all([
      points.length > 0 ? topicEvents.applyBatch(tx, points) : undefined,
      tx
        .insert(topicMetrics)
        .values(rows)
        .onConflictDoUpdate({ target: topicMetrics.topicId, set: UPSERT_FROM_EXCLUDED }),
      recordEvents(tx, calculated),
    ]);
    return results;
  }, { durable: false });
}

const UPSERT_FROM_EXCLUDED = Object.fromEntries(
  (
    [
      "periodId",
      "studentCount",
      "sumOfPositions",
      "sumOfSquares",
      "averagePosition",
      "standardDeviation",
      "distribution",
      "percentile",
      "competitionCategory",
      "topThreeCount",
      "demandRatio",
      "lastCalculated",
      "lastRecomputeId",
    ] as const
  ).map((column) => [column, sql.raw(`excluded.${topicMetrics[column].name}`)]),
);

function toView(topic: LockedTopic, values: ReturnType<typeof computeTopicMetrics>, lastCalculated: Date): TopicMetricsView {
  return {
    topicId: topic.id,
    title: topic.title,
    capacity: topic.capacity,
    studentCount: values.studentCount,
    sumOfPositions: values.sumOfPositions,
    averagePosition: values.averagePosition,
    standardDeviation: values.standardDeviation,
    distribution: values.distribution,
    percentile: values.percentile,
    demandRatio: values.demandRatio,
    competitionCategory: values.competitionCategory,
    lastCalculated: lastCalculated.toISOString(),
    isStale: false,
  };
}

/**
 * Moves each topic to its new average in its period's ordering (one batch),
 * then counts, for each, the other ranked topics of its period and those
 * less contested (higher average) than it (one batch).
 */
async function placeInPeriodOrders(
  tx: Executor,
  moves: { periodId: string; topicId: string; from: number | null; to: number | null }[],
): Promise<{ lessContested: number; others: number }[]> {
  const ops: WriteOp[] = [];
  for (const { periodId, topicId, from, to } of moves) {
    const fromKey = from === null ? null : averageKey(from);
    const toKey = to === null ? null : averageKey(to);
    if (fromKey === toKey) continue;
    if (fromKey !== null) ops.push({ op: "deleteIfExists", namespace: periodId, key: fromKey, id: topicId });
    if (toKey !== null) ops.push({ op: "insertIfDoesNotExist", namespace: periodId, key: toKey, id: topicId, sums: [0] });
  }
  if (ops.length > 0) await topicAveragesByPeriod.applyBatch(tx, ops);
  const ranked = moves.filter((move) => move.to !== null);
  if (ranked.length === 0) return moves.map(() => ({ lessContested: 0, others: 0 }));
  const periods = [...new Set(ranked.map((move) => move.periodId))];
  const counts = await topicAveragesByPeriod.countBatch(tx, [
    ...periods.map((periodId) => ({ namespace: periodId })),
    // Keys are integers, so "greater than the key" is "at least key + 1", whatever the ids.
    ...ranked.map((move) => ({ namespace: move.periodId, bounds: { lower: { key: averageKey(move.to!) + 1, inclusive: true } } })),
  ]);
  const rankedInPeriod = new Map(periods.map((periodId, index) => [periodId, counts[index]]));
  let next = periods.length;
  return moves.map((move) =>
    move.to === null ? { lessContested: 0, others: 0 } : { lessContested: counts[next++], others: rankedInPeriod.get(move.periodId)! - 1 },
  );
}

/**
 * Stored metrics of every topic of a period, at once (stale-while-revalidate):
 * a topic whose stored count or sums differ from its aggregate is marked
 * stale and a (deduplicated) recompute is requested instead of computing it
 * inline. Percentiles are derived from the stored averages shown together,
 * so the list is consistent with itself even while topics recompute one by one.
 */
export async function getPeriodMetrics({ db, periodId }: { db: Executor; periodId: string }): Promise<TopicMetricsView[]> {
  const rows = await db
    .select({
      topicId: topics.id,
      title: topics.title,
      capacity: topics.capacity,
      studentCount: topicMetrics.studentCount,
      sumOfPositions: topicMetrics.sumOfPositions,
      sumOfSquares: topicMetrics.sumOfSquares,
      averagePosition: topicMetrics.averagePosition,
      standardDeviation: topicMetrics.standardDeviation,
      distribution: topicMetrics.distribution,
      demandRatio: topicMetrics.demandRatio,
      competitionCategory: topicMetrics.competitionCategory,
      lastCalculated: topicMetrics.lastCalculated,
    })
    .from(topics)
    .leftJoin(topicMetrics, eq(topicMetrics.topicId, topics.id))
    .where(eq(topics.periodId, periodId))
    .orderBy(asc(topics.title), asc(topics.id));
  if (rows.length === 0) return [];
  const queries = rows.map((row) => ({ namespace: row.topicId }));
  const [counts, sums] = await Promise.all([rankingsByTopic.countBatch(db, queries), rankingsByTopic.sumBatch(db, queries)]);
  const percentiles = percentilesOf(new Map(rows.map((row) => [row.topicId, row.averagePosition])));
  const views = rows.map((row, index): TopicMetricsView => {
    const stored = {
      count: row.studentCount ?? 0,
      sum: row.sumOfPositions ?? 0,
      squares: row.sumOfSquares ?? 0,
    };
    const isStale = stored.count !== counts[index] || stored.sum !== sums[index][0] || stored.squares !== sums[index][1];
    return {
      topicId: row.topicId,
      title: row.title,
      capacity: row.capacity,
      studentCount: stored.count,
      sumOfPositions: stored.sum,
      averagePosition: row.averagePosition,
      standardDeviation: row.standardDeviation,
      distribution: row.distribution ?? [...EMPTY_DISTRIBUTION],
      percentile: percentiles.get(row.topicId) ?? null,
      demandRatio: row.demandRatio ?? 0,
      competitionCategory: (row.competitionCategory as CompetitionCategory | null) ?? null,
      lastCalculated: row.lastCalculated?.toISOString() ?? null,
      isStale,
    };
  });
  const stale = views.filter((view) => view.isStale).map((view) => view.topicId);
  if (stale.length > 0) await requestMetricsRecompute(stale);
  return views;
}

export type TrendPoint = { at: string; averagePosition: number; recomputes: number };

/**
 * Mean average position per time bucket over [since, until), read from the
 * trend points with one bounded sum per bucket (one round trip, O(buckets ·
 * log n)); empty buckets are left out. At most MAX_TREND_BUCKETS buckets,
 * the latest ones, are read; page back by moving `until`.
 */
export async function getTopicTrend({
  db,
  topicId,
  since,
  until = new Date(),
  bucketMinutes,
}: {
  db: Executor;
  topicId: string;
  since: Date;
  until?: Date;
  bucketMinutes: number;
}): Promise<TrendPoint[]> {
  const buckets = trendBuckets(since, until, bucketMinutes);
  if (buckets.length === 0) return [];
  const totals = await topicEvents.sumBatch(
    db,
    buckets.map((bucket) => ({
      namespace: topicId,
      bounds: {
        lower: { key: Math.max(bucket.start, since.getTime()), inclusive: true },
        upper: { key: Math.min(bucket.end, until.getTime()), inclusive: false },
      },
    })),
  );
  return buckets.flatMap((bucket, index) => {
    const [scaledSum, recomputes] = totals[index];
    if (recomputes === 0) return [];
    return [{ at: new Date(bucket.start).toISOString(), averagePosition: scaledSum / TREND_SCALE / recomputes, recomputes }];
  });
}

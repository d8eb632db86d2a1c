import { and, asc, eq, ne, sql } from "drizzle-orm";
import { selectionPeriods, topicMetrics, topics } from "../../drizzle/schema";
import { withTransaction, type Database, type Executor } from "../db.server";
import { recordEvent } from "./event.server";
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
  period_id: string;
  title: string;
  capacity: number;
  topic_count: number;
  stored_average: number | null;
  last_recompute_id: string | null;
};

export type RecomputeResult = { periodId: string; view: TopicMetricsView; replayed: boolean };

/**
 * Recomputes one topic's metrics from the aggregates alone (a fixed number of
 * O(log n) reads, no scan of rankings), stores them, keeps the period's
 * ordering of averages current, and appends one trend point. Recomputes of
 * the same topic serialise on the topic row; `recomputeId` (the job id) makes
 * a retried job add no second point and no second event.
 * Returns null when the topic no longer exists.
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
  return withTransaction(db, async (tx) => {
    // NO KEY UPDATE does not conflict with the KEY SHARE lock that ranking
    // inserts take through their foreign key, so saves never wait on this.
    const [topic] = (await tx.execute(sql`
      select t.period_id, t.title, t.capacity,
             (select count(*) from topics o where o.period_id = t.period_id)::int as topic_count,
             m.average_position as stored_average, m.last_recompute_id
      from topics t left join topic_metrics m on m.topic_id = t.id
      where t.id = ${topicId}
      for no key update of t`)) as unknown as LockedTopic[];
    if (!topic) return null;
    const periodId = topic.period_id;

    const [counts, [sums]] = await Promise.all([
      rankingsByTopic.countBatch(tx, [
        { namespace: topicId },
        ...POSITIONS.map((position) => ({ namespace: topicId, bounds: { eq: position } })),
      ]),
      rankingsByTopic.sumBatch(tx, [{ namespace: topicId }]),
    ]);
    const [studentCount, ...distribution] = counts;
    const average = studentCount === 0 ? null : sums[0] / studentCount;

    const ranking = await placeInPeriodOrder(tx, { periodId, topicId, from: topic.stored_average, to: average });
    const values = computeTopicMetrics({
      studentCount,
      sumOfPositions: sums[0],
      sumOfSquares: sums[1],
      distribution,
      capacity: topic.capacity,
      topicCount: topic.topic_count,
      lessContestedCount: ranking.lessContested,
      otherRankedCount: ranking.others,
    });

    let replayed = topic.last_recompute_id === recomputeId;
    if (values.averagePosition !== null && !replayed) {
      const added = await topicEvents.insertIfDoesNotExist(tx, topicId, {
        key: requestedAt.getTime(),
        id: recomputeId,
        sums: [Math.round(values.averagePosition * TREND_SCALE), 1],
      });
      replayed = !added;
    }

    const row = {
      topicId,
      periodId,
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
      lastCalculated: new Date(),
      lastRecomputeId: recomputeId,
    };
    const { topicId: _key, ...changes } = row;
    await tx.insert(topicMetrics).values(row).onConflictDoUpdate({ target: topicMetrics.topicId, set: changes });
    if (!replayed) {
      await recordEvent(tx, {
        type: "METRICS_CALCULATED",
        actorId: null,
        actorType: "system",
        sessionId: null,
        periodId,
        payload: {
          topicId,
          studentCount: values.studentCount,
          averagePosition: values.averagePosition,
          competitionCategory: values.competitionCategory,
        },
      });
    }
    return {
      periodId,
      replayed,
      view: {
        topicId,
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
        lastCalculated: row.lastCalculated.toISOString(),
        isStale: false,
      },
    };
  });
}

/**
 * Moves the topic to its new average in the period's ordering and counts the
 * other ranked topics and those less contested (higher average) than it.
 */
async function placeInPeriodOrder(
  tx: Executor,
  { periodId, topicId, from, to }: { periodId: string; topicId: string; from: number | null; to: number | null },
): Promise<{ lessContested: number; others: number }> {
  const fromKey = from === null ? null : averageKey(from);
  const toKey = to === null ? null : averageKey(to);
  if (fromKey !== toKey) {
    await topicAveragesByPeriod.applyBatch(tx, [
      ...(fromKey === null ? [] : [{ op: "deleteIfExists" as const, namespace: periodId, key: fromKey, id: topicId }]),
      ...(toKey === null ? [] : [{ op: "insertIfDoesNotExist" as const, namespace: periodId, key: toKey, id: topicId, sums: [0] }]),
    ]);
  }
  if (toKey === null) return { lessContested: 0, others: 0 };
  const [lessContested, ranked] = await topicAveragesByPeriod.countBatch(tx, [
    // Keys are integers, so "greater than toKey" is "at least toKey + 1", whatever the ids.
    { namespace: periodId, bounds: { lower: { key: toKey + 1, inclusive: true } } },
    { namespace: periodId },
  ]);
  return { lessContested, others: ranked - 1 };
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

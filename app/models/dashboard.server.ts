import type { Executor } from "../db.server";
import type { SelectionPeriod } from "./period.server";
import { getPeriodMetrics, getTopicTrend } from "./metrics.server";
import { getParticipationCounts, getParticipationOverTime } from "./participation.server";

const TREND_BUCKETS_MINUTES = [5, 15, 60, 180, 720, 1440];

/** Hourly points as the spec asks, finer for a young period so its first hours are not one dot. */
export function trendBucketMinutes(since: Date, now = new Date()): number {
  const spanMinutes = Math.max(1, (now.getTime() - since.getTime()) / 60_000);
  return TREND_BUCKETS_MINUTES.find((size) => spanMinutes / size <= 96) ?? 1440;
}

/**
 * Everything the admin dashboard shows at load: every topic's metrics,
 * participation now and over time, and the trend of one topic (the one asked
 * for, else the most contested, else the first).
 */
export async function getDashboard({
  db,
  period,
  trendTopicId,
}: {
  db: Executor;
  period: Pick<SelectionPeriod, "id" | "opensAt" | "createdAt">;
  trendTopicId?: string;
}) {
  const [metrics, participation, participationOverTime] = await Promise.all([
    getPeriodMetrics({ db, periodId: period.id }),
    getParticipationCounts({ db, periodId: period.id }),
    getParticipationOverTime({ db, periodId: period.id }),
  ]);
  const mostContested = metrics
    .filter((view) => view.averagePosition !== null)
    .sort((a, b) => a.averagePosition! - b.averagePosition!)[0];
  const topicId = metrics.some((view) => view.topicId === trendTopicId) ? trendTopicId! : (mostContested ?? metrics[0])?.topicId;
  const since = new Date(period.opensAt ?? period.createdAt);
  const bucketMinutes = trendBucketMinutes(since);
  const points = topicId ? await getTopicTrend({ db, topicId, since, bucketMinutes }) : [];
  return {
    metrics,
    participation,
    participationOverTime: { ...participationOverTime, points: spanWholePeriod(participationOverTime.points, since) },
    trend: { topicId: topicId ?? null, bucketMinutes, points },
  };
}

/** Anchors the cumulative series at zero when the period opened and at its last value now, so quiet stretches show. */
export function spanWholePeriod(points: { at: string; ranked: number }[], since: Date, now = new Date()) {
  if (points.length === 0) return points;
  const first = Date.parse(points[0].at);
  const last = points[points.length - 1];
  return [
    ...(since.getTime() < first ? [{ at: since.toISOString(), ranked: 0 }] : []),
    ...points,
    ...(now.getTime() > Date.parse(last.at) ? [{ at: now.toISOString(), ranked: last.ranked }] : []),
  ];
}

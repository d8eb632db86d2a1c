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
  return { metrics, participation, participationOverTime, trend: { topicId: topicId ?? null, bucketMinutes, points } };
}

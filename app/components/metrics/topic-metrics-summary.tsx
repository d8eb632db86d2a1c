import type { TopicMetricsView } from "~/models/metrics";
import { CategoryBadge } from "./category-badge";
import { DistributionBars } from "./distribution-bars";

function formatNumber(value: number | null, digits: number): string {
  return value === null ? "–" : value.toFixed(digits);
}

/**
 * A topic's congestion metrics: category, count, average, percentile, demand
 * and the distribution. `dense` fits it under a topic in a list.
 */
export function TopicMetricsSummary({ metrics, dense = false }: { metrics: TopicMetricsView; dense?: boolean }) {
  return (
    <div className={dense ? "space-y-1 text-xs" : "space-y-2 text-sm"} data-testid="topic-metrics" data-topic-id={metrics.topicId}>
      <div className="flex flex-wrap items-center gap-2">
        <CategoryBadge category={metrics.competitionCategory} />
        {metrics.isStale ? (
          <span className="text-xs italic text-slate-500" role="status" data-testid="metrics-updating">
            updating…
          </span>
        ) : null}
      </div>
      <dl className={dense ? "flex flex-wrap gap-x-4 gap-y-1" : "grid grid-cols-2 gap-x-4 gap-y-1 sm:grid-cols-4"}>
        <div>
          <dt className="text-xs text-slate-500">Students ranking it</dt>
          <dd className="font-semibold tabular-nums" data-testid="metric-count">
            {metrics.studentCount}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Average position</dt>
          <dd className="font-semibold tabular-nums" data-testid="metric-average">
            {formatNumber(metrics.averagePosition, 2)}
            {metrics.standardDeviation !== null ? (
              <span className="ml-1 text-xs font-normal text-slate-500">± {metrics.standardDeviation.toFixed(2)}</span>
            ) : null}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">More contested than</dt>
          <dd className="font-semibold tabular-nums" data-testid="metric-percentile">
            {metrics.percentile === null ? "–" : `${Math.round(metrics.percentile)}% of topics`}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Top-3 demand per place</dt>
          <dd className="font-semibold tabular-nums" data-testid="metric-demand">
            {metrics.demandRatio.toFixed(2)}
          </dd>
        </div>
      </dl>
      <div className={dense ? "max-w-xs" : undefined}>
        <DistributionBars distribution={metrics.distribution} compact={dense} />
      </div>
    </div>
  );
}

import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useNavigation, useRevalidator, useSearchParams } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { z } from "zod";
import { MetricsTable } from "~/components/admin/metrics-table";
import { ParticipationBar, ParticipationChart } from "~/components/admin/participation-chart";
import { PeriodPageHeader } from "~/components/admin/period-header";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { TopicMetricsSummary } from "~/components/metrics/topic-metrics-summary";
import { TrendChart } from "~/components/metrics/trend-chart";
import { useLiveMetrics } from "~/components/metrics/use-live-metrics";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import { getDashboard } from "~/models/dashboard.server";
import { requireAdminPeriod } from "~/utils/admin.server";

const QuerySchema = z.object({ topic: z.uuid().optional().catch(undefined) });

/** Participation figures are re-read at most this often while metrics stream in. */
const PARTICIPATION_REFRESH_MS = 2_000;

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Dashboard · ${data?.period.title ?? "Period"} · TopicMatch` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const query = QuerySchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const dashboard = await getDashboard({ db: getDb(), period, trendTopicId: query.topic });
  return { period: { id: period.id, title: period.title, status: period.status }, ...dashboard };
}

export default function DashboardPage() {
  const { period, metrics: initial, participation, participationOverTime, trend } = useLoaderData<typeof loader>();
  const { metrics, connected } = useLiveMetrics(period.id, initial);
  const [, setSearchParams] = useSearchParams();
  const revalidator = useRevalidator();
  const navigation = useNavigation();
  // The choice shows at once; its trend arrives with the loader for ?topic=.
  const [chosenId, setChosenId] = useState<string | null>(null);
  const selectedId = chosenId ?? trend.topicId;
  const lastRefresh = useRef(0);
  const first = useRef(true);

  // New metrics mean someone ranked: re-read participation, throttled.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const wait = Math.max(0, lastRefresh.current + PARTICIPATION_REFRESH_MS - Date.now());
    const timer = setTimeout(() => {
      lastRefresh.current = Date.now();
      if (revalidator.state === "idle" && navigation.state === "idle") revalidator.revalidate();
    }, wait);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new metrics message should trigger this
  }, [metrics]);

  const selected = metrics.find((view) => view.topicId === selectedId) ?? null;
  const trendReady = trend.topicId === selectedId;
  const rankedTotal = metrics.reduce((sum, view) => sum + view.studentCount, 0);
  return (
    <section className="space-y-6">
      <PeriodPageHeader
        period={period}
        title="Dashboard"
        actions={
          <>
            <StatusBadge status={period.status} />
            <span
              className={`inline-flex items-center gap-1 text-xs ${connected ? "text-emerald-700" : "text-slate-500"}`}
              role="status"
              data-testid="live-status"
              data-connected={connected}
            >
              <span className={`inline-block h-2 w-2 rounded-full ${connected ? "bg-emerald-500" : "bg-slate-400"}`} />
              {connected ? "live" : "connecting…"}
            </span>
          </>
        }
      />

      <div className="grid gap-4 lg:grid-cols-2">
        <section aria-labelledby="participation-heading" className="card space-y-4">
          <h2 id="participation-heading" className="text-lg font-semibold">
            Participation
          </h2>
          <ParticipationBar ranked={participation.ranked} students={participation.students} />
          <p className="text-xs text-slate-500">
            {metrics.length} topics, {rankedTotal} placements in rankings (sum over topics of students ranking them).
          </p>
          <ParticipationChart points={participationOverTime.points} students={participation.students} />
        </section>
        <section aria-labelledby="trend-heading" className="card space-y-4">
          <h2 id="trend-heading" className="text-lg font-semibold">
            {selected ? (
              <>
                Trend: <span data-testid="trend-topic">{selected.title}</span>
              </>
            ) : (
              "Trend"
            )}
          </h2>
          {selected ? <TopicMetricsSummary metrics={selected} /> : <p className="text-sm text-slate-500">No topics yet.</p>}
          {trendReady ? (
            <TrendChart points={trend.points} height={220} />
          ) : (
            <p className="text-sm text-slate-500" role="status">
              Loading the trend…
            </p>
          )}
          <p className="text-xs text-slate-500">
            Average position per {trend.bucketMinutes >= 60 ? `${trend.bucketMinutes / 60} h` : `${trend.bucketMinutes} min`}; higher
            on the chart is more contested. Choose a topic in the table to see its trend.
          </p>
        </section>
      </div>

      <MetricsTable
        metrics={metrics}
        selectedTopicId={selectedId}
        onSelect={(topicId) => {
          setChosenId(topicId);
          setSearchParams({ topic: topicId }, { preventScrollReset: true, replace: true });
        }}
      />
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

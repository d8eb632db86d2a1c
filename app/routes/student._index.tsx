import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ResultPublishedNotice } from "~/components/assignment/student-result";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { TopicMetricsSummary } from "~/components/metrics/topic-metrics-summary";
import { useLiveMetrics } from "~/components/metrics/use-live-metrics";
import { RankingList, type RankingTopic } from "~/components/ranking/ranking-list";
import { SaveStatusIndicator } from "~/components/ranking/save-status";
import { useRankingAutosave } from "~/components/ranking/use-ranking-autosave";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import type { TopicMetricsView } from "~/models/metrics";
import { getPeriodMetrics } from "~/models/metrics.server";
import { getCurrentPeriodForStudents, listTopics } from "~/models/period.server";
import { countUndoableBatches, getStudentRanking } from "~/models/ranking.server";
import { requireStudent } from "~/session.server";

export const meta: MetaFunction = () => [{ title: "My ranking · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const student = await requireStudent(request);
  const db = getDb();
  const period = await getCurrentPeriodForStudents({ db, studentId: student.id });
  if (!period) return { period: null, topics: [], ranking: { order: [], version: 0 }, undoable: 0, metrics: [] };
  const [topics, ranking, undoable, metrics] = await Promise.all([
    listTopics({ db, periodId: period.id }),
    getStudentRanking({ db, studentId: student.id, periodId: period.id }),
    countUndoableBatches({ db, studentId: student.id, periodId: period.id }),
    getPeriodMetrics({ db, periodId: period.id }),
  ]);
  return {
    period: { id: period.id, title: period.title, description: period.description, status: period.status },
    topics: topics.map(({ id, title, description, supervisor, capacity }) => ({ id, title, description, supervisor, capacity })),
    ranking,
    undoable,
    metrics,
  };
}

export default function StudentHome() {
  const { period, topics, ranking, undoable, metrics } = useLoaderData<typeof loader>();
  if (!period) {
    return (
      <div className="card mx-auto max-w-lg text-center">
        <h1 className="text-xl font-bold">No selection period is open</h1>
        <p className="mt-2 text-slate-600">When your department opens topic selection, the topics appear here.</p>
      </div>
    );
  }
  return (
    <RankingEditor
      // Keyed by period only: fresh loader data must not remount the editor and drop a pending batch.
      key={period.id}
      period={period}
      topics={topics}
      ranking={ranking}
      undoable={undoable}
      metrics={metrics}
    />
  );
}

function RankingEditor({
  period,
  topics,
  ranking,
  undoable: initialUndoable,
  metrics: initialMetrics,
}: {
  period: { id: string; title: string; description: string; status: string };
  topics: RankingTopic[];
  ranking: { order: string[]; version: number };
  undoable: number;
  metrics: TopicMetricsView[];
}) {
  const live = useLiveMetrics(period.id, initialMetrics);
  const metricsByTopic = new Map(live.metrics.map((entry) => [entry.topicId, entry]));
  const autosave = useRankingAutosave({
    endpoint: "/student/ranking",
    periodId: period.id,
    initial: ranking,
    initialUndoable,
  });
  const readOnly = period.status !== "open" || autosave.closed;
  const byId = new Map(topics.map((topic) => [topic.id, topic]));
  const canUndo = !readOnly && autosave.undoable > 0 && autosave.status === "saved" && !autosave.undoing;
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <div className="flex items-center gap-3">
            <h1 className="text-2xl font-bold">{period.title}</h1>
            <StatusBadge status={autosave.closed ? "closed" : period.status} />
          </div>
          {period.description ? <p className="mt-1 text-slate-600">{period.description}</p> : null}
        </div>
        {!readOnly || autosave.status === "failed" ? (
          <div className="flex flex-wrap items-center gap-3">
            <SaveStatusIndicator
              status={autosave.status}
              failure={autosave.failure}
              canRetry={autosave.unsaved}
              onRetry={autosave.retry}
            />
            {!readOnly ? (
              <button type="button" className="btn-secondary py-1" disabled={!canUndo} onClick={autosave.undo}>
                Undo last change{autosave.undoable > 0 ? ` (${autosave.undoable})` : ""}
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      {period.status === "published" ? <ResultPublishedNotice /> : null}
      {readOnly ? (
        <p role="note" className="rounded border border-amber-200 bg-amber-50 p-3 text-amber-900" data-testid="read-only-notice">
          {period.status === "draft"
            ? "This selection period has not opened yet. You can look at the topics, but not rank them."
            : "This selection period is closed. Your ranking is shown as it was saved and can no longer be changed."}
        </p>
      ) : null}
      {autosave.conflict ? (
        <p role="alert" className="rounded border border-blue-200 bg-blue-50 p-3 text-blue-900" data-testid="conflict-notice">
          {autosave.conflict}
        </p>
      ) : null}
      <RankingList
        order={autosave.order}
        onChange={autosave.change}
        topics={byId}
        readOnly={readOnly}
        renderTopicExtra={(topicId) => <TopicMetricsExtra topicId={topicId} metrics={metricsByTopic.get(topicId)} />}
      />
    </div>
  );
}

function TopicMetricsExtra({ topicId, metrics }: { topicId: string; metrics: TopicMetricsView | undefined }) {
  return (
    <div className="mt-2 space-y-1 border-t border-slate-100 pt-2">
      {metrics ? <TopicMetricsSummary metrics={metrics} dense /> : null}
      <Link to={`/student/topics/${topicId}`} className="text-xs text-indigo-700 hover:underline">
        Trend and details
      </Link>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

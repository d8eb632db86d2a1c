import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { ResultPublishedNotice } from "~/components/assignment/student-result";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import { getCurrentPeriodForStudents, listTopics } from "~/models/period.server";
import { getStudentRanking } from "~/models/ranking.server";
import { requireStudent } from "~/session.server";

export const meta: MetaFunction = () => [{ title: "My ranking · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const student = await requireStudent(request);
  const db = getDb();
  const period = await getCurrentPeriodForStudents({ db, studentId: student.id });
  if (!period) return { period: null, topics: [], ranking: [] };
  const [topics, ranking] = await Promise.all([
    listTopics({ db, periodId: period.id }),
    getStudentRanking({ db, studentId: student.id, periodId: period.id }),
  ]);
  return {
    period: { id: period.id, title: period.title, description: period.description, status: period.status },
    topics: topics.map(({ id, title, description, supervisor, capacity }) => ({ id, title, description, supervisor, capacity })),
    ranking: ranking.order,
  };
}

export default function StudentHome() {
  const { period, topics, ranking } = useLoaderData<typeof loader>();
  if (!period) {
    return (
      <div className="card mx-auto max-w-lg text-center">
        <h1 className="text-xl font-bold">No selection period is open</h1>
        <p className="mt-2 text-slate-600">When your department opens topic selection, the topics appear here.</p>
      </div>
    );
  }
  const byId = new Map(topics.map((topic) => [topic.id, topic]));
  const unranked = topics.filter((topic) => !ranking.includes(topic.id));
  return (
    <div className="space-y-6">
      <div>
        <div className="flex items-center gap-3">
          <h1 className="text-2xl font-bold">{period.title}</h1>
          <StatusBadge status={period.status} />
        </div>
        {period.description ? <p className="mt-1 text-slate-600">{period.description}</p> : null}
      </div>
      {period.status === "published" ? <ResultPublishedNotice /> : null}
      <section aria-labelledby="my-ranking" className="card">
        <h2 id="my-ranking" className="text-lg font-semibold">
          My ranking ({ranking.length} of {topics.length})
        </h2>
        {ranking.length === 0 ? (
          <p className="mt-2 text-slate-600">You have not ranked any topic yet.</p>
        ) : (
          <ol className="mt-3 space-y-2" data-testid="my-ranking">
            {ranking.map((topicId, index) => {
              const topic = byId.get(topicId);
              return (
                <li key={topicId} className="flex items-baseline gap-3 rounded border border-slate-200 px-3 py-2">
                  <span className="w-6 text-right font-semibold tabular-nums text-indigo-700">{index + 1}</span>
                  <span className="font-medium">{topic?.title}</span>
                  <span className="text-sm text-slate-500">{topic?.supervisor}</span>
                </li>
              );
            })}
          </ol>
        )}
      </section>
      {unranked.length > 0 ? (
        <section aria-labelledby="other-topics" className="card">
          <h2 id="other-topics" className="text-lg font-semibold">
            Topics not in my list
          </h2>
          <ul className="mt-3 grid gap-2 sm:grid-cols-2">
            {unranked.map((topic) => (
              <li key={topic.id} className="rounded border border-slate-200 px-3 py-2">
                <p className="font-medium">{topic.title}</p>
                <p className="text-sm text-slate-500">
                  {topic.supervisor} · {topic.capacity} places
                </p>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import { Link } from "@remix-run/react";
import { ordinal } from "~/models/assignment/explain";

export type StudentResultData = {
  topic: { id: string; title: string; supervisor: string; description: string } | null;
  rank: number | null;
  listLength: number;
  ranking: { topicId: string; title: string }[];
  explanation: string[];
};

/** The published result as a student sees it: their topic, where it stood in their list, and why. */
export function StudentResult({ result }: { result: StudentResultData }) {
  const { topic, rank, listLength, ranking, explanation } = result;
  return (
    <section aria-labelledby="result-heading" className="card space-y-4" data-testid="student-result">
      <h2 id="result-heading" className="text-lg font-semibold">
        Your assigned topic
      </h2>
      {topic ? (
        <div>
          <p className="text-2xl font-bold text-indigo-700" data-testid="assigned-topic">
            {topic.title}
          </p>
          {topic.supervisor ? <p className="text-slate-600">Supervisor: {topic.supervisor}</p> : null}
          <p className="mt-2 font-medium" data-testid="assigned-rank">
            {rank !== null
              ? `Your ${ordinal(rank)} choice of the ${listLength} topics you ranked.`
              : "A topic that was not in your list."}
          </p>
        </div>
      ) : (
        <p className="font-medium" data-testid="assigned-topic">
          You were not assigned a topic. Please contact the administrator.
        </p>
      )}
      {explanation.length > 0 ? (
        <div>
          <h3 className="font-semibold">How this came about</h3>
          <ul className="mt-1 list-disc space-y-1 pl-5 text-sm text-slate-700">
            {explanation.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {ranking.length > 0 ? (
        <div>
          <h3 className="font-semibold">Your list</h3>
          <ol className="mt-1 space-y-1 text-sm">
            {ranking.map((choice, index) => (
              <li
                key={choice.topicId}
                className={choice.topicId === topic?.id ? "font-semibold text-indigo-700" : "text-slate-700"}
                aria-current={choice.topicId === topic?.id ? "true" : undefined}
              >
                {index + 1}. {choice.title}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}

/** A notice on the student's page once results are out. */
export function ResultPublishedNotice() {
  return (
    <p className="rounded border border-indigo-200 bg-indigo-50 p-3 text-indigo-900" role="status">
      The assignment results are published.{" "}
      <Link to="/student/result" className="font-semibold underline">
        See your topic
      </Link>
    </p>
  );
}

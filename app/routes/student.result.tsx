import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { StudentResult } from "~/components/assignment/student-result";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb } from "~/db.server";
import { getPublishedResult } from "~/models/assignment/runs.server";
import { getCurrentPeriodForStudents } from "~/models/period.server";
import { requireStudent } from "~/session.server";

export const meta: MetaFunction = () => [{ title: "My assignment · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const student = await requireStudent(request);
  const db = getDb();
  const period = await getCurrentPeriodForStudents({ db, studentId: student.id });
  if (!period) return { period: null, result: null };
  // Only the signed-in student's own row, and only once the period is published.
  const result = await getPublishedResult({ db, studentId: student.id, periodId: period.id });
  return { period: { title: period.title, status: period.status }, result };
}

export default function StudentResultPage() {
  const { period, result } = useLoaderData<typeof loader>();
  return (
    <div className="mx-auto max-w-2xl space-y-4">
      <h1 className="text-2xl font-bold">{period ? period.title : "My assignment"}</h1>
      {result ? (
        <StudentResult result={result} />
      ) : (
        <p className="card text-slate-600" data-testid="no-result">
          {period?.status === "published"
            ? "The results are published, but you were not part of this assignment. Please contact the administrator."
            : "The results are not published yet. You will see your topic here once they are."}
        </p>
      )}
      <Link to="/student" className="btn-secondary">
        Back to my ranking
      </Link>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

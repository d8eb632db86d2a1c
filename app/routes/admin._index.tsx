import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import { listPeriods } from "~/models/period.server";
import { requireAdmin } from "~/session.server";

export const meta: MetaFunction = () => [{ title: "Selection periods · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request);
  const periods = await listPeriods({ db: getDb() });
  return { periods };
}

export default function AdminHome() {
  const { periods } = useLoaderData<typeof loader>();
  return (
    <section aria-labelledby="periods-heading">
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="periods-heading" className="mr-auto text-2xl font-bold">
          Selection periods
        </h1>
        <Link to="/admin/students/import" className="btn-secondary">
          Import students
        </Link>
        <Link to="/admin/queues" className="btn-secondary">
          Queues and consistency
        </Link>
        <Link to="/admin/periods/new" className="btn-primary">
          New period
        </Link>
      </div>
      {periods.length === 0 ? (
        <p className="card mt-6 text-slate-600">No selection periods yet.</p>
      ) : (
        <div className="card mt-6 overflow-x-auto p-0">
          <table className="min-w-full divide-y divide-slate-200 text-sm">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">Title</th>
                <th scope="col" className="px-4 py-2 font-medium">Status</th>
                <th scope="col" className="px-4 py-2 text-right font-medium">Topics</th>
                <th scope="col" className="px-4 py-2 text-right font-medium">Students who ranked</th>
                <th scope="col" className="px-4 py-2 font-medium">Closes</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {periods.map((period) => (
                <tr key={period.id} data-testid="period-row">
                  <td className="px-4 py-2 font-medium">
                    <Link to={`/admin/periods/${period.id}`} className="text-indigo-700 underline">
                      {period.title}
                    </Link>
                  </td>
                  <td className="px-4 py-2">
                    <StatusBadge status={period.status} />
                  </td>
                  <td className="px-4 py-2 text-right tabular-nums">{period.topicCount}</td>
                  <td className="px-4 py-2 text-right tabular-nums">{period.rankedStudents}</td>
                  <td className="px-4 py-2 text-slate-600">
                    {period.closesAt ? new Date(period.closesAt).toUTCString() : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { ProfileChart } from "~/components/assignment/profile-chart";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb } from "~/db.server";
import { ordinal } from "~/models/assignment/explain";
import { compareRuns, requireRouteIds, rethrowAsResponse } from "~/models/assignment/runs.server";
import { invariantResponse } from "~/utils/http";
import { requireAdmin } from "~/session.server";

const CompareSchema = z.object({ a: z.uuid(), b: z.uuid() });
const SHOWN_DIFFERENCES = 500;

export const meta: MetaFunction = () => [{ title: "Compare runs · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request);
  const { periodId } = requireRouteIds(params, ["periodId"]);
  const parsed = CompareSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  invariantResponse(parsed.success, "Choose two runs to compare.", { status: 400 });
  invariantResponse(parsed.data.a !== parsed.data.b, "Choose two different runs.", { status: 400 });
  const comparison = await compareRuns({ db: getDb(), periodId, runIds: [parsed.data.a, parsed.data.b] }).catch(rethrowAsResponse);
  return {
    periodId,
    sameInput: comparison.sameInput,
    runs: comparison.runs.map(({ run, profile }, index) => ({
      label: `${index === 0 ? "A" : "B"}: ${run.objective}, seed ${run.seed}`,
      id: run.id,
      status: run.status,
      objectiveValue: run.objectiveValue,
      profile,
    })),
    differenceCount: comparison.differences.length,
    differences: comparison.differences.slice(0, SHOWN_DIFFERENCES),
  };
}

function choiceLabel(side: { title: string | null; rank: number | null }) {
  if (!side.title) return "unassigned";
  return side.rank === null ? `${side.title} (not ranked)` : `${side.title} (${ordinal(side.rank)})`;
}

export default function CompareRunsPage() {
  const { periodId, sameInput, runs, differenceCount, differences } = useLoaderData<typeof loader>();
  return (
    <div className="space-y-6">
      <div>
        <Link to={`/admin/periods/${periodId}/assignment`} className="text-sm text-indigo-700 underline">
          ← All runs
        </Link>
        <h1 className="mt-1 text-2xl font-bold">Compare runs</h1>
        <p className="text-sm text-slate-600">
          {sameInput ? "Both runs solved the same input." : "The runs solved different inputs (their input hashes differ)."}
        </p>
      </div>
      <section aria-labelledby="profiles" className="card">
        <h2 id="profiles" className="text-lg font-semibold">
          Choice profile side by side
        </h2>
        <ProfileChart title="Students per choice in each run" series={runs.map((run) => ({ name: run.label, profile: run.profile }))} />
      </section>
      <section aria-labelledby="differences" className="card p-0">
        <h2 id="differences" className="px-4 pt-4 text-lg font-semibold">
          Students whose topic differs ({differenceCount})
        </h2>
        {differenceCount > differences.length ? (
          <p className="px-4 pt-1 text-sm text-slate-600">The first {differences.length} are listed; the CSV export of each run has everyone.</p>
        ) : null}
        {differences.length === 0 ? (
          <p className="px-4 pb-4 pt-2 text-slate-600">Every student has the same topic in both runs.</p>
        ) : (
          <table className="mt-2 min-w-full divide-y divide-slate-200 text-sm">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">Student</th>
                <th scope="col" className="px-4 py-2 font-medium">{runs[0].label}</th>
                <th scope="col" className="px-4 py-2 font-medium">{runs[1].label}</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {differences.map((difference) => (
                <tr key={difference.studentId} data-testid="difference-row">
                  <td className="px-4 py-2">
                    <span className="font-medium">{difference.name}</span> <span className="text-slate-500">{difference.email}</span>
                  </td>
                  <td className="px-4 py-2">{choiceLabel(difference.a)}</td>
                  <td className="px-4 py-2">{choiceLabel(difference.b)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

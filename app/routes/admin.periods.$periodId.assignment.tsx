import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { z } from "zod";
import { Field } from "~/components/field";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FormAlert } from "~/components/form-alert";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import { AssignmentError, listAssignmentRuns, requestAssignmentRun, requireRouteIds } from "~/models/assignment/runs.server";
import { getPeriod } from "~/models/period.server";
import { requireAdmin } from "~/session.server";
import { parseForm } from "~/utils/forms";
import { invariantResponse } from "~/utils/http";

const RunSchema = z.object({
  objective: z.enum(["linear", "generous", "rank-maximal"], { message: "Choose an objective" }),
  seed: z.coerce
    .number({ message: "The seed must be a whole number" })
    .int("The seed must be a whole number")
    .min(0, "The seed must be between 0 and 2147483647")
    .max(2_147_483_647, "The seed must be between 0 and 2147483647"),
  unassignedPolicy: z.enum(["leave", "any-free-seat"], { message: "Choose what happens to students left out" }),
});

const OBJECTIVES = [
  { value: "linear", label: "Linear", hint: "fewest total rank points (classic Hungarian objective)" },
  { value: "generous", label: "Generous", hint: "best possible worst-off student first" },
  { value: "rank-maximal", label: "Rank-maximal", hint: "most 1st choices, then most 2nd choices, …" },
] as const;

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Assignment · ${data?.period.title ?? "Period"} · TopicMatch` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request);
  const db = getDb();
  const { periodId } = requireRouteIds(params, ["periodId"]);
  const period = await getPeriod({ db, periodId });
  invariantResponse(period, "That selection period does not exist.", { status: 404 });
  const runs = await listAssignmentRuns({ db, periodId: period.id });
  return {
    period: { id: period.id, title: period.title, status: period.status },
    runs: runs.map((run) => ({
      id: run.id,
      objective: run.objective,
      seed: run.seed,
      unassignedPolicy: run.unassignedPolicy,
      status: run.status,
      stage: run.stage,
      progress: run.progress,
      profile: run.profile,
      studentCount: run.studentCount,
      unassignedCount: run.unassignedCount,
      error: run.error,
      createdAt: run.createdAt.toISOString(),
      published: run.publishedAt !== null,
    })),
    suggestedSeed: Math.floor(Math.random() * 1_000_000),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const admin = await requireAdmin(request);
  const { periodId } = requireRouteIds(params, ["periodId"]);
  const parsed = parseForm(RunSchema, await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 });
  try {
    await requestAssignmentRun({
      db: getDb(),
      periodId,
      ...parsed.data,
      actor: { actorId: admin.id, sessionId: admin.sessionId },
    });
  } catch (error) {
    if (error instanceof AssignmentError) return data({ errors: { form: error.message } as Record<string, string> }, { status: error.status });
    throw error;
  }
  return redirect(`/admin/periods/${periodId}/assignment`);
}

function useRefreshWhile(active: boolean) {
  const revalidator = useRevalidator();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (revalidator.state === "idle") revalidator.revalidate();
    }, 1_000);
    return () => clearInterval(timer);
  }, [active, revalidator]);
}

export default function AssignmentPage() {
  const { period, runs, suggestedSeed } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const errors: Record<string, string | undefined> = actionData?.errors ?? {};
  const navigation = useNavigation();
  const canRun = period.status === "closed" || period.status === "assigned";
  useRefreshWhile(runs.some((run) => run.status === "queued" || run.status === "running"));
  const finished = runs.filter((run) => run.status === "succeeded");
  const active = runs.filter((run) => run.status === "queued" || run.status === "running");

  return (
    <div className="space-y-6">
      <div className="flex items-center gap-3">
        <h1 className="text-2xl font-bold">Assignment · {period.title}</h1>
        <StatusBadge status={period.status} />
      </div>

      <section aria-labelledby="new-run" className="card">
        <h2 id="new-run" className="text-lg font-semibold">
          New run
        </h2>
        {!canRun ? (
          <p className="mt-2 text-slate-600">
            {period.status === "published"
              ? "The results are published; no further runs."
              : `The period is ${period.status}. Runs become possible once it closes.`}
          </p>
        ) : (
          <Form method="post" className="mt-3 space-y-4" noValidate>
            <FormAlert message={errors.form} />
            <fieldset>
              <legend className="label">Objective</legend>
              <div className="mt-1 space-y-1">
                {OBJECTIVES.map((objective, index) => (
                  <label key={objective.value} className="flex items-baseline gap-2">
                    <input type="radio" name="objective" value={objective.value} defaultChecked={index === 0} />
                    <span className="font-medium">{objective.label}</span>
                    <span className="text-sm text-slate-500">{objective.hint}</span>
                  </label>
                ))}
              </div>
              {errors.objective ? (
                <p className="field-error" role="alert">
                  {errors.objective}
                </p>
              ) : null}
            </fieldset>
            <div className="grid gap-4 sm:grid-cols-2">
              <Field
                label="Seed (tie-breaking; the same seed gives the same result)"
                id="seed"
                name="seed"
                inputMode="numeric"
                defaultValue={suggestedSeed}
                error={errors.seed}
              />
              <div>
                <label htmlFor="unassignedPolicy" className="label">
                  Students whose ranked topics are all full
                </label>
                <select id="unassignedPolicy" name="unassignedPolicy" className="input" defaultValue="leave">
                  <option value="leave">Leave unassigned (reported)</option>
                  <option value="any-free-seat">Give them any free seat</option>
                </select>
              </div>
            </div>
            <button type="submit" className="btn-primary" disabled={navigation.state === "submitting"}>
              {navigation.state === "submitting" ? "Starting…" : "Run assignment"}
            </button>
          </Form>
        )}
      </section>

      <section aria-labelledby="runs" className="card p-0">
        <h2 id="runs" className="px-4 pt-4 text-lg font-semibold">
          Runs
        </h2>
        {/* The table refreshes every second; this says the same in words, announced only when a stage changes. */}
        <p role="status" className="sr-only" data-testid="runs-announcement">
          {active.map((run) => `Run ${run.objective}, seed ${run.seed}: ${run.stage}, ${run.progress}%.`).join(" ")}
        </p>
        {runs.length === 0 ? (
          <p className="px-4 pb-4 pt-2 text-slate-600">No runs yet.</p>
        ) : (
          <table className="mt-2 min-w-full divide-y divide-slate-200 text-sm">
            <caption className="sr-only">Assignment runs of this period, newest first</caption>
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">Started</th>
                <th scope="col" className="px-4 py-2 font-medium">Objective</th>
                <th scope="col" className="px-4 py-2 font-medium">Seed</th>
                <th scope="col" className="px-4 py-2 font-medium">Left out</th>
                <th scope="col" className="px-4 py-2 font-medium">Status</th>
                <th scope="col" className="px-4 py-2 font-medium">Result</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {runs.map((run) => (
                <tr key={run.id} data-testid="run-row">
                  <td className="px-4 py-2 text-slate-600">{new Date(run.createdAt).toUTCString()}</td>
                  <td className="px-4 py-2 font-medium">{run.objective}</td>
                  <td className="px-4 py-2 tabular-nums">{run.seed}</td>
                  <td className="px-4 py-2">{run.unassignedPolicy === "leave" ? "stay unassigned" : "any free seat"}</td>
                  <td className="px-4 py-2">
                    {run.status === "queued" || run.status === "running" ? (
                      <div className="w-40">
                        <progress className="w-full" max={100} value={run.progress} aria-label={`Run progress: ${run.stage}`} />
                        <span className="text-xs text-slate-600" data-testid="run-stage">
                          {run.stage} · {run.progress}%
                        </span>
                      </div>
                    ) : run.status === "failed" ? (
                      <span className="text-red-700" data-testid="run-status">
                        failed: {run.error}
                      </span>
                    ) : (
                      <span className="text-green-800" data-testid="run-status">
                        {run.published ? "published" : "done"}
                      </span>
                    )}
                  </td>
                  <td className="px-4 py-2">
                    {run.status === "succeeded" ? (
                      <Link to={run.id} relative="path" className="font-medium text-indigo-700 underline">
                        {run.studentCount} students, {run.unassignedCount} unassigned — review
                      </Link>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {finished.length >= 2 ? (
        <section aria-labelledby="compare" className="card">
          <h2 id="compare" className="text-lg font-semibold">
            Compare two runs
          </h2>
          <Form method="get" action="compare" className="mt-3 flex flex-wrap items-end gap-3">
            {(["a", "b"] as const).map((side, index) => (
              <div key={side}>
                <label htmlFor={`compare-${side}`} className="label">
                  Run {side.toUpperCase()}
                </label>
                <select id={`compare-${side}`} name={side} className="input" defaultValue={finished[index].id}>
                  {finished.map((run) => (
                    <option key={run.id} value={run.id}>
                      {run.objective} · seed {run.seed} · {new Date(run.createdAt).toUTCString()}
                    </option>
                  ))}
                </select>
              </div>
            ))}
            <button type="submit" className="btn-secondary">
              Compare
            </button>
          </Form>
        </section>
      ) : null}
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

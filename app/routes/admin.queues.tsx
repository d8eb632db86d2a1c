import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FormAlert } from "~/components/form-alert";
import { getDb } from "~/db.server";
import { formatVerifyReport, runConsistencyCheck } from "~/models/consistency.server";
import { requestMetricsRecompute } from "~/models/metrics-queue.server";
import { listPeriods } from "~/models/period.server";
import { getQueueHealth, knownQueueNames, QueueUnavailableError, retryFailedJob } from "~/models/queue-health.server";
import { requireAdmin } from "~/session.server";
import { parseForm } from "~/utils/forms";

const IntentSchema = z.object({ intent: z.enum(["retry", "consistency"], "Unknown action.") });
const RetrySchema = z.object({
  queue: z.string().refine((name) => knownQueueNames().includes(name), "Unknown queue."),
  jobId: z.string().min(1, "Choose a job.").max(200),
});
const ConsistencySchema = z.object({
  periodId: z.union([z.literal(""), z.uuid("Choose a period.")]).transform((value) => value || undefined),
});

type ConsistencySummary = {
  runId: number;
  before: string[];
  repaired: string[];
  after: string[];
  staleTopics: number;
  recomputeRequested: boolean;
};

export const meta: MetaFunction = () => [{ title: "Queues and consistency · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request);
  const periods = (await listPeriods({ db: getDb() })).map(({ id, title }) => ({ id, title }));
  try {
    return { queues: await getQueueHealth(), unavailable: null, periods };
  } catch (error) {
    if (error instanceof QueueUnavailableError) return { queues: [], unavailable: error.message, periods };
    throw error;
  }
}

export async function action({ request }: ActionFunctionArgs) {
  await requireAdmin(request);
  const formData = await request.formData();
  const reply = (body: { error?: string; retried?: string; consistency?: ConsistencySummary }, status = 200) =>
    data({ error: null, retried: null, consistency: null, ...body }, { status });
  const intent = parseForm(IntentSchema, formData);
  if (!intent.ok) return reply({ error: intent.errors.intent }, 400);
  if (intent.data.intent === "consistency") {
    const parsed = parseForm(ConsistencySchema, formData);
    if (!parsed.ok) return reply({ error: Object.values(parsed.errors)[0] }, 400);
    const run = await runConsistencyCheck({
      db: getDb(),
      periodId: parsed.data.periodId,
      trigger: "admin",
      requestRecompute: requestMetricsRecompute,
    });
    return reply({
      consistency: {
        runId: run.id,
        before: formatVerifyReport(run.before),
        repaired: run.repaired.map(({ aggregate, namespace, items }) => `${aggregate} ${namespace}: rebuilt with ${items} items`),
        after: formatVerifyReport(run.after),
        staleTopics: run.staleTopicIds.length,
        recomputeRequested: run.recomputeRequested,
      },
    });
  }
  const parsed = parseForm(RetrySchema, formData);
  if (!parsed.ok) return reply({ error: Object.values(parsed.errors)[0] }, 400);
  const retried = await retryFailedJob({ queueName: parsed.data.queue, jobId: parsed.data.jobId });
  if (!retried) return reply({ error: "That job is no longer failed (it was retried or removed)." }, 409);
  return reply({ retried: parsed.data.jobId });
}

const COLUMNS = ["waiting", "active", "delayed", "failed", "completed"] as const;

export default function QueuesPage() {
  const { queues, unavailable, periods } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  return (
    <section className="space-y-6">
      <div>
        <Link to="/admin" className="text-sm text-indigo-700 underline">
          ← Selection periods
        </Link>
        <h1 className="mt-2 text-2xl font-bold">Queues and consistency</h1>
      </div>
      {unavailable ? (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-700">
          {unavailable}. Start Redis (see README) and reload.
        </p>
      ) : null}
      <FormAlert message={actionData?.error} />
      {actionData?.retried ? (
        <p role="status" className="rounded bg-green-50 p-3 text-sm text-green-800">
          Job {actionData.retried} is waiting again.
        </p>
      ) : null}
      <div className="card overflow-x-auto p-0">
        <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="queue-counts">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">Queue</th>
              {COLUMNS.map((column) => (
                <th key={column} scope="col" className="px-4 py-2 text-right font-medium capitalize">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {queues.map((queue) => (
              <tr key={queue.name} data-testid="queue-row">
                <th scope="row" className="px-4 py-2 text-left font-medium">
                  {queue.name}
                </th>
                {COLUMNS.map((column) => (
                  <td
                    key={column}
                    className={`px-4 py-2 text-right tabular-nums ${column === "failed" && queue.counts.failed > 0 ? "font-semibold text-red-700" : ""}`}
                  >
                    {queue.counts[column]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <section aria-labelledby="consistency-heading" className="card space-y-3">
        <h2 id="consistency-heading" className="text-lg font-semibold">
          Consistency of the ranking aggregates
        </h2>
        <p className="text-sm text-slate-600">
          Compares every aggregate count and sum with the rankings table, rebuilds what differs, checks again, and asks
          for a recompute of topics whose metrics are stale. The same check runs every 5 minutes in the worker.
        </p>
        <Form method="post" className="flex flex-wrap items-end gap-3">
          <div>
            <label htmlFor="consistency-period" className="label">
              Scope
            </label>
            <select id="consistency-period" name="periodId" className="input" defaultValue="">
              <option value="">All periods</option>
              {periods.map((period) => (
                <option key={period.id} value={period.id}>
                  {period.title}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" name="intent" value="consistency" className="btn-primary" disabled={navigation.state !== "idle"}>
            {navigation.formData?.get("intent") === "consistency" ? "Checking…" : "Check and repair"}
          </button>
        </Form>
        {actionData?.consistency ? (
          <div className="space-y-2 text-sm" data-testid="consistency-report">
            <p className="font-medium">Run #{actionData.consistency.runId}</p>
            <pre className="overflow-x-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs">{actionData.consistency.before.join("\n")}</pre>
            {actionData.consistency.repaired.length > 0 ? (
              <>
                <p className="font-medium">Repaired</p>
                <pre className="overflow-x-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs">
                  {actionData.consistency.repaired.join("\n")}
                </pre>
                <p className="font-medium">After the repair</p>
                <pre className="overflow-x-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs">{actionData.consistency.after.join("\n")}</pre>
              </>
            ) : null}
            <p>
              {actionData.consistency.staleTopics === 0
                ? "No topic has stale metrics."
                : `${actionData.consistency.staleTopics} topics had stale metrics${actionData.consistency.recomputeRequested ? "; their recompute was requested." : "."}`}
            </p>
          </div>
        ) : null}
      </section>
      {queues.map((queue) =>
        queue.failed.length === 0 ? null : (
          <section key={queue.name} aria-labelledby={`failed-${queue.name}`} className="card space-y-3">
            <h2 id={`failed-${queue.name}`} className="font-semibold">
              Failed jobs on {queue.name}
            </h2>
            <ul className="divide-y divide-slate-100">
              {queue.failed.map((job) => (
                <li key={job.id} className="flex flex-wrap items-start justify-between gap-3 py-2" data-testid="failed-job">
                  <div className="min-w-0 text-sm">
                    <p>
                      <span className="font-medium">{job.name}</span> <span className="font-mono text-xs text-slate-500">#{job.id}</span>{" "}
                      <span className="text-slate-600">
                        {job.attempts} attempt(s){job.failedAt ? `, last ${new Date(job.failedAt).toUTCString()}` : ""}
                      </span>
                    </p>
                    <p className="mt-1 break-words font-mono text-xs text-red-700">{job.error}</p>
                    <p className="mt-1 break-all font-mono text-xs text-slate-500">{job.data}</p>
                  </div>
                  <Form method="post">
                    <input type="hidden" name="queue" value={queue.name} />
                    <input type="hidden" name="jobId" value={job.id} />
                    <button type="submit" name="intent" value="retry" className="btn-secondary py-1" disabled={navigation.state !== "idle"}>
                      Retry
                    </button>
                  </Form>
                </li>
              ))}
            </ul>
          </section>
        ),
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getQueueHealth, knownQueueNames, QueueUnavailableError, retryFailedJob } from "~/models/queue-health.server";
import { requireAdmin } from "~/session.server";
import { parseForm } from "~/utils/forms";

const RetrySchema = z.object({
  intent: z.literal("retry", "Unknown action."),
  queue: z.string().refine((name) => knownQueueNames().includes(name), "Unknown queue."),
  jobId: z.string().min(1, "Choose a job.").max(200),
});

export const meta: MetaFunction = () => [{ title: "Queue health · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request);
  try {
    return { queues: await getQueueHealth(), unavailable: null };
  } catch (error) {
    if (error instanceof QueueUnavailableError) return { queues: [], unavailable: error.message };
    throw error;
  }
}

export async function action({ request }: ActionFunctionArgs) {
  await requireAdmin(request);
  const parsed = parseForm(RetrySchema, await request.formData());
  if (!parsed.ok) return data({ error: Object.values(parsed.errors)[0], retried: null }, { status: 400 });
  const retried = await retryFailedJob({ queueName: parsed.data.queue, jobId: parsed.data.jobId });
  if (!retried) {
    return data({ error: "That job is no longer failed (it was retried or removed).", retried: null }, { status: 409 });
  }
  return { error: null, retried: parsed.data.jobId };
}

const COLUMNS = ["waiting", "active", "delayed", "failed", "completed"] as const;

export default function QueuesPage() {
  const { queues, unavailable } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  return (
    <section className="space-y-6">
      <div>
        <Link to="/admin" className="text-sm text-indigo-700 underline">
          ← Selection periods
        </Link>
        <h1 className="mt-2 text-2xl font-bold">Queue health</h1>
      </div>
      {unavailable ? (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-700">
          {unavailable}. Start Redis (see README) and reload.
        </p>
      ) : null}
      {actionData?.error ? (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-700">
          {actionData.error}
        </p>
      ) : null}
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

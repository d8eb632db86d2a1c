import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FormAlert } from "~/components/form-alert";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import { getParticipationCounts } from "~/models/participation.server";
import { closePeriod, listTopics, openPeriod } from "~/models/period.server";
import { adminActor, requireAdminPeriod, runPeriodCommand } from "~/utils/admin.server";
import { parseForm } from "~/utils/forms";

const TransitionSchema = z.object({ intent: z.enum(["open", "close"], "Choose open or close.") });

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.period.title ?? "Period"} · TopicMatch` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const db = getDb();
  const [topics, participation] = await Promise.all([
    listTopics({ db, periodId: period.id }),
    getParticipationCounts({ db, periodId: period.id }),
  ]);
  const places = topics.reduce((sum, topic) => sum + topic.capacity, 0);
  return { period, topicCount: topics.length, places, participation };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { admin, period } = await requireAdminPeriod(request, params.periodId);
  const parsed = parseForm(TransitionSchema, await request.formData());
  if (!parsed.ok) return data({ error: parsed.errors.intent, done: null }, { status: 400 });
  const actor = adminActor(admin);
  const result = await runPeriodCommand((tx) =>
    parsed.data.intent === "open"
      ? openPeriod({ tx, periodId: period.id, actor })
      : closePeriod({ tx, periodId: period.id, actor }),
  );
  if (!result.ok) return result.response;
  return { error: null, done: parsed.data.intent === "open" ? "The period is open." : "The period is closed." };
}

function formatTime(value: Date | string | null) {
  return value ? new Date(value).toUTCString() : "not set";
}

export default function PeriodOverview() {
  const { period, topicCount, places, participation } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle";
  const links = [
    { to: "dashboard", label: "Dashboard", hint: "Live metrics, charts and participation" },
    { to: "topics", label: "Topics", hint: `${topicCount} topics, ${places} places` },
    { to: "students", label: "Students", hint: `${participation.ranked} of ${participation.students} have ranked` },
    { to: "events", label: "Event log", hint: "Filter, page through and export" },
    { to: "assignment", label: "Assignment", hint: "Run, review and publish" },
  ];
  return (
    <section className="space-y-6">
      <div>
        <Link to="/admin" className="text-sm text-indigo-700 underline">
          ← Selection periods
        </Link>
        <div className="mt-2 flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-bold">{period.title}</h1>
          <StatusBadge status={period.status} />
          {period.status === "draft" || period.status === "open" ? (
            <Link to="edit" className="btn-secondary py-1">
              Edit
            </Link>
          ) : null}
        </div>
        {period.description ? <p className="mt-1 max-w-3xl text-slate-600">{period.description}</p> : null}
        <dl className="mt-3 flex flex-wrap gap-x-8 gap-y-1 text-sm text-slate-600">
          <div>
            <dt className="inline font-medium">Opens: </dt>
            <dd className="inline">{formatTime(period.opensAt)}</dd>
          </div>
          <div>
            <dt className="inline font-medium">Closes: </dt>
            <dd className="inline">{formatTime(period.closesAt)}</dd>
          </div>
        </dl>
      </div>

      <FormAlert message={actionData?.error} />
      {actionData && "done" in actionData && actionData.done ? (
        <p role="status" className="rounded bg-green-50 p-3 text-sm text-green-800">
          {actionData.done}
        </p>
      ) : null}

      {period.status === "draft" || period.status === "open" ? (
        <Form method="post" className="card flex flex-wrap items-center gap-4">
          {period.status === "draft" ? (
            <>
              <p className="text-sm text-slate-700">
                Students see the period once it is open; topics can no longer be changed then.
              </p>
              <button type="submit" name="intent" value="open" className="btn-primary" disabled={busy}>
                Open the period
              </button>
            </>
          ) : (
            <>
              <p className="text-sm text-slate-700">Closing ends ranking for every student now.</p>
              <button type="submit" name="intent" value="close" className="btn-primary" disabled={busy}>
                Close the period
              </button>
            </>
          )}
        </Form>
      ) : null}

      <nav aria-label="Period sections" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {links.map((link) => (
          <Link key={link.to} to={link.to} className="card block hover:border-indigo-300 hover:bg-indigo-50/40">
            <span className="font-semibold text-indigo-700">{link.label}</span>
            <span className="mt-1 block text-sm text-slate-600">{link.hint}</span>
          </Link>
        ))}
      </nav>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { PeriodPageHeader } from "~/components/admin/period-header";
import { Field } from "~/components/field";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb } from "~/db.server";
import { describeEvent } from "~/models/event-format";
import { EventFilterSchema, listPeriodEvents } from "~/models/event-log.server";
import { EVENT_TYPES } from "~/models/events";
import { toUtcInputValue } from "~/models/period-forms";
import { listTopics } from "~/models/period.server";
import { requireAdminPeriod } from "~/utils/admin.server";

export const meta: MetaFunction = () => [{ title: "Event log · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const url = new URL(request.url);
  const parsed = EventFilterSchema.safeParse(Object.fromEntries(url.searchParams));
  const filterErrors: Record<string, string> = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) filterErrors[String(issue.path[0] ?? "form")] ??= issue.message;
    return { period: { id: period.id, title: period.title }, events: [], nextBefore: null, filterErrors, topicTitles: {} };
  }
  const db = getDb();
  const [page, topics] = await Promise.all([
    listPeriodEvents({ db, periodId: period.id, filter: parsed.data }),
    listTopics({ db, periodId: period.id }),
  ]);
  const topicTitles = Object.fromEntries(topics.map((topic) => [topic.id, topic.title]));
  return { period: { id: period.id, title: period.title }, ...page, filterErrors, topicTitles };
}

export default function EventLogPage() {
  const { period, events, nextBefore, filterErrors, topicTitles } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const filters = new URLSearchParams(searchParams);
  filters.delete("before");
  const next = new URLSearchParams(filters);
  if (nextBefore) next.set("before", String(nextBefore));
  const value = (name: string) => searchParams.get(name) ?? "";
  const error = (name: string) =>
    filterErrors[name] ? (
      <p className="field-error" role="alert">
        {filterErrors[name]}
      </p>
    ) : null;
  return (
    <section className="space-y-6">
      <PeriodPageHeader
        period={period}
        title="Event log"
        actions={
          <>
            <a href={`/admin/periods/${period.id}/events/export?${filters}&format=csv`} className="btn-secondary py-1" download>
              Export CSV
            </a>
            <a href={`/admin/periods/${period.id}/events/export?${filters}&format=json`} className="btn-secondary py-1" download>
              Export JSON
            </a>
          </>
        }
      />
      <Form method="get" className="card grid gap-3 sm:grid-cols-3 lg:grid-cols-6">
        <div>
          <label htmlFor="filter-type" className="label">
            Type
          </label>
          <select id="filter-type" name="type" className="input" defaultValue={value("type")}>
            <option value="">Any</option>
            {EVENT_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
          {error("type")}
        </div>
        <Field label="Actor (email or id)" name="actor" defaultValue={value("actor")} error={filterErrors.actor} />
        <div>
          <label htmlFor="filter-actor-type" className="label">
            Actor kind
          </label>
          <select id="filter-actor-type" name="actorType" className="input" defaultValue={value("actorType")}>
            <option value="">Any</option>
            <option value="student">student</option>
            <option value="admin">admin</option>
            <option value="system">system</option>
          </select>
          {error("actorType")}
        </div>
        <Field label="Session" name="session" defaultValue={value("session")} error={filterErrors.session} />
        <Field label="From (UTC)" name="from" type="datetime-local" defaultValue={toUtcInputValue(value("from") || null)} error={filterErrors.from} />
        <Field label="To (UTC)" name="to" type="datetime-local" defaultValue={toUtcInputValue(value("to") || null)} error={filterErrors.to} />
        <div className="flex gap-2 sm:col-span-3 lg:col-span-6">
          <button type="submit" className="btn-primary">
            Filter
          </button>
          <Link to="." className="btn-secondary">
            Clear
          </Link>
        </div>
      </Form>
      <ol className="space-y-2" data-testid="event-list">
        {events.length === 0 ? <li className="card text-slate-500">No events match.</li> : null}
        {events.map((event) => (
          <li key={event.id} className="card py-3" data-testid="event-row">
            <div className="flex flex-wrap items-baseline gap-x-4 gap-y-1 text-sm">
              <span className="font-mono text-xs text-slate-500">#{event.id}</span>
              <span className="font-semibold">{event.type}</span>
              <span className="text-slate-600">{new Date(event.createdAt).toUTCString()}</span>
              <span className="text-slate-600">
                {event.actorType}
                {event.actorEmail ? ` · ${event.actorEmail}` : ""}
              </span>
              {event.sessionId ? (
                <Link to={`?session=${encodeURIComponent(event.sessionId)}`} className="font-mono text-xs text-indigo-700 underline">
                  session {event.sessionId.slice(0, 12)}
                </Link>
              ) : null}
            </div>
            <p className="mt-1 text-sm">{describeEvent(event.type, event.payload, topicTitles)}</p>
            <details className="mt-1 text-xs">
              <summary className="cursor-pointer text-slate-500">Payload</summary>
              <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-2">{JSON.stringify(event.payload, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
      {nextBefore ? (
        <Link to={`?${next}`} className="btn-secondary">
          Older events
        </Link>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

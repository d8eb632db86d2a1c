import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { z } from "zod";
import { ProfileChart } from "~/components/assignment/profile-chart";
import { Pagination } from "~/components/assignment/pagination";
import { Field } from "~/components/field";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FormAlert } from "~/components/form-alert";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import { ordinal } from "~/models/assignment/explain";
import {
  ASSIGNMENT_PAGE_SIZE,
  AssignmentError,
  explainStudentAssignment,
  getAssignmentRun,
  getRunAssignment,
  overrideAssignment,
  pageRunAssignments,
  publishAssignmentRun,
  requireRouteIds,
  rethrowAsResponse,
  summarizeRun,
  topicOccupancy,
} from "~/models/assignment/runs.server";
import { getPeriod } from "~/models/period.server";
import { requireAdmin } from "~/session.server";
import { parseForm } from "~/utils/forms";
import { invariantResponse } from "~/utils/http";

const ActionSchema = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("override"),
    studentId: z.uuid("Choose a student"),
    topicId: z.union([z.literal(""), z.uuid("Choose a topic")]),
    reason: z.string().trim().min(3, "Give a reason for the change (at least 3 characters)").max(1000, "Keep the reason under 1000 characters"),
  }),
  z.object({ intent: z.literal("publish") }),
]);

// Anything unusable in the address falls back to the first page of everyone rather than an error page.
const ViewSchema = z.object({
  q: z.string().trim().max(200).catch(""),
  page: z.coerce.number().int().min(1).catch(1),
  student: z.uuid().optional().catch(undefined),
});

export const meta: MetaFunction = () => [{ title: "Assignment run · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request);
  const { periodId, runId } = requireRouteIds(params, ["periodId", "runId"]);
  const db = getDb();
  const period = await getPeriod({ db, periodId });
  invariantResponse(period, "That selection period does not exist.", { status: 404 });
  const run = await getAssignmentRun({ db, periodId, runId }).catch(rethrowAsResponse);
  invariantResponse(run.status === "succeeded", `This run has ${run.status === "failed" ? `failed: ${run.error}` : "not finished yet"}.`, {
    status: 409,
  });
  const view = ViewSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const [summary, listing, occupancy, selected] = await Promise.all([
    summarizeRun({ db, runId }),
    pageRunAssignments({ db, runId, query: view.q, page: view.page }),
    topicOccupancy({ db, runId, periodId }),
    view.student ? getRunAssignment({ db, runId, studentId: view.student }) : undefined,
  ]);
  const explanation = selected ? await explainStudentAssignment({ db, run, studentId: selected.studentId, voice: "admin" }) : [];
  return {
    period: { id: period.id, title: period.title, status: period.status },
    run: {
      id: run.id,
      objective: run.objective,
      seed: run.seed,
      unassignedPolicy: run.unassignedPolicy,
      inputHash: run.inputHash,
      objectiveValue: run.objectiveValue,
      published: run.publishedAt !== null,
      createdAt: run.createdAt.toISOString(),
    },
    profile: summary.profile,
    overrides: summary.overrides,
    occupancy,
    total: summary.total,
    matches: listing.matches,
    rows: listing.rows,
    page: listing.page,
    pages: listing.pages,
    query: view.q,
    selected: selected ? { ...selected, explanation } : null,
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const admin = await requireAdmin(request);
  const { periodId, runId } = requireRouteIds(params, ["periodId", "runId"]);
  const parsed = parseForm(ActionSchema, await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 });
  const actor = { actorId: admin.id, sessionId: admin.sessionId };
  const db = getDb();
  try {
    if (parsed.data.intent === "publish") {
      await publishAssignmentRun({ db, periodId, runId, actor });
      return redirect(`/admin/periods/${periodId}/assignment/${runId}`);
    }
    const { studentId, topicId, reason } = parsed.data;
    await overrideAssignment({ db, periodId, runId, studentId, topicId: topicId || null, reason, actor });
    return redirect(`/admin/periods/${periodId}/assignment/${runId}?student=${studentId}`);
  } catch (error) {
    if (error instanceof AssignmentError) return data({ errors: { form: error.message } as Record<string, string> }, { status: error.status });
    throw error;
  }
}

export default function AssignmentRunPage() {
  const { period, run, profile, overrides, occupancy, total, matches, rows, page, pages, query, selected } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const errors: Record<string, string | undefined> = actionData?.errors ?? {};
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const editable = period.status !== "published";
  const withStudent = (studentId: string) => {
    const next = new URLSearchParams(searchParams);
    next.set("student", studentId);
    return `?${next}`;
  };
  const toPage = (target: number) => {
    const next = new URLSearchParams(searchParams);
    next.set("page", String(target));
    next.delete("student");
    return `?${next}`;
  };
  const first = rows.length === 0 ? 0 : (page - 1) * ASSIGNMENT_PAGE_SIZE + 1;
  // "Why?" opens the detail above the table; keyboard and screen-reader users are taken there rather than left in the table.
  const detailHeading = useRef<HTMLHeadingElement>(null);
  const selectedId = selected?.studentId;
  useEffect(() => {
    if (selectedId) detailHeading.current?.focus();
  }, [selectedId]);

  return (
    <div className="space-y-6">
      <div>
        <Link to={`/admin/periods/${period.id}/assignment`} className="text-sm text-indigo-700 underline">
          ← All runs of {period.title}
        </Link>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-bold">
            Run: {run.objective}, seed {run.seed}
          </h1>
          <StatusBadge status={period.status} />
          {run.published ? (
            <span className="rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-semibold text-indigo-800" data-testid="run-published">
              published run
            </span>
          ) : null}
        </div>
        <p className="mt-1 text-sm text-slate-600">
          {total} students · {run.unassignedPolicy === "leave" ? "students left out stay unassigned" : "students left out take any free seat"} ·{" "}
          {overrides} changed by hand · input hash <code className="text-xs">{run.inputHash?.slice(0, 12)}</code>
        </p>
      </div>

      <FormAlert message={errors.form} />

      <div className="grid gap-6 lg:grid-cols-3">
        <section aria-labelledby="profile" className="card lg:col-span-2">
          <h2 id="profile" className="text-lg font-semibold">
            Which choice students got
          </h2>
          <ProfileChart title="Students per choice" series={[{ name: "students", profile }]} />
        </section>
        <section aria-labelledby="seats" className="card">
          <h2 id="seats" className="text-lg font-semibold">
            Seats
          </h2>
          <table className="mt-2 w-full text-sm">
            <caption className="sr-only">Seats taken per topic in this run</caption>
            <thead className="sr-only">
              <tr>
                <th scope="col">Topic</th>
                <th scope="col">Seats taken of capacity</th>
              </tr>
            </thead>
            <tbody>
              {occupancy.map((topic) => (
                <tr key={topic.topicId}>
                  <th scope="row" className="py-0.5 pr-2 text-left font-normal">
                    {topic.title}
                  </th>
                  <td className="py-0.5 text-right tabular-nums text-slate-600">
                    {topic.taken} / {topic.capacity}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="mt-4 flex flex-wrap gap-2">
            <a href={`/admin/periods/${period.id}/assignment/${run.id}/csv`} className="btn-secondary" download>
              Download CSV
            </a>
            {period.status === "assigned" ? (
              <Form method="post">
                <input type="hidden" name="intent" value="publish" />
                <button type="submit" className="btn-primary" disabled={navigation.state === "submitting"}>
                  Publish this run
                </button>
              </Form>
            ) : null}
          </div>
        </section>
      </div>

      {selected ? (
        <section aria-labelledby="student-detail" className="card space-y-3" data-testid="student-detail">
          <h2 id="student-detail" className="text-lg font-semibold" tabIndex={-1} ref={detailHeading}>
            {selected.name} <span className="text-sm font-normal text-slate-500">{selected.email}</span>
          </h2>
          <ul className="list-disc space-y-1 pl-5 text-sm text-slate-700" data-testid="explanation">
            {selected.explanation.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
          {editable ? (
            <Form key={selected.studentId} method="post" className="grid gap-3 sm:grid-cols-3" noValidate>
              <input type="hidden" name="intent" value="override" />
              <input type="hidden" name="studentId" value={selected.studentId} />
              <div>
                <label htmlFor="override-topic" className="label">
                  Move to
                </label>
                <select id="override-topic" name="topicId" className="input" defaultValue={selected.topicId ?? ""}>
                  <option value="">No topic</option>
                  {occupancy.map((topic) => (
                    <option key={topic.topicId} value={topic.topicId}>
                      {topic.title} ({topic.taken}/{topic.capacity})
                    </option>
                  ))}
                </select>
                {errors.topicId ? (
                  <p className="field-error" role="alert">
                    {errors.topicId}
                  </p>
                ) : null}
              </div>
              <div className="sm:col-span-2">
                <Field
                  label="Reason (required, kept in the event log)"
                  id="override-reason"
                  name="reason"
                  required
                  error={errors.reason}
                />
              </div>
              <div>
                <button type="submit" className="btn-secondary" disabled={navigation.state === "submitting"}>
                  Change assignment
                </button>
              </div>
            </Form>
          ) : null}
        </section>
      ) : null}

      <section aria-labelledby="assignments" className="card p-0">
        <div className="flex flex-wrap items-end justify-between gap-3 px-4 pt-4">
          <h2 id="assignments" className="text-lg font-semibold">
            Assignments
          </h2>
          <Form method="get" className="flex items-end gap-2" role="search">
            <label htmlFor="q" className="sr-only">
              Search students or topics
            </label>
            <input id="q" name="q" type="search" className="input" placeholder="Name, email or topic" defaultValue={query} />
            <button type="submit" className="btn-secondary">
              Search
            </button>
          </Form>
        </div>
        <p className="px-4 pt-2 text-sm text-slate-600" role="status">
          {matches === total ? `${total} students` : `${matches} of ${total} students match`}
          {pages > 1 ? ` · showing ${first}–${first + rows.length - 1}, page ${page} of ${pages}` : ""}
        </p>
        <table className="mt-2 min-w-full divide-y divide-slate-200 text-sm">
          <caption className="sr-only">
            Assignments of this run{query ? ` matching “${query}”` : ""}, page {page} of {pages}, sorted by student name
          </caption>
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">Student</th>
              <th scope="col" className="px-4 py-2 font-medium">Topic</th>
              <th scope="col" className="px-4 py-2 font-medium">Choice</th>
              <th scope="col" className="px-4 py-2 font-medium"><span className="sr-only">Details</span></th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((row) => (
              <tr
                key={row.studentId}
                data-testid="assignment-row"
                aria-current={row.studentId === selected?.studentId ? "true" : undefined}
                className={row.studentId === selected?.studentId ? "bg-indigo-50" : undefined}
              >
                <td className="px-4 py-2">
                  <span className="font-medium">{row.name}</span> <span className="text-slate-500">{row.email}</span>
                </td>
                <td className="px-4 py-2">{row.topicTitle ?? <span className="text-red-700">unassigned</span>}</td>
                <td className="px-4 py-2">
                  {row.rank !== null ? ordinal(row.rank) : row.topicId ? "not ranked" : "—"}
                  {row.overridden ? (
                    <span className="ml-2 rounded bg-amber-100 px-1 text-xs text-amber-800">changed by hand: {row.overrideReason}</span>
                  ) : null}
                </td>
                <td className="px-4 py-2 text-right">
                  <Link to={withStudent(row.studentId)} preventScrollReset className="text-indigo-700 underline">
                    Why?<span className="sr-only"> {row.name}</span>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pagination page={page} pages={pages} toPage={toPage} label="Assignment pages" />
      </section>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

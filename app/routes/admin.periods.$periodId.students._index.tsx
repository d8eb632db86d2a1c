import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { PeriodPageHeader } from "~/components/admin/period-header";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FormAlert } from "~/components/form-alert";
import { getDb, withTransaction } from "~/db.server";
import { reissueSignInCode } from "~/models/invitation.server";
import { getParticipationCounts, listStudentParticipation } from "~/models/participation.server";
import { requireAdminPeriod } from "~/utils/admin.server";
import { parseForm } from "~/utils/forms";
import { invariantResponse } from "~/utils/http";

const SearchSchema = z.object({
  q: z.string().trim().max(200, "Search with at most 200 characters.").default(""),
  status: z.enum(["all", "ranked", "not-ranked"], "Choose all, ranked or not ranked.").default("all"),
  after: z.string().max(320).optional(),
});

const ReissueSchema = z.object({
  intent: z.literal("reissue", "Unknown action."),
  studentId: z.uuid("Choose a student."),
});

export const meta: MetaFunction = () => [{ title: "Students · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const url = new URL(request.url);
  const parsed = SearchSchema.safeParse(Object.fromEntries(url.searchParams));
  invariantResponse(parsed.success, parsed.error?.issues[0]?.message ?? "Invalid search.", { status: 400 });
  const db = getDb();
  const [page, counts] = await Promise.all([
    listStudentParticipation({ db, periodId: period.id, search: parsed.data.q, status: parsed.data.status, after: parsed.data.after }),
    getParticipationCounts({ db, periodId: period.id }),
  ]);
  return { period: { id: period.id, title: period.title }, ...page, counts, search: parsed.data };
}

export async function action({ request, params }: ActionFunctionArgs) {
  await requireAdminPeriod(request, params.periodId);
  const parsed = parseForm(ReissueSchema, await request.formData());
  if (!parsed.ok) return data({ error: Object.values(parsed.errors)[0], issued: null }, { status: 400 });
  const issued = await withTransaction(getDb(), (tx) => reissueSignInCode({ tx, studentId: parsed.data.studentId }));
  if (!issued) return data({ error: "That student does not exist.", issued: null }, { status: 404 });
  // Shown once, like after an import: only the hash is stored.
  return { error: null, issued };
}

export default function StudentsPage() {
  const { period, students, nextAfter, counts, search } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const next = new URLSearchParams(searchParams);
  if (nextAfter) next.set("after", nextAfter);
  return (
    <section className="space-y-6">
      <PeriodPageHeader
        period={period}
        title="Students"
        actions={
          <Link to="/admin/students/import" className="btn-secondary py-1">
            Import students from CSV
          </Link>
        }
      >
        <p className="mt-1 text-sm text-slate-600" data-testid="participation-summary">
          {counts.ranked} of {counts.students} students have ranked; {counts.notRanked} not yet.
        </p>
      </PeriodPageHeader>
      <FormAlert message={actionData?.error} />
      {actionData?.issued ? (
        <p role="status" className="rounded bg-amber-50 p-3 text-sm text-amber-900" data-testid="reissued-code">
          New one-time code for {actionData.issued.name} ({actionData.issued.email}):{" "}
          <strong className="font-mono text-base tracking-wider">{actionData.issued.code}</strong>. It is shown only now;
          the student sets a new password with it at <code>/activate</code>, and any earlier unused code stops working.
        </p>
      ) : null}
      <Form method="get" className="card flex flex-wrap items-end gap-3">
        <div className="grow">
          <label htmlFor="student-search" className="label">
            Search name or email
          </label>
          <input id="student-search" name="q" type="search" className="input" defaultValue={search.q} />
        </div>
        <div>
          <label htmlFor="student-status" className="label">
            Participation
          </label>
          <select id="student-status" name="status" className="input" defaultValue={search.status}>
            <option value="all">All</option>
            <option value="ranked">Ranked</option>
            <option value="not-ranked">Not yet</option>
          </select>
        </div>
        <button type="submit" className="btn-secondary">
          Search
        </button>
      </Form>
      <div className="card overflow-x-auto p-0">
        <table className="min-w-full divide-y divide-slate-200 text-sm">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">Name</th>
              <th scope="col" className="px-4 py-2 font-medium">Email</th>
              <th scope="col" className="px-4 py-2 font-medium">Participation</th>
              <th scope="col" className="px-4 py-2 text-right font-medium">Topics ranked</th>
              <th scope="col" className="px-4 py-2 font-medium">Last change</th>
              <th scope="col" className="px-4 py-2 font-medium">Account</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {students.length === 0 ? (
              <tr>
                <td colSpan={6} className="px-4 py-6 text-center text-slate-500">
                  No students match.
                </td>
              </tr>
            ) : null}
            {students.map((student) => (
              <tr key={student.id} data-testid="student-row">
                <td className="px-4 py-2 font-medium">{student.name}</td>
                <td className="px-4 py-2">{student.email}</td>
                <td className="px-4 py-2">
                  {student.rankedCount > 0 ? (
                    <span className="rounded-full bg-green-100 px-2 py-0.5 text-xs font-semibold text-green-800">ranked</span>
                  ) : (
                    <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-semibold text-slate-700">not yet</span>
                  )}
                </td>
                <td className="px-4 py-2 text-right tabular-nums">{student.rankedCount}</td>
                <td className="px-4 py-2 text-slate-600">{student.lastRankedAt ? new Date(student.lastRankedAt).toUTCString() : "—"}</td>
                <td className="whitespace-nowrap px-4 py-2 text-slate-600">
                  {student.canSignIn ? "active" : "code not used yet"}
                  <Form method="post" className="ml-2 inline">
                    <input type="hidden" name="studentId" value={student.id} />
                    <button type="submit" name="intent" value="reissue" className="text-indigo-700 underline">
                      New code
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {nextAfter ? (
        <Link to={`?${next}`} className="btn-secondary">
          Next page
        </Link>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { CsvErrorTable } from "~/components/admin/csv-errors";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb } from "~/db.server";
import { parseTopicsCsv, type CsvError, type TopicCsvRow } from "~/models/csv-import";
import { createTopics, listTopics } from "~/models/period.server";
import { requireAdmin } from "~/session.server";
import { adminActor, requirePeriod, runPeriodCommand } from "~/utils/admin.server";
import { readCsvUpload } from "~/utils/csv-upload.server";
import { parseForm } from "~/utils/forms";

const IntentSchema = z.object({ intent: z.enum(["preview", "import"], "Unknown action.") });

type ActionData = {
  errors: CsvError[];
  formError: string | null;
  preview: { line: number; value: TopicCsvRow }[];
  csv: string;
};

export const meta: MetaFunction = () => [{ title: "Import topics · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request);
  const period = await requirePeriod(params.periodId);
  return { period: { id: period.id, title: period.title, status: period.status } };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const admin = await requireAdmin(request);
  const period = await requirePeriod(params.periodId);
  const formData = await request.formData();
  const intent = parseForm(IntentSchema, formData);
  const reply = (body: Partial<ActionData>, status: number) =>
    data<ActionData>({ errors: [], formError: null, preview: [], csv: "", ...body }, { status });
  if (!intent.ok) return reply({ formError: intent.errors.intent }, 400);
  const upload = await readCsvUpload(formData);
  if (!upload.ok) return reply({ formError: upload.error }, 400);
  const existing = await listTopics({ db: getDb(), periodId: period.id });
  const parsed = parseTopicsCsv(
    upload.text,
    existing.map((topic) => topic.title),
  );
  if (parsed.errors.length > 0) return reply({ errors: parsed.errors, csv: upload.text }, 400);
  if (intent.data.intent === "preview") return reply({ preview: parsed.rows, csv: upload.text }, 200);
  const result = await runPeriodCommand((tx) =>
    createTopics({ tx, periodId: period.id, topics: parsed.rows.map((row) => row.value), actor: adminActor(admin) }),
  );
  if (!result.ok) return result.response;
  return redirect(`/admin/periods/${period.id}/topics`);
}

export default function ImportTopicsPage() {
  const { period } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle";
  const failure = actionData && "error" in actionData ? actionData.error : null;
  const result = actionData && "preview" in actionData ? actionData : null;
  return (
    <section className="space-y-6">
      <div>
        <Link to={`/admin/periods/${period.id}/topics`} className="text-sm text-indigo-700 underline">
          ← Topics of {period.title}
        </Link>
        <h1 className="mt-2 text-2xl font-bold">Import topics from CSV</h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-600">
          The first line names the columns: <code>title</code> and <code>capacity</code> are required,{" "}
          <code>supervisor</code> and <code>description</code> optional. Commas or semicolons; quote fields that contain
          them. Preview first: nothing is imported until every line is valid.
        </p>
      </div>
      {failure || result?.formError ? (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-700">
          {failure ?? result?.formError}
        </p>
      ) : null}
      {result && result.errors.length > 0 ? <CsvErrorTable errors={result.errors} /> : null}

      {result && result.preview.length > 0 ? (
        <Form method="post" className="card space-y-4 p-0">
          <p className="px-4 pt-4 font-semibold">
            {result.preview.length} topics ready to import ({result.preview.reduce((sum, row) => sum + row.value.capacity, 0)}{" "}
            places)
          </p>
          <div className="max-h-96 overflow-auto">
            <table className="min-w-full text-sm" data-testid="csv-preview">
              <thead className="sticky top-0 bg-slate-50 text-left text-slate-600">
                <tr>
                  <th scope="col" className="px-4 py-2 font-medium">Line</th>
                  <th scope="col" className="px-4 py-2 font-medium">Title</th>
                  <th scope="col" className="px-4 py-2 font-medium">Supervisor</th>
                  <th scope="col" className="px-4 py-2 text-right font-medium">Capacity</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {result.preview.map((row) => (
                  <tr key={row.line}>
                    <td className="px-4 py-1 tabular-nums text-slate-500">{row.line}</td>
                    <td className="px-4 py-1">{row.value.title}</td>
                    <td className="px-4 py-1">{row.value.supervisor || "—"}</td>
                    <td className="px-4 py-1 text-right tabular-nums">{row.value.capacity}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <input type="hidden" name="csv" value={result.csv} />
          <div className="px-4 pb-4">
            <button type="submit" name="intent" value="import" className="btn-primary" disabled={busy}>
              Import {result.preview.length} topics
            </button>
          </div>
        </Form>
      ) : null}

      <Form method="post" encType="multipart/form-data" className="card max-w-2xl space-y-4" key={result?.csv ?? ""}>
        <div>
          <label htmlFor="topics-file" className="label">
            CSV file
          </label>
          <input id="topics-file" name="file" type="file" accept=".csv,text/csv" className="block text-sm" />
        </div>
        <div>
          <label htmlFor="topics-csv" className="label">
            …or paste the CSV text
          </label>
          <textarea
            id="topics-csv"
            name="csv"
            rows={6}
            className="input font-mono"
            defaultValue={result?.errors.length ? result.csv : ""}
            placeholder={"title,capacity,supervisor,description\nGraph colouring,2,Dr Smith,Heuristics for …"}
          />
        </div>
        <button type="submit" name="intent" value="preview" className="btn-secondary" disabled={busy}>
          Preview
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

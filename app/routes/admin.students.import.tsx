import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { CsvErrorTable } from "~/components/admin/csv-errors";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb, withTransaction } from "~/db.server";
import { parseStudentsCsv, type CsvError } from "~/models/csv-import";
import { CODE_VALID_DAYS, importStudents, planStudentImport, StudentImportError, type IssuedCode } from "~/models/invitation.server";
import { requireAdmin } from "~/session.server";
import { adminActor } from "~/utils/admin.server";
import { readCsvUpload } from "~/utils/csv-upload.server";
import { parseForm } from "~/utils/forms";

const IntentSchema = z.object({ intent: z.enum(["preview", "import"], "Unknown action.") });

type ActionData = {
  errors: CsvError[];
  formError: string | null;
  preview: { line: number; email: string; name: string; existing: boolean }[];
  csv: string;
  issued: IssuedCode[];
  existing: string[];
};

export const meta: MetaFunction = () => [{ title: "Import students · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request);
  return null;
}

export async function action({ request }: ActionFunctionArgs) {
  const admin = await requireAdmin(request);
  const formData = await request.formData();
  const reply = (body: Partial<ActionData>, status: number) =>
    data<ActionData>({ errors: [], formError: null, preview: [], csv: "", issued: [], existing: [], ...body }, { status });
  const intent = parseForm(IntentSchema, formData);
  if (!intent.ok) return reply({ formError: intent.errors.intent }, 400);
  const upload = await readCsvUpload(formData);
  if (!upload.ok) return reply({ formError: upload.error }, 400);
  const parsed = parseStudentsCsv(upload.text);
  const plan = await planStudentImport({ db: getDb(), rows: parsed.rows });
  const errors = [...parsed.errors, ...plan.errors].sort((a, b) => a.line - b.line);
  if (errors.length > 0) return reply({ errors, csv: upload.text }, 400);
  if (intent.data.intent === "preview") {
    const preview = [
      ...plan.create.map((row) => ({ line: row.line, ...row.value, existing: false })),
      ...plan.existing.map((row) => ({ line: row.line, ...row.value, existing: true })),
    ].sort((a, b) => a.line - b.line);
    return reply({ preview, csv: upload.text }, 200);
  }
  try {
    const result = await withTransaction(getDb(), (tx) => importStudents({ tx, rows: parsed.rows, actor: adminActor(admin) }));
    // The codes exist only in this response: the database keeps their hashes.
    return reply({ ...result }, 200);
  } catch (error) {
    if (error instanceof StudentImportError) return reply({ errors: error.errors, csv: upload.text }, 409);
    throw error;
  }
}

export default function ImportStudentsPage() {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle";
  if (result && result.issued.length + result.existing.length > 0) {
    return (
      <section className="space-y-4">
        <Link to="/admin" className="text-sm text-indigo-700 underline print:hidden">
          ← Selection periods
        </Link>
        <h1 className="text-2xl font-bold">Sign-in codes</h1>
        <p role="status" className="max-w-3xl rounded bg-amber-50 p-3 text-sm text-amber-900 print:hidden">
          {result.issued.length} accounts created{result.existing.length ? `, ${result.existing.length} already existed` : ""}.
          Print or save these codes now: they are shown only once. Each student signs in at <code>/activate</code> with
          their email and code, then chooses a password. Codes expire after {CODE_VALID_DAYS} days.
        </p>
        <button type="button" className="btn-secondary print:hidden" onClick={() => window.print()}>
          Print
        </button>
        <table className="card min-w-full p-0 text-sm" data-testid="issued-codes">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">Name</th>
              <th scope="col" className="px-4 py-2 font-medium">Email</th>
              <th scope="col" className="px-4 py-2 font-medium">One-time code</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {result.issued.map((row) => (
              <tr key={row.email}>
                <td className="px-4 py-1">{row.name}</td>
                <td className="px-4 py-1">{row.email}</td>
                <td className="px-4 py-1 font-mono text-base tracking-wider">{row.code}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    );
  }
  return (
    <section className="space-y-6">
      <div>
        <Link to="/admin" className="text-sm text-indigo-700 underline">
          ← Selection periods
        </Link>
        <h1 className="mt-2 text-2xl font-bold">Import students from CSV</h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-600">
          Columns <code>email</code> and <code>name</code>. New students get an account without a password and a
          one-time code to set one; students who already have an account are left as they are.
        </p>
      </div>
      {result?.formError ? (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-700">
          {result.formError}
        </p>
      ) : null}
      {result && result.errors.length > 0 ? <CsvErrorTable errors={result.errors} /> : null}
      {result && result.preview.length > 0 ? (
        <Form method="post" className="card space-y-4 p-0">
          <p className="px-4 pt-4 font-semibold">
            {result.preview.filter((row) => !row.existing).length} new students,{" "}
            {result.preview.filter((row) => row.existing).length} already registered
          </p>
          <div className="max-h-96 overflow-auto">
            <table className="min-w-full text-sm" data-testid="csv-preview">
              <thead className="sticky top-0 bg-slate-50 text-left text-slate-600">
                <tr>
                  <th scope="col" className="px-4 py-2 font-medium">Line</th>
                  <th scope="col" className="px-4 py-2 font-medium">Email</th>
                  <th scope="col" className="px-4 py-2 font-medium">Name</th>
                  <th scope="col" className="px-4 py-2 font-medium">Result</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {result.preview.map((row) => (
                  <tr key={row.line}>
                    <td className="px-4 py-1 tabular-nums text-slate-500">{row.line}</td>
                    <td className="px-4 py-1">{row.email}</td>
                    <td className="px-4 py-1">{row.name}</td>
                    <td className="px-4 py-1">{row.existing ? "already registered, unchanged" : "new account + code"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <input type="hidden" name="csv" value={result.csv} />
          <div className="px-4 pb-4">
            <button type="submit" name="intent" value="import" className="btn-primary" disabled={busy}>
              Create accounts and show codes
            </button>
          </div>
        </Form>
      ) : null}
      <Form method="post" encType="multipart/form-data" className="card max-w-2xl space-y-4" key={result?.csv ?? ""}>
        <div>
          <label htmlFor="students-file" className="label">
            CSV file
          </label>
          <input id="students-file" name="file" type="file" accept=".csv,text/csv" className="block text-sm" />
        </div>
        <div>
          <label htmlFor="students-csv" className="label">
            …or paste the CSV text
          </label>
          <textarea
            id="students-csv"
            name="csv"
            rows={6}
            className="input font-mono"
            defaultValue={result?.errors.length ? result.csv : ""}
            placeholder={"email,name\nada@uni.example,Ada Lovelace"}
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

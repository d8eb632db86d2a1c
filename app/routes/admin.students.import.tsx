import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { CsvImportPanel, type CsvImportReply } from "~/components/admin/csv-import";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb, withTransaction } from "~/db.server";
import { parseStudentsCsv } from "~/models/csv-import";
import { CODE_VALID_DAYS, importStudents, planStudentImport, StudentImportError, type IssuedCode } from "~/models/invitation.server";
import { requireAdmin } from "~/session.server";
import { adminActor } from "~/utils/admin.server";
import { readCsvUpload } from "~/utils/csv-upload.server";
import { parseForm } from "~/utils/forms";

const IntentSchema = z.object({ intent: z.enum(["preview", "import"], "Unknown action.") });

type ActionData = CsvImportReply<{ line: number; email: string; name: string; existing: boolean }> & {
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
      <CsvImportPanel
        reply={result ?? null}
        busy={busy}
        idPrefix="students"
        placeholder={"email,name\nada@uni.example,Ada Lovelace"}
        summary={(rows) => `${rows.filter((row) => !row.existing).length} new students, ${rows.filter((row) => row.existing).length} already registered`}
        columns={[
          { header: "Email", cell: (row) => row.email },
          { header: "Name", cell: (row) => row.name },
          { header: "Result", cell: (row) => (row.existing ? "already registered, unchanged" : "new account + code") },
        ]}
        submitLabel={() => "Create accounts and show codes"}
      />
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

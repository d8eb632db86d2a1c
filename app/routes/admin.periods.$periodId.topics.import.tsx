import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { CsvImportPanel, type CsvImportReply } from "~/components/admin/csv-import";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb } from "~/db.server";
import { parseTopicsCsv, type TopicCsvRow } from "~/models/csv-import";
import { createTopics, listTopics } from "~/models/period.server";
import { adminActor, requireAdminPeriod, runPeriodCommand } from "~/utils/admin.server";
import { readCsvUpload } from "~/utils/csv-upload.server";
import { parseForm } from "~/utils/forms";

const IntentSchema = z.object({ intent: z.enum(["preview", "import"], "Unknown action.") });

type ActionData = CsvImportReply<{ line: number; value: TopicCsvRow }>;

export const meta: MetaFunction = () => [{ title: "Import topics · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  return { period: { id: period.id, title: period.title, status: period.status } };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { admin, period } = await requireAdminPeriod(request, params.periodId);
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
  // A period that left the draft state answers { error } instead of the import reply.
  const reply: ActionData | null =
    actionData && "error" in actionData
      ? { errors: [], formError: actionData.error, preview: [], csv: "" }
      : (actionData ?? null);
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
      <CsvImportPanel
        reply={reply}
        busy={busy}
        idPrefix="topics"
        placeholder={"title,capacity,supervisor,description\nGraph colouring,2,Dr Smith,Heuristics for …"}
        summary={(rows) => `${rows.length} topics ready to import (${rows.reduce((sum, row) => sum + row.value.capacity, 0)} places)`}
        columns={[
          { header: "Title", cell: (row) => row.value.title },
          { header: "Supervisor", cell: (row) => row.value.supervisor || "—" },
          { header: "Capacity", cell: (row) => row.value.capacity, numeric: true },
        ]}
        submitLabel={(rows) => `Import ${rows.length} topics`}
      />
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { TextArea } from "~/components/admin/period-form";
import { PeriodPageHeader } from "~/components/admin/period-header";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field } from "~/components/field";
import { FormAlert } from "~/components/form-alert";
import { StatusBadge } from "~/components/status-badge";
import { getDb } from "~/db.server";
import { TopicFormSchema } from "~/models/period-forms";
import { createTopic, deleteTopic, listTopics } from "~/models/period.server";
import { adminActor, requireAdminPeriod, runPeriodCommand } from "~/utils/admin.server";
import { parseForm } from "~/utils/forms";

const DeleteSchema = z.object({ topicId: z.uuid("Choose a topic.") });
const IntentSchema = z.object({ intent: z.enum(["create", "delete"], "Unknown action.") });

export const meta: MetaFunction = () => [{ title: "Topics · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const topics = await listTopics({ db: getDb(), periodId: period.id });
  return { period: { id: period.id, title: period.title, status: period.status }, topics };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { admin, period } = await requireAdminPeriod(request, params.periodId);
  const formData = await request.formData();
  const intent = parseForm(IntentSchema, formData);
  if (!intent.ok) return data({ errors: intent.errors, error: null }, { status: 400 });
  if (intent.data.intent === "delete") {
    const parsed = parseForm(DeleteSchema, formData);
    if (!parsed.ok) return data({ errors: parsed.errors, error: null }, { status: 400 });
    const result = await runPeriodCommand((tx) => deleteTopic({ tx, periodId: period.id, topicId: parsed.data.topicId }));
    if (!result.ok) return result.response;
    return redirect(`/admin/periods/${period.id}/topics`);
  }
  const parsed = parseForm(TopicFormSchema, formData);
  if (!parsed.ok) return data({ errors: parsed.errors, error: null }, { status: 400 });
  const result = await runPeriodCommand((tx) =>
    createTopic({ tx, periodId: period.id, ...parsed.data, actor: adminActor(admin) }),
  );
  if (!result.ok) return result.response;
  return redirect(`/admin/periods/${period.id}/topics`);
}

export default function TopicsPage() {
  const { period, topics } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const errors: Record<string, string | undefined> = actionData?.errors ?? {};
  const draft = period.status === "draft";
  const places = topics.reduce((sum, topic) => sum + topic.capacity, 0);
  return (
    <section className="space-y-6">
      <PeriodPageHeader
        period={period}
        title="Topics"
        actions={
          <>
            <StatusBadge status={period.status} />
            {draft ? (
              <Link to="import" className="btn-secondary py-1">
                Import from CSV
              </Link>
            ) : null}
          </>
        }
      >
        <p className="mt-1 text-sm text-slate-600">
          {topics.length} topics, {places} places.{" "}
          {draft ? "Topics can be changed until the period opens." : "The period is no longer a draft, so topics are fixed."}
        </p>
      </PeriodPageHeader>
      <FormAlert message={actionData?.error} />

      <div className="card overflow-x-auto p-0">
        <table className="min-w-full divide-y divide-slate-200 text-sm">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">Title</th>
              <th scope="col" className="px-4 py-2 font-medium">Supervisor</th>
              <th scope="col" className="px-4 py-2 text-right font-medium">Capacity</th>
              {draft ? <th scope="col" className="px-4 py-2 font-medium"><span className="sr-only">Actions</span></th> : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {topics.length === 0 ? (
              <tr>
                <td colSpan={4} className="px-4 py-6 text-center text-slate-500">
                  No topics yet. Add one below or import a CSV file.
                </td>
              </tr>
            ) : null}
            {topics.map((topic) => (
              <tr key={topic.id} data-testid="topic-row">
                <td className="px-4 py-2">
                  <p className="font-medium">{topic.title}</p>
                  {topic.description ? <p className="line-clamp-2 text-slate-500">{topic.description}</p> : null}
                </td>
                <td className="px-4 py-2 text-slate-600">{topic.supervisor || "—"}</td>
                <td className="px-4 py-2 text-right tabular-nums">{topic.capacity}</td>
                {draft ? (
                  <td className="whitespace-nowrap px-4 py-2 text-right">
                    <Link to={topic.id} className="mr-3 text-indigo-700 underline">
                      Edit
                    </Link>
                    <Form method="post" className="inline">
                      <input type="hidden" name="topicId" value={topic.id} />
                      <button type="submit" name="intent" value="delete" className="text-red-700 underline">
                        Remove
                      </button>
                    </Form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {draft ? (
        <Form method="post" className="card max-w-2xl space-y-4" noValidate>
          <h2 className="text-lg font-semibold">Add a topic</h2>
          <Field label="Title" name="title" required error={errors.title} />
          <div className="grid gap-4 sm:grid-cols-[1fr_10rem]">
            <Field label="Supervisor" name="supervisor" error={errors.supervisor} />
            <Field label="Capacity" name="capacity" type="number" min={1} defaultValue={1} required error={errors.capacity} />
          </div>
          <TextArea label="Description" name="description" error={errors.description} />
          <button type="submit" name="intent" value="create" className="btn-primary" disabled={navigation.state !== "idle"}>
            Add topic
          </button>
        </Form>
      ) : null}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TextArea } from "~/components/admin/period-form";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field } from "~/components/field";
import { getDb } from "~/db.server";
import { TopicFormSchema } from "~/models/period-forms";
import { getTopic, updateTopic } from "~/models/period.server";
import { requireAdminPeriod, runPeriodCommand } from "~/utils/admin.server";
import { parseForm } from "~/utils/forms";
import { invariantResponse } from "~/utils/http";

export const meta: MetaFunction = () => [{ title: "Edit topic · TopicMatch" }];

async function requireTopic(periodId: string, topicId: string | undefined) {
  invariantResponse(topicId && /^[0-9a-f-]{36}$/i.test(topicId), "That topic does not exist in this period.", { status: 404 });
  const topic = await getTopic({ db: getDb(), periodId, topicId });
  invariantResponse(topic, "That topic does not exist in this period.", { status: 404 });
  return topic;
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const topic = await requireTopic(period.id, params.topicId);
  return { period: { id: period.id, title: period.title, status: period.status }, topic };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const topic = await requireTopic(period.id, params.topicId);
  const parsed = parseForm(TopicFormSchema, await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors, error: null }, { status: 400 });
  const result = await runPeriodCommand((tx) => updateTopic({ tx, periodId: period.id, topicId: topic.id, ...parsed.data }));
  if (!result.ok) return result.response;
  return redirect(`/admin/periods/${period.id}/topics`);
}

export default function EditTopicPage() {
  const { period, topic } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const errors: Record<string, string | undefined> = actionData?.errors ?? {};
  return (
    <section>
      <Link to={`/admin/periods/${period.id}/topics`} className="text-sm text-indigo-700 underline">
        ← Topics of {period.title}
      </Link>
      <h1 className="mt-2 text-2xl font-bold">Edit topic</h1>
      {actionData?.error ? (
        <p role="alert" className="mt-4 rounded bg-red-50 p-3 text-sm text-red-700">
          {actionData.error}
        </p>
      ) : null}
      <Form method="post" className="card mt-6 max-w-2xl space-y-4" noValidate>
        <Field label="Title" name="title" required defaultValue={topic.title} error={errors.title} />
        <div className="grid gap-4 sm:grid-cols-[1fr_10rem]">
          <Field label="Supervisor" name="supervisor" defaultValue={topic.supervisor} error={errors.supervisor} />
          <Field label="Capacity" name="capacity" type="number" min={1} required defaultValue={topic.capacity} error={errors.capacity} />
        </div>
        <TextArea label="Description" name="description" defaultValue={topic.description} error={errors.description} />
        <button type="submit" className="btn-primary" disabled={navigation.state !== "idle" || period.status !== "draft"}>
          Save topic
        </button>
      </Form>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

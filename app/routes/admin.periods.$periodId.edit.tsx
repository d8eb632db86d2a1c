import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { PeriodForm } from "~/components/admin/period-form";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { PeriodFormSchema } from "~/models/period-forms";
import { updatePeriod } from "~/models/period.server";
import { requireAdminPeriod, runPeriodCommand } from "~/utils/admin.server";
import { parseForm } from "~/utils/forms";

export const meta: MetaFunction = () => [{ title: "Edit selection period · TopicMatch" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  return { period };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const parsed = parseForm(PeriodFormSchema, await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors, error: null }, { status: 400 });
  const result = await runPeriodCommand((tx) => updatePeriod({ tx, periodId: period.id, ...parsed.data }));
  if (!result.ok) return result.response;
  return redirect(`/admin/periods/${period.id}`);
}

export default function EditPeriodPage() {
  const { period } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const editable = period.status === "draft" || period.status === "open";
  return (
    <section>
      <Link to={`/admin/periods/${period.id}`} className="text-sm text-indigo-700 underline">
        ← {period.title}
      </Link>
      <h1 className="mt-2 text-2xl font-bold">Edit selection period</h1>
      {actionData?.error ? (
        <p role="alert" className="mt-4 rounded bg-red-50 p-3 text-sm text-red-700">
          {actionData.error}
        </p>
      ) : null}
      {editable ? (
        <PeriodForm
          values={period}
          errors={actionData?.errors}
          submitLabel="Save changes"
          busy={navigation.state === "submitting"}
        />
      ) : (
        <p className="card mt-6 text-slate-600">A period that is {period.status} can no longer be edited.</p>
      )}
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useNavigation } from "@remix-run/react";
import { PeriodForm } from "~/components/admin/period-form";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb, withTransaction } from "~/db.server";
import { PeriodFormSchema } from "~/models/period-forms";
import { createPeriod } from "~/models/period.server";
import { requireAdmin } from "~/session.server";
import { parseForm } from "~/utils/forms";

export const meta: MetaFunction = () => [{ title: "New selection period · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request);
  return null;
}

export async function action({ request }: ActionFunctionArgs) {
  await requireAdmin(request);
  const parsed = parseForm(PeriodFormSchema, await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 });
  const period = await withTransaction(getDb(), (tx) => createPeriod({ tx, ...parsed.data }));
  return redirect(`/admin/periods/${period.id}`);
}

export default function NewPeriodPage() {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  return (
    <section>
      <Link to="/admin" className="text-sm text-indigo-700 underline">
        ← Selection periods
      </Link>
      <h1 className="mt-2 text-2xl font-bold">New selection period</h1>
      <p className="mt-1 text-slate-600">It starts as a draft: add topics, then open it.</p>
      <PeriodForm errors={actionData?.errors} submitLabel="Create period" busy={navigation.state === "submitting"} />
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

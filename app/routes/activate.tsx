import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { Field } from "~/components/field";
import { FormAlert } from "~/components/form-alert";
import { getDb, withTransaction } from "~/db.server";
import { normalizeSignInCode, redeemSignInCode } from "~/models/invitation.server";
import { createUserSession, getSessionUser } from "~/session.server";
import { emailField, newPasswordFields, withMatchingPasswords } from "~/utils/account-fields";
import { parseForm } from "~/utils/forms";

const ActivateSchema = withMatchingPasswords(
  z.object({
    email: emailField,
    code: z
      .string()
      .trim()
      .refine((code) => /^[A-Z0-9]{12}$/.test(normalizeSignInCode(code)), "Enter the 12-character code, e.g. ABCD-EFGH-JKMN"),
    ...newPasswordFields,
  }),
);

export const meta: MetaFunction = () => [{ title: "Set your password · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getSessionUser(request);
  if (user) throw redirect("/");
  return null;
}

export async function action({ request }: ActionFunctionArgs) {
  const parsed = parseForm(ActivateSchema, await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 });
  const redeemed = await withTransaction(getDb(), (tx) => redeemSignInCode({ tx, ...parsed.data }));
  if (!redeemed) {
    return data(
      { errors: { form: "That email and code do not match an unused code. Ask your administrator for a new one." } },
      { status: 400 },
    );
  }
  return createUserSession({ userId: redeemed.userId, redirectTo: "/student" });
}

export default function ActivatePage() {
  const actionData = useActionData<typeof action>();
  const errors: Record<string, string | undefined> = actionData?.errors ?? {};
  const navigation = useNavigation();
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="text-2xl font-bold">Set your password</h1>
      <p className="mt-1 text-sm text-slate-600">Use the one-time code you received from your administrator.</p>
      <Form method="post" className="card mt-6 space-y-4" noValidate>
        <FormAlert message={errors.form} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
        <Field label="One-time code" name="code" autoComplete="one-time-code" required error={errors.code} />
        <Field label="New password" name="password" type="password" autoComplete="new-password" required error={errors.password} />
        <Field
          label="Repeat the password"
          name="confirmPassword"
          type="password"
          autoComplete="new-password"
          required
          error={errors.confirmPassword}
        />
        <button type="submit" className="btn-primary w-full" disabled={navigation.state !== "idle"}>
          Set password and sign in
        </button>
      </Form>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

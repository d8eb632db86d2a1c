import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { Field } from "~/components/field";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { getDb, withTransaction } from "~/db.server";
import { getEnv } from "~/env.server";
import { createUser, DuplicateEmailError } from "~/models/user.server";
import { createUserSession, getSessionUser } from "~/session.server";
import { emailField, newPasswordFields, withMatchingPasswords } from "~/utils/account-fields";
import { parseForm } from "~/utils/forms";

export function registrationSchema(allowedDomain: string | undefined) {
  return withMatchingPasswords(
    z.object({
      name: z.string().trim().min(2, "Enter your full name").max(120, "Use at most 120 characters"),
      email: emailField.refine(
        (email) => !allowedDomain || email.toLowerCase().endsWith(`@${allowedDomain.toLowerCase()}`),
        `Use your @${allowedDomain} address`,
      ),
      ...newPasswordFields,
    }),
  );
}

export const meta: MetaFunction = () => [{ title: "Register · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getSessionUser(request);
  if (user) throw redirect("/");
  return { allowedDomain: getEnv().ALLOWED_EMAIL_DOMAIN ?? null };
}

export async function action({ request }: ActionFunctionArgs) {
  const parsed = parseForm(registrationSchema(getEnv().ALLOWED_EMAIL_DOMAIN), await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 });
  const { name, email, password } = parsed.data;
  try {
    const user = await withTransaction(getDb(), (tx) =>
      createUser({ tx, email, name, password, role: "student", via: "self" }),
    );
    return createUserSession({ userId: user.id, redirectTo: "/student" });
  } catch (error) {
    if (error instanceof DuplicateEmailError) {
      return data({ errors: { email: "An account with this email already exists. Sign in instead." } }, { status: 409 });
    }
    throw error;
  }
}

export default function RegisterPage() {
  const { allowedDomain } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const errors: Record<string, string | undefined> = actionData?.errors ?? {};
  const navigation = useNavigation();
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="text-2xl font-bold">Register as a student</h1>
      {allowedDomain ? <p className="mt-2 text-sm text-slate-600">Use your @{allowedDomain} address.</p> : null}
      <Form method="post" className="card mt-6 space-y-4" noValidate>
        <Field label="Full name" name="name" autoComplete="name" required error={errors.name} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
        <Field
          label="Password (at least 10 characters)"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          error={errors.password}
        />
        <Field
          label="Repeat the password"
          name="confirmPassword"
          type="password"
          autoComplete="new-password"
          required
          error={errors.confirmPassword}
        />
        <button type="submit" className="btn-primary w-full" disabled={navigation.state === "submitting"}>
          {navigation.state === "submitting" ? "Creating your account…" : "Create account"}
        </button>
      </Form>
      <p className="mt-4 text-sm text-slate-600">
        Already registered?{" "}
        <Link to="/login" className="font-medium text-indigo-700 underline">
          Sign in
        </Link>
      </p>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

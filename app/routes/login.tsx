import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { Field } from "~/components/field";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { FormAlert } from "~/components/form-alert";
import { getDb } from "~/db.server";
import { verifyLogin } from "~/models/user.server";
import { createUserSession, getSessionUser } from "~/session.server";
import { emailField } from "~/utils/account-fields";
import { parseForm } from "~/utils/forms";
import { safeRedirectTarget } from "~/utils/http";
import { clientAddress } from "~/utils/request.server";

const LoginSchema = z.object({
  email: emailField,
  password: z.string().min(1, "Enter your password"),
  redirectTo: z.string().optional(),
});

export const meta: MetaFunction = () => [{ title: "Sign in · TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getSessionUser(request);
  if (user) throw redirect(user.role === "admin" ? "/admin" : "/student");
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const parsed = parseForm(LoginSchema, await request.formData());
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 });
  const { email, password, redirectTo } = parsed.data;
  const result = await verifyLogin({ db: getDb(), email, password, clientAddress: clientAddress(context) });
  if (!result.ok && result.reason === "rate-limited") {
    return data(
      { errors: { form: "Too many failed sign-ins. Wait 15 minutes and try again." } },
      { status: 429, headers: { "Retry-After": String(result.retryAfterSeconds) } },
    );
  }
  if (!result.ok) {
    return data({ errors: { form: "That email and password do not match an account." } }, { status: 401 });
  }
  const home = result.user.role === "admin" ? "/admin" : "/student";
  return createUserSession({ userId: result.user.id, redirectTo: safeRedirectTarget(redirectTo, home) });
}

export default function LoginPage() {
  const actionData = useActionData<typeof action>();
  const errors: Record<string, string | undefined> = actionData?.errors ?? {};
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="text-2xl font-bold">Sign in</h1>
      <Form method="post" className="card mt-6 space-y-4" noValidate>
        <input type="hidden" name="redirectTo" value={searchParams.get("redirectTo") ?? ""} />
        <FormAlert message={errors.form} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={errors.password}
        />
        <button type="submit" className="btn-primary w-full" disabled={navigation.state === "submitting"}>
          {navigation.state === "submitting" ? "Signing in…" : "Sign in"}
        </button>
      </Form>
      <p className="mt-4 text-sm text-slate-600">
        No account yet?{" "}
        <Link to="/register" className="font-medium text-indigo-700 underline">
          Register as a student
        </Link>
      </p>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}

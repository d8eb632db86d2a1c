import { Form } from "@remix-run/react";
import { Field } from "~/components/field";
import { toUtcInputValue } from "~/models/period-forms";

type Values = { title?: string; description?: string; opensAt?: string | Date | null; closesAt?: string | Date | null };

/** The create/edit form of a selection period, with the server's field errors. */
export function PeriodForm({
  values = {},
  errors = {},
  submitLabel,
  busy,
}: {
  values?: Values;
  errors?: Record<string, string | undefined>;
  submitLabel: string;
  busy: boolean;
}) {
  return (
    <Form method="post" className="card mt-6 max-w-2xl space-y-4" noValidate>
      <Field label="Title" name="title" required defaultValue={values.title} error={errors.title} />
      <TextArea label="Description" name="description" defaultValue={values.description} error={errors.description} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field
          label="Opens at (UTC, optional)"
          name="opensAt"
          type="datetime-local"
          defaultValue={toUtcInputValue(values.opensAt)}
          error={errors.opensAt}
        />
        <Field
          label="Closes at (UTC, optional; closes automatically)"
          name="closesAt"
          type="datetime-local"
          defaultValue={toUtcInputValue(values.closesAt)}
          error={errors.closesAt}
        />
      </div>
      <button type="submit" className="btn-primary" disabled={busy}>
        {busy ? "Saving…" : submitLabel}
      </button>
    </Form>
  );
}

/** A labelled textarea with its error, like Field. */
export function TextArea({
  label,
  error,
  ...props
}: { label: string; error?: string } & React.TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = `textarea-${props.name}`;
  return (
    <div>
      <label htmlFor={id} className="label">
        {label}
      </label>
      <textarea
        id={id}
        rows={3}
        className="input"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        {...props}
      />
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

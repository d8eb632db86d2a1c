import { z } from "zod";

const optionalTime = (label: string) =>
  z
    .string()
    .trim()
    .transform((value, context) => {
      if (value === "") return null;
      // datetime-local fields carry no zone; the form labels them as UTC.
      const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
      if (Number.isNaN(date.getTime())) {
        context.addIssue({ code: "custom", message: `Enter a valid ${label} time.` });
        return z.NEVER;
      }
      return date;
    });

/** The create/edit form of a selection period. */
export const PeriodFormSchema = z
  .object({
    title: z.string().trim().min(3, "Use at least 3 characters.").max(200, "Use at most 200 characters."),
    description: z.string().trim().max(5_000, "Use at most 5000 characters.").default(""),
    opensAt: optionalTime("opening").default(null),
    closesAt: optionalTime("closing").default(null),
  })
  .refine((form) => !form.opensAt || !form.closesAt || form.opensAt < form.closesAt, {
    path: ["closesAt"],
    message: "The period must close after it opens.",
  });

/** The add/edit form of one topic. */
export const TopicFormSchema = z.object({
  title: z.string().trim().min(1, "Enter a title.").max(200, "Use at most 200 characters."),
  supervisor: z.string().trim().max(200, "Use at most 200 characters.").default(""),
  description: z.string().trim().max(5_000, "Use at most 5000 characters.").default(""),
  capacity: z.coerce
    .number("Enter a number.")
    .int("Enter a whole number.")
    .min(1, "The capacity must be at least 1.")
    .max(10_000, "The capacity must be at most 10000."),
});

/** The value a datetime-local input shows for a stored time (in UTC, like the label says). */
export function toUtcInputValue(value: string | Date | null | undefined): string {
  if (!value) return "";
  return new Date(value).toISOString().slice(0, 16);
}

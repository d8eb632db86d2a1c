import { z } from "zod";

/** The fields that sign-in, registration and activation share, so their messages stay the same. */
export const emailField = z.string().trim().min(1, "Enter your email address").pipe(z.email("Enter a valid email address"));

export const newPasswordFields = {
  password: z.string().min(10, "Use at least 10 characters").max(200, "Use at most 200 characters"),
  confirmPassword: z.string(),
};

/** A form with newPasswordFields whose two passwords must be equal (the error shows on the confirmation). */
export function withMatchingPasswords<S extends z.ZodType<{ password: string; confirmPassword: string }>>(schema: S) {
  return schema.refine((form) => form.password === form.confirmPassword, {
    path: ["confirmPassword"],
    message: "The passwords do not match",
  });
}

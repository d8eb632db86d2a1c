/** A whole-form or page-level failure, announced to assistive technology; nothing when there is none. */
export function FormAlert({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-700">
      {message}
    </p>
  );
}

/** Throws a Response with `message` and `status` when `condition` is false: for expected failures (STYLE habit 4). */
export function invariantResponse(
  condition: unknown,
  message: string,
  init: { status?: number; headers?: HeadersInit } = {},
): asserts condition {
  if (!condition) {
    throw new Response(message, {
      status: init.status ?? 400,
      headers: { "Content-Type": "text/plain; charset=utf-8", ...init.headers },
    });
  }
}

/** A JSON problem response for fetch-based endpoints. */
export function problem(status: number, message: string, extra: Record<string, unknown> = {}): Response {
  return Response.json({ error: message, ...extra }, { status });
}

export function safeRedirectTarget(target: FormDataEntryValue | string | null | undefined, fallback = "/"): string {
  if (typeof target !== "string" || !target.startsWith("/") || target.startsWith("//")) return fallback;
  return target;
}

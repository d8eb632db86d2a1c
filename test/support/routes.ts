import { createUserSession } from "~/session.server";

export const BASE = "http://localhost";

/** A cookie for a fresh session of the user, as the login action would set it. */
export async function sessionCookie(userId: string): Promise<string> {
  const response = await createUserSession({ userId, redirectTo: "/" });
  return response.headers.get("Set-Cookie")!.split(";")[0];
}

export function getRequest(path: string, cookie?: string): Request {
  return new Request(`${BASE}${path}`, { headers: cookie ? { Cookie: cookie } : {} });
}

export function postRequest(path: string, fields: Record<string, string> | FormData, cookie?: string): Request {
  const body = fields instanceof FormData ? fields : new URLSearchParams(fields);
  return new Request(`${BASE}${path}`, { method: "POST", body, headers: cookie ? { Cookie: cookie } : {} });
}

/** Runs a loader or action and returns the Response it returned or threw, wrapping plain data as JSON. */
export async function respond(run: () => Promise<unknown>): Promise<Response> {
  try {
    const result = await run();
    if (result instanceof Response) return result;
    const wrapped = result as { type?: string; data?: unknown; init?: ResponseInit };
    if (wrapped?.type === "DataWithResponseInit") return Response.json(wrapped.data, wrapped.init ?? {});
    return Response.json(result);
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

export type RouteHandler = (args: { request: Request; params: Record<string, string>; context: object }) => Promise<unknown>;

/** Calls a loader or action as Remix would, from a fixed documentation address, and returns its Response. */
export function callRoute(handler: RouteHandler, request: Request, params: Record<string, string> = {}): Promise<Response> {
  return respond(() => handler({ request, params, context: { clientAddress: "203.0.113.9" } }));
}

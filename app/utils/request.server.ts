import type { AppLoadContext } from "@remix-run/node";

declare module "@remix-run/node" {
  interface AppLoadContext {
    /** The socket's remote address, set by server.ts (trusting proxies only when TRUST_PROXY is set). */
    clientAddress?: string;
  }
}

/** The client's address for rate limiting. */
export function clientAddress(context: AppLoadContext): string {
  return context.clientAddress ?? "unknown";
}

import { TEST_PASSWORD } from "./factories";

/** Signs in through the real login form over HTTP and returns the session cookie. */
export async function signInOverHttp(baseUrl: string, email: string, password = TEST_PASSWORD): Promise<string> {
  const response = await fetch(`${baseUrl}/login`, {
    method: "POST",
    body: new URLSearchParams({ email, password }),
    redirect: "manual",
  });
  const cookie = response.headers.get("set-cookie");
  if (response.status !== 302 || !cookie) throw new Error(`sign-in as ${email} failed with ${response.status}`);
  return cookie.split(";")[0];
}

export type ServerSentEvent = { event: string; data: string; at: number };

/**
 * A Server-Sent Events client over fetch that keeps every event and comment
 * it receives, so a test can wait for one that matches.
 */
export async function openEventStream(url: string, cookie?: string) {
  const controller = new AbortController();
  const response = await fetch(url, { headers: cookie ? { cookie, accept: "text/event-stream" } : {}, signal: controller.signal });
  const received: ServerSentEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  if (response.ok && response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let boundary: number;
          while ((boundary = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            let event = "message";
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) comments.push(line.slice(1).trim());
              else if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
            }
            if (data.length > 0) received.push({ event, data: data.join("\n"), at: Date.now() });
            for (const wake of waiters) wake();
          }
        }
      } catch {
        // Aborted by close().
      } finally {
        ended = true;
        for (const wake of waiters) wake();
      }
    })();
  }
  return {
    response,
    received,
    comments,
    get ended() {
      return ended;
    },
    /** Resolves with the first event after index `from` that satisfies `match`. */
    async waitFor(match: (event: ServerSentEvent) => boolean, { from = 0, timeoutMs = 10_000 } = {}): Promise<ServerSentEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.slice(from).find(match);
        if (found) return found;
        if (ended) throw new Error("the stream ended before a matching event arrived");
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error("no matching event arrived in time");
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, remaining);
          waiters.add(wake);
        });
      }
    },
    close() {
      controller.abort();
    },
  };
}

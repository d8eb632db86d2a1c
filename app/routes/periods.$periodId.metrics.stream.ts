import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { getDb } from "~/db.server";
import type { TopicMetricsView } from "~/models/metrics";
import { watchPeriodMetrics } from "~/models/metrics-live.server";
import { getPeriodForMetrics, getPeriodMetrics } from "~/models/metrics.server";
import { getSessionUser } from "~/session.server";
import { invariantResponse } from "~/utils/http";

const ParamsSchema = z.object({ periodId: z.uuid() });

/** Comments keep proxies and the browser from closing an idle stream. */
const HEARTBEAT_MS = 10_000;

function metricsMessage(topics: TopicMetricsView[]): string {
  return `event: metrics\ndata: ${JSON.stringify({ topics })}\n\n`;
}

/**
 * Server-Sent Events: the period's metrics at once, then again after every
 * recompute of one of its topics. Each (re)connection starts with the current
 * values, so a client that lost its connection is up to date on reconnect.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  // An EventSource cannot follow a redirect to the sign-in page; answer plainly.
  const user = await getSessionUser(request);
  invariantResponse(user, "Sign in to watch live metrics.", { status: 401 });
  const parsed = ParamsSchema.safeParse(params);
  invariantResponse(parsed.success, "No such selection period.", { status: 404 });
  const db = getDb();
  const period = await getPeriodForMetrics({ db, periodId: parsed.data.periodId, viewer: user });
  invariantResponse(period, "No such selection period.", { status: 404 });
  const initial = await getPeriodMetrics({ db, periodId: period.id });

  const encoder = new TextEncoder();
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      const unwatch = watchPeriodMetrics(period.id, (topics) => send(metricsMessage(topics)));
      const heartbeat = setInterval(() => send(": heartbeat\n\n"), HEARTBEAT_MS);
      stop = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unwatch();
        request.signal.removeEventListener("abort", stop);
        try {
          controller.close();
        } catch {
          // Already closed by the runtime after the client went away.
        }
      };
      request.signal.addEventListener("abort", stop);
      send("retry: 2000\n\n");
      send(metricsMessage(initial));
    },
    cancel() {
      stop();
    },
  });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
}

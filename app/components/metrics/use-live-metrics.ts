import { useEffect, useState } from "react";
import type { TopicMetricsView } from "~/models/metrics";

/** Longest wait before reconnecting after the server refused or ended the stream. */
const MAX_RETRY_MS = 30_000;

/**
 * The period's metrics, kept current over Server-Sent Events. Every
 * (re)connection begins with a full snapshot, so values missed while the
 * connection was down are caught up. EventSource retries dropped connections
 * by itself; when it gives up (the server answered with an error status)
 * this hook opens a new one with growing delays.
 */
export function useLiveMetrics(periodId: string, initial: TopicMetricsView[]): { metrics: TopicMetricsView[]; connected: boolean } {
  const [metrics, setMetrics] = useState(initial);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    setMetrics(initial);
  }, [initial]);

  useEffect(() => {
    let source: EventSource | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let disposed = false;

    const open = () => {
      source = new EventSource(`/periods/${periodId}/metrics/stream`);
      source.onopen = () => {
        failures = 0;
        setConnected(true);
      };
      source.addEventListener("metrics", (event) => {
        const { topics } = JSON.parse((event as MessageEvent<string>).data) as { topics: TopicMetricsView[] };
        setMetrics(topics);
      });
      source.onerror = () => {
        setConnected(false);
        if (source?.readyState !== EventSource.CLOSED || disposed) return;
        failures += 1;
        retryTimer = setTimeout(open, Math.min(MAX_RETRY_MS, 1_000 * 2 ** failures));
      };
    };
    open();
    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      source?.close();
    };
  }, [periodId]);

  return { metrics, connected };
}

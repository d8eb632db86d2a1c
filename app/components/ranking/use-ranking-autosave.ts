import { useCallback, useEffect, useRef, useState } from "react";
import { diffOrders, type RankingUpdate } from "~/models/ranking";

export const AUTOSAVE_DELAY_MS = 500;
const FIRST_RETRY_MS = 3_000;
const MAX_RETRY_MS = 30_000;

export type SaveStatus = "saved" | "unsaved" | "saving" | "failed";

type Batch =
  | { kind: "save"; batchId: string; baseVersion: number; updates: RankingUpdate[] }
  | { kind: "undo"; batchId: string; baseVersion: number };

type ServerRanking = { order: string[]; version: number };

type BatchResponse =
  | ({ ok: true; changes: unknown[]; affectedTopicIds: string[]; replayed: boolean } & ServerRanking)
  | { ok?: undefined; error: string; code?: string; current?: ServerRanking };

function sameOrder(a: readonly string[], b: readonly string[]) {
  return a.length === b.length && a.every((topicId, index) => topicId === b[index]);
}

/**
 * Unsaved orders also go to localStorage, so closing the tab or a crash while
 * offline loses nothing: the next page load resends them, but only when the
 * saved ranking is still the version they were made against (otherwise the
 * server already has them, or another tab has moved on).
 */
type StoredDraft = { baseVersion: number; order: string[] };
const draftKey = (periodId: string) => `topicmatch:ranking-draft:${periodId}`;

function storeDraft(periodId: string, draft: StoredDraft | null) {
  try {
    if (draft) localStorage.setItem(draftKey(periodId), JSON.stringify(draft));
    else localStorage.removeItem(draftKey(periodId));
  } catch {
    // Storage may be full or disabled; the draft then lives in memory only.
  }
}

function loadDraft(periodId: string): StoredDraft | null {
  try {
    const draft = JSON.parse(localStorage.getItem(draftKey(periodId)) ?? "null") as StoredDraft | null;
    return draft && Array.isArray(draft.order) && typeof draft.baseVersion === "number" ? draft : null;
  } catch {
    return null;
  }
}

/**
 * The page's copy of the student's ranking and its autosave. Changes show at
 * once; changes within AUTOSAVE_DELAY_MS go to the server as one batch. A batch
 * that fails is kept and resent with the same batch id (the server applies it
 * once), automatically with backoff and on demand. A conflict with another tab
 * adopts the server's order.
 */
export function useRankingAutosave({
  endpoint,
  periodId,
  initial,
  initialUndoable,
}: {
  endpoint: string;
  periodId: string;
  initial: ServerRanking;
  initialUndoable: number;
}) {
  const [order, setOrder] = useState(initial.order);
  const [status, setStatus] = useState<SaveStatus>("saved");
  const [failure, setFailure] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [closed, setClosed] = useState(false);
  const [undoable, setUndoable] = useState(initialUndoable);
  const [undoing, setUndoing] = useState(false);

  const saved = useRef<ServerRanking>(initial);
  const latest = useRef(initial.order);
  const pending = useRef<Batch | null>(null);
  const sending = useRef(false);
  const debounce = useRef<ReturnType<typeof setTimeout>>(undefined);
  const retryTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const retryDelay = useRef(FIRST_RETRY_MS);

  const adopt = useCallback((ranking: ServerRanking) => {
    saved.current = ranking;
    latest.current = ranking.order;
    setOrder(ranking.order);
  }, []);

  const flush = useCallback(async (): Promise<void> => {
    clearTimeout(debounce.current);
    clearTimeout(retryTimer.current);
    if (sending.current) return;
    if (!pending.current) {
      const updates = diffOrders(saved.current.order, latest.current);
      if (updates.length === 0) {
        setStatus("saved");
        return;
      }
      pending.current = { kind: "save", batchId: crypto.randomUUID(), baseVersion: saved.current.version, updates };
    }
    const batch = pending.current;
    sending.current = true;
    setStatus("saving");
    let outcome: "done" | "retry" | "rejected";
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        // A signed-out student would be redirected to the login page; seeing
        // the redirect instead of following it keeps the batch for a retry.
        redirect: "manual",
        body: JSON.stringify(
          batch.kind === "save"
            ? { periodId, batchId: batch.batchId, expectedVersion: batch.baseVersion, updates: batch.updates }
            : { intent: "undo", periodId, batchId: batch.batchId, expectedVersion: batch.baseVersion },
        ),
      });
      const body = response.type === "opaqueredirect" ? null : ((await response.json().catch(() => null)) as BatchResponse | null);
      if (response.ok && body?.ok) {
        pending.current = null;
        saved.current = { order: body.order, version: body.version };
        if (batch.kind === "undo") {
          latest.current = body.order;
          setOrder(body.order);
          setUndoable((count) => Math.max(0, count - 1));
        } else if (body.changes.length > 0) {
          setUndoable((count) => count + 1);
        }
        setFailure(null);
        outcome = "done";
      } else if (body && !body.ok && body.code === "stale-version" && body.current) {
        pending.current = null;
        adopt(body.current);
        setConflict(body.error);
        setFailure(null);
        outcome = "done";
      } else if (body && !body.ok && response.status >= 400 && response.status < 500 && response.status !== 429) {
        // The server refused the batch for good: resending it cannot help, so
        // the page goes back to what is saved and says why.
        pending.current = null;
        latest.current = saved.current.order;
        setOrder(saved.current.order);
        if (body.code === "period-not-open") setClosed(true);
        setFailure(body.error);
        outcome = "rejected";
      } else {
        setFailure(
          response.type === "opaqueredirect"
            ? "You were signed out. Sign in again in another tab, then retry."
            : `The server could not save (${response.status}).`,
        );
        outcome = "retry";
      }
    } catch {
      setFailure("The network connection failed.");
      outcome = "retry";
    }
    sending.current = false;
    if (batch.kind === "undo" && outcome !== "retry") setUndoing(false);
    if (outcome === "retry") {
      setStatus("failed");
      retryTimer.current = setTimeout(() => void flush(), retryDelay.current);
      retryDelay.current = Math.min(retryDelay.current * 2, MAX_RETRY_MS);
      return;
    }
    retryDelay.current = FIRST_RETRY_MS;
    if (outcome === "rejected") {
      storeDraft(periodId, null);
      setStatus("failed");
      return;
    }
    if (!sameOrder(latest.current, saved.current.order)) return flush();
    storeDraft(periodId, null);
    setStatus("saved");
  }, [adopt, endpoint, periodId]);

  const change = useCallback(
    (next: string[]) => {
      latest.current = next;
      setOrder(next);
      storeDraft(periodId, { baseVersion: saved.current.version, order: next });
      setConflict(null);
      setStatus((current) => (current === "failed" || current === "saving" ? current : "unsaved"));
      clearTimeout(debounce.current);
      debounce.current = setTimeout(() => void flush(), AUTOSAVE_DELAY_MS);
    },
    [flush, periodId],
  );

  useEffect(() => {
    const draft = loadDraft(periodId);
    if (!draft) return;
    if (draft.baseVersion === saved.current.version && !sameOrder(draft.order, saved.current.order)) change(draft.order);
    else storeDraft(periodId, null);
    // Once, on the first render: later drafts are this page's own.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const undo = useCallback(() => {
    if (pending.current || sending.current || !sameOrder(latest.current, saved.current.order)) return;
    pending.current = { kind: "undo", batchId: crypto.randomUUID(), baseVersion: saved.current.version };
    setUndoing(true);
    setConflict(null);
    void flush();
  }, [flush]);

  const retry = useCallback(() => {
    retryDelay.current = FIRST_RETRY_MS;
    void flush();
  }, [flush]);

  const unsaved = status !== "saved" && !(status === "failed" && pending.current === null);
  useEffect(() => {
    if (!unsaved) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older browsers show the prompt only when returnValue is set.
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [unsaved]);

  useEffect(() => {
    const resend = () => {
      if (pending.current) retry();
    };
    window.addEventListener("online", resend);
    return () => window.removeEventListener("online", resend);
  }, [retry]);

  useEffect(
    () => () => {
      clearTimeout(debounce.current);
      clearTimeout(retryTimer.current);
    },
    [],
  );

  return { order, status, failure, conflict, closed, undoable, undoing, unsaved, change, retry, undo };
}

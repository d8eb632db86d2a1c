import type { SaveStatus } from "./use-ranking-autosave";

const LABELS: Record<SaveStatus, string> = {
  saved: "Saved",
  unsaved: "Unsaved changes",
  saving: "Saving…",
  failed: "Failed",
};

const STYLES: Record<SaveStatus, string> = {
  saved: "bg-green-100 text-green-800",
  unsaved: "bg-slate-100 text-slate-700",
  saving: "bg-amber-100 text-amber-800",
  failed: "bg-red-100 text-red-800",
};

/** Where the student's changes are: the one place the page says whether they reached the server. */
export function SaveStatusIndicator({
  status,
  failure,
  canRetry,
  onRetry,
}: {
  status: SaveStatus;
  failure: string | null;
  canRetry: boolean;
  onRetry: () => void;
}) {
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="save-status" data-status={status}>
      <span role="status" className={`rounded-full px-2.5 py-0.5 text-sm font-semibold ${STYLES[status]}`}>
        {LABELS[status]}
      </span>
      {status === "failed" && failure ? <span className="text-sm text-red-700">{failure}</span> : null}
      {status === "failed" && canRetry ? (
        <button type="button" className="btn-secondary py-1" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

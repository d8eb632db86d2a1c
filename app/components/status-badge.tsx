const STYLES: Record<string, string> = {
  draft: "bg-slate-100 text-slate-700",
  open: "bg-green-100 text-green-800",
  closed: "bg-amber-100 text-amber-800",
  assigned: "bg-blue-100 text-blue-800",
  published: "bg-indigo-100 text-indigo-800",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ${STYLES[status] ?? STYLES.draft}`}>
      {status}
    </span>
  );
}

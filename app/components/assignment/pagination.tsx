import { Link } from "@remix-run/react";

/** Previous/next links for a server-side paginated table; absent links are shown as plain text, not disabled links. */
export function Pagination({ page, pages, toPage, label }: { page: number; pages: number; toPage: (page: number) => string; label: string }) {
  if (pages <= 1) return null;
  return (
    <nav aria-label={label} className="flex items-center justify-between gap-3 px-4 py-3 text-sm">
      {page > 1 ? (
        <Link to={toPage(page - 1)} preventScrollReset className="font-medium text-indigo-700 underline" rel="prev">
          ← Previous page
        </Link>
      ) : (
        <span className="text-slate-400">← Previous page</span>
      )}
      <span className="text-slate-600">
        Page {page} of {pages}
      </span>
      {page < pages ? (
        <Link to={toPage(page + 1)} preventScrollReset className="font-medium text-indigo-700 underline" rel="next">
          Next page →
        </Link>
      ) : (
        <span className="text-slate-400">Next page →</span>
      )}
    </nav>
  );
}

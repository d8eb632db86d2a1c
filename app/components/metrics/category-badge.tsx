import { CATEGORY_LABELS, type CompetitionCategory } from "~/models/metrics";

const STYLES: Record<CompetitionCategory, string> = {
  "very-high": "bg-red-100 text-red-800 ring-red-200",
  high: "bg-orange-100 text-orange-800 ring-orange-200",
  medium: "bg-yellow-100 text-yellow-800 ring-yellow-200",
  low: "bg-green-100 text-green-800 ring-green-200",
};

export function CategoryBadge({ category }: { category: CompetitionCategory | null }) {
  if (!category) {
    return (
      <span className="inline-flex rounded-full bg-slate-100 px-2 py-0.5 text-xs font-semibold text-slate-600 ring-1 ring-slate-200" data-testid="category-badge">
        Not ranked yet
      </span>
    );
  }
  return (
    <span
      className={`inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ${STYLES[category]}`}
      data-testid="category-badge"
      data-category={category}
    >
      {CATEGORY_LABELS[category]}
    </span>
  );
}

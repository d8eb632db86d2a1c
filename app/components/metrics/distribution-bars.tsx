import { DISTRIBUTION_POSITIONS } from "~/models/metrics";

/** How many students placed the topic at positions 1..10, one bar each, scaled to the tallest. */
export function DistributionBars({
  distribution,
  label = "Students by position",
  compact = false,
}: {
  distribution: number[];
  label?: string;
  compact?: boolean;
}) {
  const counts = Array.from({ length: DISTRIBUTION_POSITIONS }, (_, index) => distribution[index] ?? 0);
  const tallest = Math.max(1, ...counts);
  const summary = counts.map((count, index) => `position ${index + 1}: ${count}`).join(", ");
  return (
    <figure className="space-y-1" data-testid="distribution">
      <figcaption className="text-xs text-slate-500">{label}</figcaption>
      <div className={`flex items-end gap-0.5 ${compact ? "h-6" : "h-12"}`} role="img" aria-label={`${label}: ${summary}`}>
        {counts.map((count, index) => (
          <div
            key={index}
            className="flex-1 rounded-t bg-indigo-400"
            style={{ height: `${Math.max(count > 0 ? 8 : 2, (100 * count) / tallest)}%`, opacity: count > 0 ? 1 : 0.25 }}
            title={`Position ${index + 1}: ${count} student${count === 1 ? "" : "s"}`}
            data-count={count}
          />
        ))}
      </div>
      <div className="flex gap-0.5 text-center text-[10px] tabular-nums text-slate-500" aria-hidden>
        {counts.map((_, index) => (
          <span key={index} className="flex-1">
            {index + 1}
          </span>
        ))}
      </div>
    </figure>
  );
}

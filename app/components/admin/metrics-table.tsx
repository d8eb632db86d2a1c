import { useMemo, useState } from "react";
import { CategoryBadge } from "~/components/metrics/category-badge";
import { METRIC_COLUMNS, pageOf, sortMetricRows, type MetricColumn, type SortDirection } from "~/models/dashboard-table";
import type { TopicMetricsView } from "~/models/metrics";

const PAGE_SIZE = 25;
const NUMERIC = new Set<MetricColumn>(["capacity", "studentCount", "averagePosition", "standardDeviation", "percentile", "demandRatio"]);

const fixed = (value: number | null, digits: number) => (value === null ? "–" : value.toFixed(digits));

/** Ten tiny bars for positions 1..10, scaled to the row's tallest. */
function MiniDistribution({ distribution }: { distribution: number[] }) {
  const tallest = Math.max(1, ...distribution);
  return (
    <div className="flex h-5 w-24 items-end gap-px" aria-hidden>
      {distribution.slice(0, 10).map((count, index) => (
        <div
          key={index}
          className={count > 0 ? "flex-1 bg-indigo-500" : "flex-1 bg-slate-200"}
          style={{ height: `${count > 0 ? Math.max(15, (100 * count) / tallest) : 8}%` }}
        />
      ))}
    </div>
  );
}

function cell(view: TopicMetricsView, column: MetricColumn) {
  switch (column) {
    case "title":
      return <span className="font-medium">{view.title}</span>;
    case "averagePosition":
      return fixed(view.averagePosition, 2);
    case "standardDeviation":
      return fixed(view.standardDeviation, 2);
    case "percentile":
      return view.percentile === null ? "–" : `${Math.round(view.percentile)}%`;
    case "demandRatio":
      return view.demandRatio.toFixed(2);
    case "competitionCategory":
      return <CategoryBadge category={view.competitionCategory} />;
    case "lastCalculated":
      return view.isStale ? (
        <span className="italic text-slate-500">updating…</span>
      ) : view.lastCalculated ? (
        new Date(view.lastCalculated).toLocaleTimeString("en-GB", { timeZone: "UTC" })
      ) : (
        "–"
      );
    default:
      return view[column];
  }
}

/**
 * Every topic's metrics: sortable by any column, filterable by title, and
 * paged so several hundred topics stay readable on a laptop screen.
 */
export function MetricsTable({
  metrics,
  selectedTopicId,
  onSelect,
}: {
  metrics: TopicMetricsView[];
  selectedTopicId: string | null;
  onSelect: (topicId: string) => void;
}) {
  const [sort, setSort] = useState<{ column: MetricColumn; direction: SortDirection }>({
    column: "averagePosition",
    direction: "asc",
  });
  const [page, setPage] = useState(1);
  const [filter, setFilter] = useState("");
  const visible = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const matching = needle ? metrics.filter((view) => view.title.toLowerCase().includes(needle)) : metrics;
    return sortMetricRows(matching, sort.column, sort.direction);
  }, [metrics, filter, sort]);
  const current = pageOf(visible, page, PAGE_SIZE);

  const toggle = (column: MetricColumn) => {
    setSort((previous) =>
      previous.column === column
        ? { column, direction: previous.direction === "asc" ? "desc" : "asc" }
        : { column, direction: NUMERIC.has(column) && column !== "averagePosition" ? "desc" : "asc" },
    );
    setPage(1);
  };

  return (
    <div className="card p-0">
      <div className="flex flex-wrap items-center gap-3 border-b border-slate-200 px-4 py-3">
        <h2 className="mr-auto text-lg font-semibold">All topics</h2>
        <label className="flex items-center gap-2 text-sm">
          <span>Filter</span>
          <input
            type="search"
            className="input w-56 py-1"
            placeholder="Topic title"
            value={filter}
            onChange={(event) => {
              setFilter(event.target.value);
              setPage(1);
            }}
          />
        </label>
      </div>
      <div className="overflow-x-auto">
        <table className="min-w-full text-sm" data-testid="metrics-table">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr>
              {METRIC_COLUMNS.map((column) => {
                const active = sort.column === column.key;
                return (
                  <th
                    key={column.key}
                    scope="col"
                    className={`px-3 py-2 font-medium ${NUMERIC.has(column.key) ? "text-right" : ""}`}
                    aria-sort={active ? (sort.direction === "asc" ? "ascending" : "descending") : "none"}
                  >
                    <button type="button" className="inline-flex items-center gap-1 hover:text-indigo-700" onClick={() => toggle(column.key)}>
                      {column.label}
                      <span aria-hidden className={active ? "text-indigo-700" : "text-slate-300"}>
                        {active && sort.direction === "desc" ? "▼" : "▲"}
                      </span>
                    </button>
                  </th>
                );
              })}
              <th scope="col" className="px-3 py-2 font-medium">
                Positions 1–10
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {current.rows.map((view) => (
              <tr
                key={view.topicId}
                data-testid="metrics-row"
                data-topic-id={view.topicId}
                className={`cursor-pointer hover:bg-indigo-50/60 ${view.topicId === selectedTopicId ? "bg-indigo-50" : ""}`}
                onClick={() => onSelect(view.topicId)}
              >
                {METRIC_COLUMNS.map((column) => (
                  <td
                    key={column.key}
                    className={`whitespace-nowrap px-3 py-1.5 ${NUMERIC.has(column.key) ? "text-right tabular-nums" : ""}`}
                    data-column={column.key}
                  >
                    {column.key === "title" ? (
                      <button type="button" className="text-left hover:underline" onClick={() => onSelect(view.topicId)}>
                        {cell(view, column.key)}
                      </button>
                    ) : (
                      cell(view, column.key)
                    )}
                  </td>
                ))}
                <td className="px-3 py-1.5">
                  <MiniDistribution distribution={view.distribution} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav aria-label="Topic pages" className="flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-2 text-sm">
        <span className="text-slate-600">
          {visible.length === 0
            ? "No topics match."
            : `Topics ${(current.page - 1) * PAGE_SIZE + 1}–${Math.min(current.page * PAGE_SIZE, visible.length)} of ${visible.length}`}
        </span>
        <span className="flex items-center gap-2">
          <button type="button" className="btn-secondary py-1" disabled={current.page <= 1} onClick={() => setPage(current.page - 1)}>
            Previous
          </button>
          <span className="tabular-nums">
            Page {current.page} of {current.pages}
          </span>
          <button
            type="button"
            className="btn-secondary py-1"
            disabled={current.page >= current.pages}
            onClick={() => setPage(current.page + 1)}
          >
            Next
          </button>
        </span>
      </nav>
    </div>
  );
}

/** The columns of the dashboard's metrics table, in display order. */
export const METRIC_COLUMNS = [
  { key: "title", label: "Topic" },
  { key: "capacity", label: "Places" },
  { key: "studentCount", label: "Students" },
  { key: "averagePosition", label: "Avg position" },
  { key: "standardDeviation", label: "Std dev" },
  { key: "percentile", label: "Percentile" },
  { key: "demandRatio", label: "Top-3 demand" },
  { key: "competitionCategory", label: "Competition" },
  { key: "lastCalculated", label: "Updated" },
] as const;

export type MetricColumn = (typeof METRIC_COLUMNS)[number]["key"];
export type SortDirection = "asc" | "desc";

type SortableRow = { topicId: string } & Record<MetricColumn, string | number | null>;

// Categories sort by how contested they are, not alphabetically.
const CATEGORY_RANK: Record<string, number> = { "very-high": 4, high: 3, medium: 2, low: 1 };

export function isMetricColumn(value: string | null): value is MetricColumn {
  return METRIC_COLUMNS.some((column) => column.key === value);
}

/**
 * Sorts a copy of the rows by one column. Missing values (a topic nobody
 * ranked has no average) go last in both directions, and ties fall back to
 * the title and id so the order is stable between live updates.
 */
export function sortMetricRows<T extends SortableRow>(rows: T[], column: MetricColumn, direction: SortDirection): T[] {
  const value = (row: T): string | number | null => {
    const raw = row[column];
    if (raw === null || raw === undefined) return null;
    if (column === "competitionCategory") return CATEGORY_RANK[String(raw)] ?? null;
    if (column === "lastCalculated") return Date.parse(String(raw));
    return raw;
  };
  const sign = direction === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const left = value(a);
    const right = value(b);
    if (left === null || right === null) {
      if (left !== right) return left === null ? 1 : -1;
    } else if (left !== right) {
      const order = typeof left === "string" || typeof right === "string" ? String(left).localeCompare(String(right)) : left < right ? -1 : 1;
      return sign * order;
    }
    return String(a.title).localeCompare(String(b.title)) || a.topicId.localeCompare(b.topicId);
  });
}

/** One page of rows (1-based page number, clamped to the available pages). */
export function pageOf<T>(rows: T[], page: number, pageSize: number): { rows: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  return { rows: rows.slice((current - 1) * pageSize, current * pageSize), page: current, pages };
}

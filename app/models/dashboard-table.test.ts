import { describe, expect, it } from "vitest";
import { METRIC_COLUMNS, pageOf, sortMetricRows } from "./dashboard-table";

const row = (
  topicId: string,
  title: string,
  averagePosition: number | null,
  competitionCategory: string | null,
  studentCount: number,
  lastCalculated: string | null = null,
) => ({
  topicId,
  title,
  capacity: 2,
  studentCount,
  averagePosition,
  standardDeviation: averagePosition === null ? null : 1,
  percentile: null,
  demandRatio: studentCount / 2,
  competitionCategory,
  lastCalculated,
});

const rows = [
  row("a", "Beta", 3.5, "medium", 4, "2026-01-01T10:00:00Z"),
  row("b", "alpha", 1.2, "very-high", 9, "2026-01-01T12:00:00Z"),
  row("c", "Gamma", null, null, 0),
  row("d", "Delta", 8, "low", 2, "2026-01-01T11:00:00Z"),
];

const ids = (sorted: { topicId: string }[]) => sorted.map((item) => item.topicId).join("");

describe("sortMetricRows", () => {
  it("sorts numbers both ways with missing values last either way", () => {
    expect(ids(sortMetricRows(rows, "averagePosition", "asc"))).toBe("badc");
    expect(ids(sortMetricRows(rows, "averagePosition", "desc"))).toBe("dabc");
  });

  it("orders categories by contest, titles case-insensitively, and times chronologically", () => {
    expect(ids(sortMetricRows(rows, "competitionCategory", "desc"))).toBe("badc");
    expect(ids(sortMetricRows(rows, "title", "asc"))).toBe("badc");
    expect(ids(sortMetricRows(rows, "lastCalculated", "asc"))).toBe("adbc");
  });

  it("sorts by every column without touching the input and breaks ties by title", () => {
    const before = ids(rows);
    for (const { key } of METRIC_COLUMNS) {
      expect(sortMetricRows(rows, key, "asc").map((item) => item.topicId).sort()).toEqual(["a", "b", "c", "d"]);
    }
    expect(ids(rows)).toBe(before);
    expect(ids(sortMetricRows(rows, "capacity", "desc"))).toBe("badc");
  });
});

describe("pageOf", () => {
  it("pages 500 topics by 25 and clamps out-of-range pages", () => {
    const many = Array.from({ length: 500 }, (_, index) => index);
    expect(pageOf(many, 1, 25)).toMatchObject({ page: 1, pages: 20, rows: many.slice(0, 25) });
    expect(pageOf(many, 20, 25).rows.at(-1)).toBe(499);
    expect(pageOf(many, 99, 25).page).toBe(20);
    expect(pageOf([], 3, 25)).toEqual({ rows: [], page: 1, pages: 1 });
  });
});

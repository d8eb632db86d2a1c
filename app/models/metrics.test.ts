import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  averageKey,
  competitionCategory,
  computeTopicMetrics,
  demandRatio,
  percentileAmong,
  percentilesOf,
  populationStandardDeviation,
  trendBuckets,
} from "./metrics";

function inputsFrom(positions: number[], extra: { capacity?: number; topicCount?: number; lessContested?: number; others?: number } = {}) {
  const distribution = Array.from({ length: 10 }, (_, index) => positions.filter((position) => position === index + 1).length);
  return {
    studentCount: positions.length,
    sumOfPositions: positions.reduce((total, position) => total + position, 0),
    sumOfSquares: positions.reduce((total, position) => total + position * position, 0),
    distribution,
    capacity: extra.capacity ?? 2,
    topicCount: extra.topicCount ?? 10,
    lessContestedCount: extra.lessContested ?? 0,
    otherRankedCount: extra.others ?? 0,
  };
}

describe("topic metric formulas", () => {
  it("computes count, average, population standard deviation, distribution and demand", () => {
    const metrics = computeTopicMetrics(inputsFrom([1, 1, 2, 4, 12], { capacity: 2, topicCount: 15, lessContested: 3, others: 4 }));
    expect(metrics.studentCount).toBe(5);
    expect(metrics.averagePosition).toBe(4);
    // deviations -3 -3 -2 0 8 → squares 9 9 4 0 64 → variance 86/5
    expect(metrics.standardDeviation).toBeCloseTo(Math.sqrt(86 / 5), 12);
    expect(metrics.distribution).toEqual([2, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(metrics.topThreeCount).toBe(3);
    expect(metrics.demandRatio).toBe(1.5);
    expect(metrics.percentile).toBe(75);
    expect(metrics.competitionCategory).toBe("high");
  });

  it("gives a topic nobody ranked a zero count and no average, deviation, percentile or category (never NaN)", () => {
    const metrics = computeTopicMetrics(inputsFrom([], { others: 3, lessContested: 0 }));
    expect(metrics).toMatchObject({
      studentCount: 0,
      averagePosition: null,
      standardDeviation: null,
      percentile: null,
      competitionCategory: null,
      demandRatio: 0,
      topThreeCount: 0,
    });
    expect(metrics.distribution).toEqual(Array(10).fill(0));
  });

  it("gives zero deviation when everyone agrees, even where floating point would go slightly negative", () => {
    expect(populationStandardDeviation(3, 3 * 7, 3 * 49)).toBe(0);
    expect(populationStandardDeviation(1_000, 1_000 * 333, 1_000 * 333 * 333)).toBe(0);
  });

  it("matches the two-pass population standard deviation on random positions", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 300 }), (positions) => {
        const n = positions.length;
        const mean = positions.reduce((a, b) => a + b, 0) / n;
        const twoPass = Math.sqrt(positions.reduce((total, x) => total + (x - mean) ** 2, 0) / n);
        const inputs = inputsFrom(positions);
        const fromSums = populationStandardDeviation(n, inputs.sumOfPositions, inputs.sumOfSquares)!;
        expect(Math.abs(fromSums - twoPass)).toBeLessThanOrEqual(1e-9 * Math.max(1, twoPass));
      }),
    );
  });

  it("normalises the category by the number of topics with thresholds 0.2, 0.4 and 0.6 inclusive", () => {
    expect(competitionCategory(2, 10)).toBe("very-high");
    expect(competitionCategory(2.0001, 10)).toBe("high");
    expect(competitionCategory(4, 10)).toBe("high");
    expect(competitionCategory(6, 10)).toBe("medium");
    expect(competitionCategory(6.01, 10)).toBe("low");
    expect(competitionCategory(null, 10)).toBeNull();
    // The seed design divided by the student count; T = 50 topics must rule.
    expect(competitionCategory(12, 50)).toBe("high");
  });

  it("reports the percentile as the share of other ranked topics, null when there is no other", () => {
    expect(percentileAmong(0, 0)).toBeNull();
    expect(percentileAmong(0, 4)).toBe(0);
    expect(percentileAmong(4, 4)).toBe(100);
    expect(demandRatio(3, 0)).toBe(0);
  });

  it("derives every topic's percentile from the period's averages like a brute-force count", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: 1_000, max: 9_000 }).map((n) => n / 1_000), { nil: null }), { maxLength: 40 }), (values) => {
        const averages = new Map(values.map((value, index) => [`t${index}`, value]));
        const result = percentilesOf(averages);
        for (const [topicId, average] of averages) {
          const others = [...averages].filter(([id, value]) => id !== topicId && value !== null);
          const expected =
            average === null || others.length === 0
              ? null
              : (100 * others.filter(([, value]) => averageKey(value!) > averageKey(average)).length) / others.length;
          expect(result.get(topicId)).toBe(expected);
        }
      }),
    );
  });

  it("aligns trend buckets to the bucket size and caps their number", () => {
    const since = new Date("2026-01-01T10:07:00Z");
    const until = new Date("2026-01-01T10:31:00Z");
    const buckets = trendBuckets(since, until, 15);
    expect(buckets.map((bucket) => new Date(bucket.start).toISOString())).toEqual([
      "2026-01-01T10:00:00.000Z",
      "2026-01-01T10:15:00.000Z",
      "2026-01-01T10:30:00.000Z",
    ]);
    expect(trendBuckets(new Date(0), new Date(10 * 86_400_000), 5)).toHaveLength(500);
    expect(() => trendBuckets(since, until, 0)).toThrow(/positive/);
  });
});

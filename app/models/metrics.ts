/**
 * Metric formulas (PRODUCT.md "Metric definitions"), pure so they can be
 * checked alone and shared by the recompute, the loaders and the browser.
 */

export const DISTRIBUTION_POSITIONS = 10;
export const TOP_POSITIONS = 3;

export type CompetitionCategory = "very-high" | "high" | "medium" | "low";

export const CATEGORY_LABELS: Record<CompetitionCategory, string> = {
  "very-high": "Very high competition",
  high: "High competition",
  medium: "Medium competition",
  low: "Low competition",
};

export type TopicMetricsView = {
  topicId: string;
  title: string;
  capacity: number;
  studentCount: number;
  sumOfPositions: number;
  averagePosition: number | null;
  standardDeviation: number | null;
  distribution: number[];
  percentile: number | null;
  demandRatio: number;
  competitionCategory: CompetitionCategory | null;
  lastCalculated: string | null;
  isStale: boolean;
};

/** What a recompute reads from the aggregates (plus the topic itself). */
export type TopicMetricInputs = {
  studentCount: number;
  sumOfPositions: number;
  sumOfSquares: number;
  /** Students who placed the topic at positions 1..10. */
  distribution: number[];
  capacity: number;
  topicCount: number;
  /** Other ranked topics of the period with a higher (less contested) average. */
  lessContestedCount: number;
  /** Ranked topics of the period other than this one. */
  otherRankedCount: number;
};

export type TopicMetricValues = {
  studentCount: number;
  sumOfPositions: number;
  sumOfSquares: number;
  averagePosition: number | null;
  standardDeviation: number | null;
  distribution: number[];
  topThreeCount: number;
  percentile: number | null;
  demandRatio: number;
  competitionCategory: CompetitionCategory | null;
};

export function averagePosition(studentCount: number, sumOfPositions: number): number | null {
  return studentCount === 0 ? null : sumOfPositions / studentCount;
}

/**
 * Population standard deviation from Σx and Σx². n·Σx² − (Σx)² is an exact
 * integer (positions are small), so no cancellation error can make it
 * negative as Σx²/n − mean² can in floating point.
 */
export function populationStandardDeviation(studentCount: number, sumOfPositions: number, sumOfSquares: number): number | null {
  if (studentCount === 0) return null;
  const scaledVariance = studentCount * sumOfSquares - sumOfPositions * sumOfPositions;
  return Math.sqrt(Math.max(0, scaledVariance)) / studentCount;
}

/** Normalised by the number of topics T in the period, not by the student count. */
export function competitionCategory(average: number | null, topicCount: number): CompetitionCategory | null {
  if (average === null || topicCount <= 0) return null;
  const normalized = average / topicCount;
  if (normalized <= 0.2) return "very-high";
  if (normalized <= 0.4) return "high";
  if (normalized <= 0.6) return "medium";
  return "low";
}

/** Share (0–100) of the other ranked topics that are less contested; null when there is no other. */
export function percentileAmong(lessContestedCount: number, otherRankedCount: number): number | null {
  if (otherRankedCount <= 0) return null;
  return (100 * lessContestedCount) / otherRankedCount;
}

export function demandRatio(topThreeCount: number, capacity: number): number {
  return capacity > 0 ? topThreeCount / capacity : 0;
}

export function topThreeCount(distribution: number[]): number {
  return distribution.slice(0, TOP_POSITIONS).reduce((total, count) => total + count, 0);
}

export function computeTopicMetrics(inputs: TopicMetricInputs): TopicMetricValues {
  if (inputs.distribution.length !== DISTRIBUTION_POSITIONS) {
    throw new Error(`distribution must have ${DISTRIBUTION_POSITIONS} entries, got ${inputs.distribution.length}`);
  }
  const average = averagePosition(inputs.studentCount, inputs.sumOfPositions);
  const topThree = topThreeCount(inputs.distribution);
  return {
    studentCount: inputs.studentCount,
    sumOfPositions: inputs.sumOfPositions,
    sumOfSquares: inputs.sumOfSquares,
    averagePosition: average,
    standardDeviation: populationStandardDeviation(inputs.studentCount, inputs.sumOfPositions, inputs.sumOfSquares),
    distribution: [...inputs.distribution],
    topThreeCount: topThree,
    percentile: average === null ? null : percentileAmong(inputs.lessContestedCount, inputs.otherRankedCount),
    demandRatio: demandRatio(topThree, inputs.capacity),
    competitionCategory: competitionCategory(average, inputs.topicCount),
  };
}

/** Integer key of an average in the per-period ordering of topic averages. */
export function averageKey(average: number): number {
  return Math.round(average * 1_000_000);
}

/**
 * Percentile of every ranked topic among the period's ranked topics, from
 * their averages: for each, the share of the others with a higher average.
 */
export function percentilesOf(averages: Map<string, number | null>): Map<string, number | null> {
  const keys = [...averages.values()].filter((value): value is number => value !== null).map(averageKey).sort((a, b) => a - b);
  const result = new Map<string, number | null>();
  for (const [topicId, average] of averages) {
    if (average === null) {
      result.set(topicId, null);
      continue;
    }
    const key = averageKey(average);
    result.set(topicId, percentileAmong(keys.length - upperBound(keys, key), keys.length - 1));
  }
  return result;
}

/** Index of the first element greater than `value` in an ascending array. */
function upperBound(sorted: number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

export const TREND_BUCKET_MINUTES = [5, 15, 60] as const;
export const TREND_WINDOW_HOURS = [1, 6, 24, 72] as const;
/** A trend never asks for more buckets than this in one read. */
export const MAX_TREND_BUCKETS = 500;

/** Bucket start times covering [since, until), aligned to the bucket size. */
export function trendBuckets(since: Date, until: Date, bucketMinutes: number): { start: number; end: number }[] {
  if (!Number.isInteger(bucketMinutes) || bucketMinutes < 1) throw new Error("bucketMinutes must be a positive integer");
  const size = bucketMinutes * 60_000;
  const first = Math.floor(since.getTime() / size) * size;
  const buckets: { start: number; end: number }[] = [];
  for (let start = first; start < until.getTime(); start += size) {
    buckets.push({ start, end: start + size });
  }
  return buckets.slice(-MAX_TREND_BUCKETS);
}

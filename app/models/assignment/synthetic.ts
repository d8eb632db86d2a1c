/**
 * Synthetic preferences for benchmarks, demos and tests: every student ranks
 * topics by Plackett–Luce sampling with Zipf popularity weights
 * (topic k, counted from 1, has weight 1 / k^zipfExponent), so a few topics
 * are wanted by nearly everyone — the hard case for an assignment solver.
 * Pure and seeded: the same arguments always give the same preferences.
 */

import { seededRandom } from "../../utils/random";

export interface GeneratePreferencesOptions {
  /** A count (ids become s1, s2, …) or the student ids themselves. */
  students: number | readonly string[];
  /** A count (ids become t1, t2, …) or the topic ids, most popular first. */
  topics: number | readonly string[];
  /** 0 = uniform; 1 = classic Zipf; larger = more skewed. */
  zipfExponent: number;
  seed: number;
  /** How many topics each student ranks; defaults to all of them. */
  rankLength?: number;
}

export interface GeneratedPreferences {
  students: string[];
  topics: string[];
  /** Student id -> topic ids, most preferred first. */
  rankings: Record<string, string[]>;
}

export function generatePreferences(options: GeneratePreferencesOptions): GeneratedPreferences {
  const students = toIds(options.students, "s", "students");
  const topics = toIds(options.topics, "t", "topics");
  const rankLength = options.rankLength ?? topics.length;
  if (!Number.isInteger(rankLength) || rankLength < 0 || rankLength > topics.length) {
    throw new Error(`rankLength must be an integer between 0 and ${topics.length}, got ${rankLength}`);
  }
  if (!Number.isFinite(options.zipfExponent) || options.zipfExponent < 0) {
    throw new Error(`zipfExponent must be a finite number >= 0, got ${options.zipfExponent}`);
  }

  const random = seededRandom(options.seed);
  const weights = topics.map((_, k) => 1 / Math.pow(k + 1, options.zipfExponent));
  // Short rankings: draw one topic at a time (rejecting repeats), cheap when
  // rankLength is much smaller than the number of topics. Long rankings:
  // sort by exponential clocks -log(U)/w, which is exactly Plackett–Luce too.
  const sample =
    rankLength * 4 <= topics.length
      ? sequentialSampler(weights, rankLength, random)
      : exponentialClockSampler(weights, rankLength, random);

  const rankings: Record<string, string[]> = {};
  for (const student of students) {
    rankings[student] = sample().map((index) => topics[index]);
  }
  return { students, topics, rankings };
}

function toIds(value: number | readonly string[], prefix: string, what: string): string[] {
  if (typeof value !== "number") return [...value];
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${what} must be a non-negative integer or a list of ids, got ${value}`);
  }
  return Array.from({ length: value }, (_, i) => `${prefix}${i + 1}`);
}

function sequentialSampler(weights: number[], rankLength: number, random: () => number) {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((weight, k) => {
    total += weight;
    cumulative[k] = total;
  });
  const chosen = new Uint8Array(weights.length);
  return (): number[] => {
    const ranking: number[] = [];
    while (ranking.length < rankLength) {
      const index = upperBound(cumulative, random() * total);
      if (chosen[index]) continue;
      chosen[index] = 1;
      ranking.push(index);
    }
    for (const index of ranking) chosen[index] = 0;
    return ranking;
  };
}

function exponentialClockSampler(weights: number[], rankLength: number, random: () => number) {
  const clocks = new Float64Array(weights.length);
  const order = Array.from(weights, (_, k) => k);
  return (): number[] => {
    for (let k = 0; k < weights.length; k++) {
      clocks[k] = -Math.log(1 - random()) / weights[k];
    }
    order.sort((a, b) => clocks[a] - clocks[b]);
    return order.slice(0, rankLength);
  };
}

/** First index whose cumulative weight exceeds target. */
function upperBound(cumulative: Float64Array, target: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cumulative[middle] > target) high = middle;
    else low = middle + 1;
  }
  return low;
}

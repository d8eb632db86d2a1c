import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadAgh } from "../../../test/support/factories";
import { objectiveValue, solveAssignment, type AssignmentProblem, type AssignmentResult, type Objective } from "./solver";
import { generatePreferences } from "./synthetic";

const OBJECTIVES: Objective[] = ["linear", "generous", "rank-maximal"];

// ------------------------------------------------------------ helpers

function rankOf(problem: AssignmentProblem, student: string, topic: string): number {
  return (problem.rankings[student] ?? []).indexOf(topic) + 1;
}

/** Profile of the ranked placements in `assignments` (0 rank = unranked, skipped). */
function profileOf(problem: AssignmentProblem, assignments: Record<string, string | null>): number[] {
  const length = Math.max(0, ...problem.students.map((s) => (problem.rankings[s] ?? []).length));
  const profile = new Array<number>(length).fill(0);
  for (const student of problem.students) {
    const topic = assignments[student];
    if (topic === null) continue;
    const rank = rankOf(problem, student, topic);
    if (rank > 0) profile[rank - 1]++;
  }
  return profile;
}

/** Negative when profile a is better than b for the objective (same number placed). */
function compareProfiles(objective: Objective, a: number[], b: number[]): number {
  if (objective === "linear") {
    const sum = (p: number[]) => p.reduce((total, count, r) => total + count * (r + 1), 0);
    return sum(a) - sum(b);
  }
  if (objective === "rank-maximal") {
    for (let r = 0; r < a.length; r++) if (a[r] !== b[r]) return b[r] - a[r];
    return 0;
  }
  for (let r = a.length - 1; r >= 0; r--) if (a[r] !== b[r]) return a[r] - b[r];
  return 0;
}

const placed = (profile: number[]) => profile.reduce((total, count) => total + count, 0);

/** Checks every invariant a result must satisfy whatever the objective. */
function expectFeasible(problem: AssignmentProblem, result: AssignmentResult) {
  expect(Object.keys(result.assignments).sort()).toEqual([...problem.students].sort());
  const load = new Map<string, number>();
  for (const student of problem.students) {
    const topic = result.assignments[student];
    if (topic === null) continue;
    load.set(topic, (load.get(topic) ?? 0) + 1);
    const ranked = rankOf(problem, student, topic) > 0;
    expect(ranked).toBe(!result.placedByPolicy.includes(student));
  }
  for (const topic of problem.topics) expect(load.get(topic.id) ?? 0).toBeLessThanOrEqual(topic.capacity);
  if ((problem.unassignedPolicy ?? "leave") === "leave") expect(result.placedByPolicy).toEqual([]);
  expect(result.unassigned).toEqual(problem.students.filter((s) => result.assignments[s] === null));
  const profile = profileOf(problem, result.assignments);
  expect(result.profile).toEqual(profile);
  expect(result.placedCount).toBe(placed(profile));
  expect(result.objectiveValue).toBe(objectiveValue(problem.objective, profile, problem.students.length));
}

/** Every feasible assignment (each student: nothing or a ranked topic with a seat left). */
function bruteForceBest(problem: AssignmentProblem): { placed: number; profile: number[] } {
  const load = new Map(problem.topics.map((t) => [t.id, 0]));
  const capacity = new Map(problem.topics.map((t) => [t.id, t.capacity]));
  const assignments: Record<string, string | null> = {};
  let best: { placed: number; profile: number[] } | null = null;
  const visit = (k: number) => {
    if (k === problem.students.length) {
      const profile = profileOf(problem, assignments);
      const count = placed(profile);
      if (
        best === null ||
        count > best.placed ||
        (count === best.placed && compareProfiles(problem.objective, profile, best.profile) < 0)
      ) {
        best = { placed: count, profile };
      }
      return;
    }
    const student = problem.students[k];
    assignments[student] = null;
    visit(k + 1);
    for (const topic of problem.rankings[student] ?? []) {
      if (load.get(topic)! >= capacity.get(topic)!) continue;
      load.set(topic, load.get(topic)! + 1);
      assignments[student] = topic;
      visit(k + 1);
      load.set(topic, load.get(topic)! - 1);
    }
    assignments[student] = null;
  };
  visit(0);
  return best!;
}

/** Serial dictatorship in the given order: each student takes their best topic with a seat left. */
function serialDictatorship(problem: AssignmentProblem, order: string[]): Record<string, string | null> {
  const left = new Map(problem.topics.map((t) => [t.id, t.capacity]));
  const assignments: Record<string, string | null> = {};
  for (const student of order) {
    const topic = (problem.rankings[student] ?? []).find((t) => left.get(t)! > 0) ?? null;
    if (topic !== null) left.set(topic, left.get(topic)! - 1);
    assignments[student] = topic;
  }
  return assignments;
}

function seededShuffle<T>(items: T[], seed: number): T[] {
  const shuffled = [...items];
  let state = seed;
  for (let i = shuffled.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const k = state % (i + 1);
    [shuffled[i], shuffled[k]] = [shuffled[k], shuffled[i]];
  }
  return shuffled;
}

/** Random problems: partial (possibly empty) rankings, capacities 0..maxCapacity. */
function problemArbitrary(limits: { students: number; topics: number; maxCapacity: number }) {
  return fc
    .record({
      studentCount: fc.integer({ min: 0, max: limits.students }),
      capacities: fc.array(fc.integer({ min: 0, max: limits.maxCapacity }), { minLength: 1, maxLength: limits.topics }),
      objective: fc.constantFrom(...OBJECTIVES),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      rankingSeeds: fc.array(fc.array(fc.nat(), { maxLength: limits.topics }), {
        minLength: limits.students,
        maxLength: limits.students,
      }),
    })
    .map(({ studentCount, capacities, objective, seed, rankingSeeds }): AssignmentProblem => {
      const students = Array.from({ length: studentCount }, (_, i) => `s${i}`);
      const topics = capacities.map((capacity, j) => ({ id: `t${j}`, capacity }));
      const rankings: Record<string, string[]> = {};
      students.forEach((student, i) => {
        const pool = topics.map((t) => t.id);
        const ranking: string[] = [];
        for (const pick of rankingSeeds[i]) {
          if (pool.length === 0) break;
          ranking.push(pool.splice(pick % pool.length, 1)[0]);
        }
        if (ranking.length > 0 || i % 3 === 0) rankings[student] = ranking;
      });
      return { students, topics, rankings, objective, seed };
    });
}

// ------------------------------------------------------------ exact references for AGH

interface Arithmetic<T> {
  zero: T;
  infinity: T;
  add(a: T, b: T): T;
  subtract(a: T, b: T): T;
  less(a: T, b: T): boolean;
}

const numbers: Arithmetic<number> = {
  zero: 0,
  infinity: Infinity,
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  less: (a, b) => a < b,
};

// BigInt has no infinity; null stands for it.
const bigints: Arithmetic<bigint | null> = {
  zero: 0n,
  infinity: null,
  add: (a, b) => (a === null || b === null ? null : a + b),
  subtract: (a, b) => (a === null ? null : a - (b as bigint)),
  less: (a, b) => a !== null && (b === null || a < b),
};

/** Textbook O(rows^2 * cols) Hungarian method (rows <= cols); returns the column of each row. */
function hungarian<T>(cost: T[][], ops: Arithmetic<T>): number[] {
  const rows = cost.length;
  const cols = cost[0].length;
  const u: T[] = new Array(rows + 1).fill(ops.zero);
  const v: T[] = new Array(cols + 1).fill(ops.zero);
  const rowOf = new Array<number>(cols + 1).fill(0);
  const way = new Array<number>(cols + 1).fill(0);
  for (let i = 1; i <= rows; i++) {
    rowOf[0] = i;
    let j0 = 0;
    const minv: T[] = new Array(cols + 1).fill(ops.infinity);
    const used = new Array<boolean>(cols + 1).fill(false);
    do {
      used[j0] = true;
      const i0 = rowOf[j0];
      let delta = ops.infinity;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const current = ops.subtract(ops.subtract(cost[i0 - 1][j - 1], u[i0]), v[j]);
        if (ops.less(current, minv[j])) {
          minv[j] = current;
          way[j] = j0;
        }
        if (ops.less(minv[j], delta)) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[rowOf[j]] = ops.add(u[rowOf[j]], delta);
          v[j] = ops.subtract(v[j], delta);
        } else {
          minv[j] = ops.subtract(minv[j], delta);
        }
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0];
      rowOf[j0] = rowOf[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const columnOfRow = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (rowOf[j] !== 0) columnOfRow[rowOf[j] - 1] = j - 1;
  return columnOfRow;
}

/**
 * Optimal profile by the Hungarian method on the seat-expanded matrix with
 * complete rankings (every student can sit anywhere, so min(students, seats)
 * is the maximum placement and the smaller side is fully matched).
 */
function referenceProfile<T>(
  problem: AssignmentProblem,
  ops: Arithmetic<T>,
  rankCost: (rank: number) => T,
): number[] {
  const seats = problem.topics.flatMap((t) => new Array<string>(t.capacity).fill(t.id));
  const byStudent = problem.students.map((s) => seats.map((topic) => rankCost(rankOf(problem, s, topic))));
  const assignments: Record<string, string | null> = Object.fromEntries(problem.students.map((s) => [s, null]));
  if (problem.students.length <= seats.length) {
    hungarian(byStudent, ops).forEach((seat, i) => (assignments[problem.students[i]] = seats[seat]));
  } else {
    const bySeat = seats.map((_, k) => byStudent.map((row) => row[k]));
    hungarian(bySeat, ops).forEach((student, k) => (assignments[problem.students[student]] = seats[k]));
  }
  return profileOf(problem, assignments);
}

function aghProblem(capacity: number, objective: Objective, seed = 7): AssignmentProblem {
  const agh = loadAgh();
  const alternatives = agh.alternatives.length;
  const rankings = agh.voters;
  const students = rankings.map((_, i) => `student-${i + 1}`);
  return {
    students,
    topics: Array.from({ length: alternatives }, (_, k) => ({ id: `course-${k + 1}`, capacity })),
    rankings: Object.fromEntries(rankings.map((ranking, i) => [students[i], ranking.map((a) => `course-${a}`)])),
    objective,
    seed,
  };
}

// ------------------------------------------------------------ tests

describe("solveAssignment optimality", () => {
  for (const objective of OBJECTIVES) {
    it(`matches brute force on small random problems (${objective})`, () => {
      fc.assert(
        fc.property(problemArbitrary({ students: 7, topics: 4, maxCapacity: 3 }), (generated) => {
          const problem = { ...generated, objective };
          const best = bruteForceBest(problem);
          for (const arithmetic of ["auto", "limbs", "bigint"] as const) {
            const result = solveAssignment(problem, { arithmetic });
            expectFeasible(problem, result);
            expect(result.placedCount).toBe(best.placed);
            expect(compareProfiles(objective, result.profile, best.profile)).toBe(0);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it("prefers placing more students over better ranks", () => {
    // x alone on t1 (first choice) leaves y out; x on t2 lets y in at rank 3.
    const problem: AssignmentProblem = {
      students: ["x", "y"],
      topics: [
        { id: "t1", capacity: 1 },
        { id: "t2", capacity: 1 },
        { id: "a", capacity: 0 },
        { id: "b", capacity: 0 },
      ],
      rankings: { x: ["t1", "t2"], y: ["a", "b", "t1"] },
      objective: "rank-maximal",
    };
    for (const objective of OBJECTIVES) {
      const result = solveAssignment({ ...problem, objective });
      expect(result.assignments).toEqual({ x: "t2", y: "t1" });
      expect(result.profile).toEqual([0, 1, 1]);
    }
  });

  it("rank-maximal may need a rank worse than the generous worst rank", () => {
    // Everyone fits either way; generous keeps all within rank 2, rank-maximal
    // buys a second first choice with c's 5th. Ranks beyond the generous worst
    // rank therefore cannot be dropped for rank-maximal.
    const problem: AssignmentProblem = {
      students: ["a", "b", "c"],
      topics: ["p", "q", "r", "f1", "f2", "f3"].map((id) => ({ id, capacity: id.startsWith("f") ? 0 : 1 })),
      rankings: { a: ["p", "r"], b: ["q", "p"], c: ["q", "f1", "f2", "f3", "r"] },
      objective: "generous",
    };
    const generous = solveAssignment(problem);
    expect(generous.assignments).toEqual({ a: "r", b: "p", c: "q" });
    const rankMaximal = solveAssignment({ ...problem, objective: "rank-maximal" });
    expect(rankMaximal.assignments).toEqual({ a: "p", b: "q", c: "r" });
    expect(rankMaximal.profile).toEqual([2, 0, 0, 0, 1]);
  });

  it("distinguishes the three objectives", () => {
    const problem: AssignmentProblem = {
      students: ["p", "q", "r", "s", "t", "u"],
      topics: [
        { id: "A", capacity: 1 },
        { id: "B", capacity: 2 },
        { id: "C", capacity: 2 },
        { id: "D", capacity: 1 },
      ],
      rankings: {
        p: ["A", "D", "B", "C"],
        q: ["A", "D", "B", "C"],
        r: ["D", "C", "B", "A"],
        s: ["A", "D", "B", "C"],
        t: ["B", "C", "D", "A"],
        u: ["A", "B", "C", "D"],
      },
      objective: "linear",
    };
    // Best sum of ranks is 12, reached by [2,3,0,1] and [1,4,1,0] alike.
    expect(solveAssignment(problem).objectiveValue).toBe("12");
    // Most first choices costs two 4th choices (sum 13).
    expect(solveAssignment({ ...problem, objective: "rank-maximal" }).profile).toEqual([3, 1, 0, 2]);
    // Nobody on a 4th choice.
    expect(solveAssignment({ ...problem, objective: "generous" }).profile).toEqual([1, 4, 1, 0]);
  });
});

describe("solveAssignment on AGH 2003 (146 students, 9 courses)", () => {
  const linearCost = (rank: number) => rank;
  const base = 147n;
  const generousCost = (rank: number): bigint | null => base ** BigInt(rank - 1);
  const rankMaximalCost = (rank: number): bigint | null => base ** 9n - base ** BigInt(9 - rank);

  for (const capacity of [20, 17, 16]) {
    const expectedPlaced = Math.min(146, 9 * capacity);

    it(`linear is optimal with capacity ${capacity}`, () => {
      const problem = aghProblem(capacity, "linear");
      const result = solveAssignment(problem);
      expectFeasible(problem, result);
      expect(result.placedCount).toBe(expectedPlaced);
      expect(result.unassigned).toHaveLength(146 - expectedPlaced);
      const reference = referenceProfile(problem, numbers, linearCost);
      expect(result.objectiveValue).toBe(objectiveValue("linear", reference, 146));
    });

    it(`generous and rank-maximal match an exact BigInt Hungarian with capacity ${capacity}`, () => {
      for (const [objective, cost] of [
        ["generous", generousCost],
        ["rank-maximal", rankMaximalCost],
      ] as const) {
        const problem = aghProblem(capacity, objective);
        const reference = referenceProfile(problem, bigints, cost);
        for (const arithmetic of ["auto", "limbs", "bigint"] as const) {
          const result = solveAssignment(problem, { arithmetic });
          expectFeasible(problem, result);
          expect(result.placedCount).toBe(expectedPlaced);
          expect(result.profile).toEqual(reference);
        }
      }
    }, 60_000);
  }

  it("gives the same assignment for the same seed and the same optimum for any seed", () => {
    for (const objective of OBJECTIVES) {
      const first = solveAssignment(aghProblem(17, objective, 1));
      expect(solveAssignment(aghProblem(17, objective, 1))).toEqual(first);
      const other = solveAssignment(aghProblem(17, objective, 99));
      expect(other.objectiveValue).toBe(first.objectiveValue);
      // Lexicographic optima have a unique profile; linear ties may differ in profile.
      if (objective !== "linear") expect(other.profile).toEqual(first.profile);
    }
  });
});

describe("solveAssignment properties", () => {
  const arbitrary = problemArbitrary({ students: 30, topics: 8, maxCapacity: 5 });

  it("is feasible, consistent and deterministic for a seed", () => {
    fc.assert(
      fc.property(arbitrary, fc.constantFrom("leave", "any-free-seat" as const), (problem, policy) => {
        const withPolicy = { ...problem, unassignedPolicy: policy };
        const result = solveAssignment(withPolicy);
        expectFeasible(withPolicy, result);
        expect(solveAssignment(withPolicy)).toEqual(result);
      }),
      { numRuns: 300 },
    );
  });

  it("any-free-seat only adds seats to the optimal ranked placement", () => {
    fc.assert(
      fc.property(arbitrary, (problem) => {
        const left = solveAssignment({ ...problem, unassignedPolicy: "leave" });
        const filled = solveAssignment({ ...problem, unassignedPolicy: "any-free-seat" });
        expect(filled.profile).toEqual(left.profile);
        expect(filled.objectiveValue).toBe(left.objectiveValue);
        for (const student of problem.students) {
          if (!filled.placedByPolicy.includes(student)) {
            expect(filled.assignments[student]).toBe(left.assignments[student]);
          }
        }
        const freeSeats =
          problem.topics.reduce((sum, topic) => sum + topic.capacity, 0) - left.placedCount;
        expect(filled.placedByPolicy).toHaveLength(Math.min(freeSeats, left.unassigned.length));
      }),
      { numRuns: 200 },
    );
  });

  it("gives the same optimum on doubles, limb vectors and BigInt for mid-size problems", () => {
    const midSize = problemArbitrary({ students: 80, topics: 12, maxCapacity: 9 });
    fc.assert(
      fc.property(midSize, (problem) => {
        const exact = solveAssignment(problem, { arithmetic: "bigint" });
        for (const arithmetic of ["auto", "limbs"] as const) {
          const result = solveAssignment(problem, { arithmetic });
          expectFeasible(problem, result);
          expect(result.placedCount).toBe(exact.placedCount);
          expect(result.objectiveValue).toBe(exact.objectiveValue);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("stays exact when the objective needs several limbs (values far beyond 2^53)", () => {
    // 320 students for 320 seats, steep popularity, 30 of 40 topics ranked:
    // rank-maximal has 30 levels in base 321, generous a worst rank of 8-10.
    for (const seed of [1, 2, 3]) {
      const generated = generatePreferences({ students: 320, topics: 40, zipfExponent: 1.5, seed, rankLength: 30 });
      for (const objective of ["generous", "rank-maximal"] as const) {
        const problem: AssignmentProblem = {
          ...generated,
          topics: generated.topics.map((id) => ({ id, capacity: 8 })),
          objective,
          seed,
        };
        const exact = solveAssignment(problem, { arithmetic: "bigint" });
        const result = solveAssignment(problem);
        expectFeasible(problem, result);
        expect(result.profile).toEqual(exact.profile);
        const levels = objective === "generous" ? result.profile.findLastIndex((count) => count > 0) + 1 : 30;
        expect(321n ** BigInt(levels) > 2n ** 53n).toBe(true);
      }
    }
  }, 60_000);

  it("stays exact on doubles when rank-maximal needs more than 8 limbs", () => {
    // 200 students, 60 topics, complete rankings: 60 levels in base 201, six
    // to a limb, so 10 limbs (this used to fall back to BigInt).
    for (const seed of [4, 5]) {
      const generated = generatePreferences({ students: 200, topics: 60, zipfExponent: 1.5, seed });
      const problem: AssignmentProblem = {
        ...generated,
        topics: generated.topics.map((id) => ({ id, capacity: 4 })),
        objective: "rank-maximal",
        seed,
      };
      const exact = solveAssignment(problem, { arithmetic: "bigint" });
      const result = solveAssignment(problem);
      expectFeasible(problem, result);
      expect(result.placedCount).toBe(200);
      expect(result.profile).toEqual(exact.profile);
      expect(result.profile.findLastIndex((count) => count > 0)).toBeGreaterThan(8);
      expect(BigInt(result.objectiveValue) > 2n ** 400n).toBe(true);
    }
  }, 60_000);

  it("generous on complete rankings matches BigInt though only a few ranks are usable", () => {
    // 600 students for 600 seats ranking all 60 topics; the worst rank needed
    // is 5-6, so refreshes are paced by a tenth of the arcs and run 5-7 times.
    for (const seed of [6, 7]) {
      const generated = generatePreferences({ students: 600, topics: 60, zipfExponent: 1, seed });
      const problem: AssignmentProblem = {
        ...generated,
        topics: generated.topics.map((id, k) => ({ id, capacity: 9 + (k % 3) })),
        objective: "generous",
        seed,
      };
      const exact = solveAssignment(problem, { arithmetic: "bigint" });
      for (const arithmetic of ["auto", "limbs"] as const) {
        const result = solveAssignment(problem, { arithmetic });
        expectFeasible(problem, result);
        expect(result.placedCount).toBe(600);
        expect(result.profile).toEqual(exact.profile);
      }
      expect(exact.profile.findLastIndex((count) => count > 0) + 1).toBeLessThanOrEqual(6);
    }
  }, 60_000);

  it("is never worse than serial dictatorship", () => {
    fc.assert(
      fc.property(arbitrary, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (problem, orderSeed) => {
        const order = seededShuffle(problem.students, orderSeed);
        const result = solveAssignment(problem);
        const greedy = profileOf(problem, serialDictatorship(problem, order));
        expect(result.placedCount).toBeGreaterThanOrEqual(placed(greedy));
        if (result.placedCount === placed(greedy)) {
          expect(compareProfiles(problem.objective, result.profile, greedy)).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("any-free-seat fills free seats with the students left out, reported separately", () => {
    const problem: AssignmentProblem = {
      students: ["a", "b", "c", "d"],
      topics: [
        { id: "popular", capacity: 1 },
        { id: "quiet", capacity: 2 },
      ],
      rankings: { a: ["popular"], b: ["popular"], c: [] },
      objective: "linear",
      unassignedPolicy: "any-free-seat",
      seed: 3,
    };
    const result = solveAssignment(problem);
    expectFeasible(problem, result);
    expect(result.placedCount).toBe(1);
    expect(result.profile).toEqual([1]);
    expect(result.objectiveValue).toBe("1");
    expect(result.placedByPolicy).toHaveLength(2);
    expect(result.unassigned).toHaveLength(1);
    for (const student of result.placedByPolicy) expect(result.assignments[student]).toBe("quiet");
    expect(solveAssignment({ ...problem, unassignedPolicy: "leave" }).unassigned).toHaveLength(3);
  });

  it("places exactly the seats when students outnumber them", () => {
    const generated = generatePreferences({ students: 60, topics: 5, zipfExponent: 1, seed: 11 });
    for (const objective of OBJECTIVES) {
      const problem: AssignmentProblem = {
        ...generated,
        topics: generated.topics.map((id) => ({ id, capacity: 7 })),
        objective,
      };
      const result = solveAssignment(problem);
      expectFeasible(problem, result);
      expect(result.placedCount).toBe(35);
      expect(result.unassigned).toHaveLength(25);
    }
  });

  it("handles no students, no rankings and zero capacities", () => {
    const empty = solveAssignment({ students: [], topics: [], rankings: {}, objective: "generous" });
    expect(empty).toEqual({
      assignments: {},
      profile: [],
      unassigned: [],
      placedByPolicy: [],
      placedCount: 0,
      objectiveValue: "0",
    });
    const closed = solveAssignment({
      students: ["a", "b"],
      topics: [{ id: "t", capacity: 0 }],
      rankings: { a: ["t"] },
      objective: "rank-maximal",
    });
    expect(closed.assignments).toEqual({ a: null, b: null });
    expect(closed.profile).toEqual([0]);
  });
});

describe("solveAssignment rejects bad problems, naming the offender", () => {
  const valid: AssignmentProblem = {
    students: ["ann", "bob"],
    topics: [
      { id: "alpha", capacity: 1 },
      { id: "beta", capacity: 2 },
    ],
    rankings: { ann: ["alpha", "beta"], bob: ["beta"] },
    objective: "linear",
  };

  it.each([
    ["an unknown topic", { rankings: { ann: ["gamma"] } }, /ann.*gamma/],
    ["duplicate student ids", { students: ["ann", "bob", "ann"] }, /Duplicate student id "ann"/],
    ["duplicate topic ids", { topics: [valid.topics[0], { id: "alpha", capacity: 3 }] }, /Duplicate topic id "alpha"/],
    ["a topic ranked twice", { rankings: { bob: ["beta", "alpha", "beta"] } }, /bob.*beta.*more than once/],
    ["a ranking for an unknown student", { rankings: { carl: ["alpha"] } }, /unknown student "carl"/],
    ["a negative capacity", { topics: [{ id: "alpha", capacity: -1 }] }, /Topic "alpha".*capacity -1/],
    ["a fractional capacity", { topics: [{ id: "beta", capacity: 1.5 }] }, /Topic "beta".*capacity 1.5/],
    ["an unknown objective", { objective: "fairest" }, /Unknown objective "fairest"/],
    ["an unknown policy", { unassignedPolicy: "random" }, /Unknown unassignedPolicy "random"/],
  ])("rejects %s", (_label, change, message) => {
    expect(() => solveAssignment({ ...valid, ...(change as Partial<AssignmentProblem>) })).toThrow(message);
  });
});

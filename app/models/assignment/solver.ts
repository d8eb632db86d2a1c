/**
 * Assignment solver: students -> topics with capacities, from rankings.
 *
 * Algorithm. Min-cost flow on the sparse graph
 *   source -> student -> topic (capacity c_t) -> sink
 * solved by successive shortest paths, one student at a time (the
 * Hungarian method for a rectangular problem), with Dijkstra on reduced
 * costs (Johnson potentials). Topics keep their capacity as a node
 * capacity: seats are never expanded into columns, so a search touches
 * topics (hundreds) rather than seats (thousands).
 *  - Every student also has a private "unplaced" arc whose cost U exceeds
 *    any possible sum of rank costs, so the optimum first places as many
 *    students as possible and only then optimises ranks.
 *  - A student matched to a topic can only be reached through that topic at
 *    reduced cost 0, so Dijkstra runs over topics alone and scans the
 *    members of each settled topic.
 *  - Rankings are stored best first and rank costs grow with the rank, and
 *    topic potentials are <= 0 (0 while a seat is free), so a student's scan
 *    stops at the first arc that cannot beat the best augmenting path found
 *    so far — usually right after its first topic with a free seat.
 *  - Dijkstra stops as soon as the cheapest open topic is no closer than the
 *    best path to a free seat; only settled nodes get new potentials.
 *
 * Exactness. All costs are integers:
 *  - linear:       rank r costs r; U = n*K + 1.
 *  - generous:     rank r costs B^(r-1) with B = (max placeable) + 1, so the
 *                  total is the reversed profile read as base-B digits.
 *  - rank-maximal: rank r costs B^(K-1) - B^(K-r); minimising the total with
 *                  the number placed fixed maximises sum n_r B^(K-r), the
 *                  profile read as base-B digits.
 * These totals compare exactly like the lexicographic orders they encode.
 * When every value the search can form stays below 2^53 the solver runs on
 * doubles; otherwise the same search runs on BigInt (exact, about 4x slower
 * per step; float weights such as 1001^9 would silently round). For
 * generous, ranks beyond the smallest achievable worst rank are pruned first
 * (binary search with a bipartite max-flow), which keeps B^K far smaller.
 *
 * Why not the alternatives: the dense Hungarian method on the seat-expanded
 * matrix is O(seats^3) and needs the whole matrix in memory (5,000 x 5,000
 * ints; 20,000 x 25,000 is out of reach); auction algorithms need
 * epsilon-scaling to be exact and degrade on skewed preferences; cost
 * vectors compared lexicographically cost O(ranks) per arc, more than a
 * BigInt of a few machine words.
 *
 * Ties are broken by a seeded shuffle of the order in which students enter
 * the search, so the same problem and seed give the same answer.
 */

export type Objective = "linear" | "generous" | "rank-maximal";
export type UnassignedPolicy = "leave" | "any-free-seat";

export interface AssignmentProblem {
  students: string[];
  topics: { id: string; capacity: number }[];
  /** Student id -> topic ids, most preferred first (may be partial or empty). */
  rankings: Record<string, string[]>;
  objective: Objective;
  unassignedPolicy?: UnassignedPolicy;
  seed?: number;
}

export interface AssignmentResult {
  /** Every student id; null when the student has no seat. */
  assignments: Record<string, string | null>;
  /** profile[r-1] = students placed on their r-th choice (policy seats excluded). */
  profile: number[];
  /** Students without a seat after the policy ran. */
  unassigned: string[];
  /** Students the any-free-seat policy put on a topic they did not rank. */
  placedByPolicy: string[];
  /** Students placed on a topic they ranked. */
  placedCount: number;
  /**
   * Exact decimal string, computed from the ranked placements only (policy
   * seats excluded), with B = number of students + 1 and K = profile.length:
   *  - linear: the sum of ranks (smaller is better);
   *  - generous: sum_r profile[r-1] * B^(r-1) (smaller is better);
   *  - rank-maximal: sum_r profile[r-1] * B^(K-r) (larger is better).
   * Compare values only between results with the same placedCount.
   */
  objectiveValue: string;
}

const OBJECTIVES: readonly Objective[] = ["linear", "generous", "rank-maximal"];
const POLICIES: readonly UnassignedPolicy[] = ["leave", "any-free-seat"];
/** Largest magnitude allowed for a cost when the search runs on doubles. */
const DOUBLE_SAFE_COST = 2 ** 48;

export interface SolverOptions {
  /**
   * "auto" (default) searches on doubles whenever every value fits exactly,
   * else on BigInt; "bigint" always uses BigInt (for tests of that path).
   */
  arithmetic?: "auto" | "bigint";
}

export function solveAssignment(problem: AssignmentProblem, options: SolverOptions = {}): AssignmentResult {
  const instance = compile(problem);
  const { studentCount, maxRank } = instance;
  const random = mulberry32(instance.seed);
  const order = shuffledRange(studentCount, random);

  // Counts per rank never exceed the number of students or of seats.
  let placeable = Math.min(studentCount, instance.capacity.reduce((sum, seats) => sum + seats, 0));
  let usableRank = maxRank;
  if (problem.objective === "generous") {
    placeable = maximumPlacements(instance, maxRank);
    usableRank = smallestWorstRank(instance, placeable);
  }
  const costs = rankCosts(problem.objective, Math.max(placeable, 1), usableRank, options.arithmetic ?? "auto");

  const topicOf =
    costs.kind === "number"
      ? searchWithNumbers(instance, order, costs.rank, costs.unplaced, usableRank)
      : searchWithBigInts(instance, order, costs.rank, costs.unplaced, usableRank);

  return buildResult(problem, instance, topicOf, random);
}

// ---------------------------------------------------------------- input

interface Instance {
  studentIds: string[];
  topicIds: string[];
  studentCount: number;
  topicCount: number;
  capacity: Int32Array;
  /** Arcs of student i are arcStart[i] .. arcStart[i+1]-1, best rank first. */
  arcStart: Int32Array;
  arcTopic: Int32Array;
  /** 1-based rank of the arc in the student's ranking. */
  arcRank: Int32Array;
  maxRank: number;
  seed: number;
  policy: UnassignedPolicy;
}

function compile(problem: AssignmentProblem): Instance {
  if (!OBJECTIVES.includes(problem.objective)) {
    throw new Error(`Unknown objective "${String(problem.objective)}" (expected ${OBJECTIVES.join(", ")})`);
  }
  const policy = problem.unassignedPolicy ?? "leave";
  if (!POLICIES.includes(policy)) {
    throw new Error(`Unknown unassignedPolicy "${String(policy)}" (expected ${POLICIES.join(", ")})`);
  }
  const seed = problem.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);

  const studentIndex = new Map<string, number>();
  problem.students.forEach((id, i) => {
    if (studentIndex.has(id)) throw new Error(`Duplicate student id "${id}"`);
    studentIndex.set(id, i);
  });
  const topicIndex = new Map<string, number>();
  const capacity = new Int32Array(problem.topics.length);
  problem.topics.forEach(({ id, capacity: seats }, j) => {
    if (topicIndex.has(id)) throw new Error(`Duplicate topic id "${id}"`);
    if (!Number.isInteger(seats) || seats < 0 || seats > 2 ** 31 - 1) {
      throw new Error(`Topic "${id}" has invalid capacity ${seats} (expected an integer >= 0)`);
    }
    topicIndex.set(id, j);
    capacity[j] = seats;
  });
  for (const id of Object.keys(problem.rankings)) {
    if (!studentIndex.has(id)) throw new Error(`Ranking given for unknown student "${id}"`);
  }

  const studentCount = problem.students.length;
  const arcStart = new Int32Array(studentCount + 1);
  const topics: number[] = [];
  const ranks: number[] = [];
  let maxRank = 0;
  const seen = new Int32Array(problem.topics.length).fill(-1);
  problem.students.forEach((student, i) => {
    const ranking = Object.hasOwn(problem.rankings, student) ? problem.rankings[student] : [];
    if (!Array.isArray(ranking)) throw new Error(`Ranking of student "${student}" is not a list`);
    ranking.forEach((topic, position) => {
      const j = topicIndex.get(topic);
      if (j === undefined) throw new Error(`Student "${student}" ranks unknown topic "${topic}"`);
      if (seen[j] === i) throw new Error(`Student "${student}" ranks topic "${topic}" more than once`);
      seen[j] = i;
      // A topic without seats can never be used; dropping its arc keeps ranks intact.
      if (capacity[j] === 0) return;
      topics.push(j);
      ranks.push(position + 1);
    });
    maxRank = Math.max(maxRank, ranking.length);
    arcStart[i + 1] = topics.length;
  });

  return {
    studentIds: problem.students,
    topicIds: problem.topics.map((topic) => topic.id),
    studentCount,
    topicCount: problem.topics.length,
    capacity,
    arcStart,
    arcTopic: Int32Array.from(topics),
    arcRank: Int32Array.from(ranks),
    maxRank,
    seed,
    policy,
  };
}

// ---------------------------------------------------------------- costs

type RankCosts =
  | { kind: "number"; rank: Float64Array; unplaced: number }
  | { kind: "bigint"; rank: bigint[]; unplaced: bigint };

/** rank[r-1] = cost of a placement on rank r; see the header for why these are exact. */
function rankCosts(
  objective: Objective,
  placeable: number,
  ranks: number,
  arithmetic: "auto" | "bigint",
): RankCosts {
  if (objective === "linear" && arithmetic === "auto") {
    const rank = Float64Array.from({ length: ranks }, (_, r) => r + 1);
    return { kind: "number", rank, unplaced: placeable * ranks + 1 };
  }
  const base = BigInt(placeable + 1);
  const power = (exponent: number) => base ** BigInt(exponent);
  if (objective === "linear") {
    const rank = Array.from({ length: ranks }, (_, r) => BigInt(r + 1));
    return { kind: "bigint", rank, unplaced: BigInt(placeable * ranks + 1) };
  }
  const rank = Array.from({ length: ranks }, (_, r) =>
    objective === "generous" ? power(r) : power(ranks - 1) - power(ranks - 1 - r),
  );
  const unplaced = power(ranks);
  if (arithmetic === "auto" && unplaced <= BigInt(DOUBLE_SAFE_COST)) {
    return { kind: "number", rank: Float64Array.from(rank, Number), unplaced: Number(unplaced) };
  }
  return { kind: "bigint", rank, unplaced };
}

// ---------------------------------------------------------------- max flow

/**
 * Size of a maximum placement using only arcs of rank <= rankLimit:
 * augmenting paths over topics with node capacities (BFS, Kuhn-style),
 * after a greedy start.
 */
function maximumPlacements(instance: Instance, rankLimit: number): number {
  const { studentCount, topicCount, capacity, arcStart, arcTopic, arcRank } = instance;
  const topicOf = new Int32Array(studentCount).fill(-1);
  const load = new Int32Array(topicCount);
  const members: number[][] = Array.from({ length: topicCount }, () => []);
  let placed = 0;
  for (let i = 0; i < studentCount; i++) {
    for (let a = arcStart[i]; a < arcStart[i + 1] && arcRank[a] <= rankLimit; a++) {
      const j = arcTopic[a];
      if (load[j] < capacity[j]) {
        load[j]++;
        members[j].push(i);
        topicOf[i] = j;
        placed++;
        break;
      }
    }
  }
  // A student with no augmenting path now never gets one later (Kuhn), so
  // one pass over the unplaced students suffices. Topics seen by a failed
  // search cannot reach a free seat either: they keep their mark until the
  // next augmentation changes the placement.
  const parentStudent = new Int32Array(topicCount);
  const visited = new Int32Array(topicCount);
  const queue = new Int32Array(topicCount);
  let stamp = 1;
  let tail = 0;
  const scan = (i: number) => {
    for (let a = arcStart[i]; a < arcStart[i + 1] && arcRank[a] <= rankLimit; a++) {
      const j = arcTopic[a];
      if (visited[j] === stamp || j === topicOf[i]) continue;
      visited[j] = stamp;
      parentStudent[j] = i;
      if (load[j] < capacity[j]) return j;
      queue[tail++] = j;
    }
    return -1;
  };
  for (let root = 0; root < studentCount; root++) {
    if (topicOf[root] !== -1) continue;
    let head = 0;
    tail = 0;
    let found = scan(root);
    while (found === -1 && head < tail) {
      const j = queue[head++];
      for (const i of members[j]) {
        found = scan(i);
        if (found !== -1) break;
      }
    }
    if (found === -1) continue;
    let j = found;
    for (;;) {
      const i = parentStudent[j];
      const previous = topicOf[i];
      members[j].push(i);
      load[j]++;
      topicOf[i] = j;
      if (previous === -1) break;
      const list = members[previous];
      list.splice(list.indexOf(i), 1);
      load[previous]--;
      j = previous;
    }
    placed++;
    stamp++;
  }
  return placed;
}

/** Smallest R such that ranks <= R alone still place `placeable` students. */
function smallestWorstRank(instance: Instance, placeable: number): number {
  let low = placeable === 0 ? 0 : 1;
  let high = instance.maxRank;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (maximumPlacements(instance, middle) === placeable) high = middle;
    else low = middle + 1;
  }
  return high;
}

// ---------------------------------------------------------------- search

/**
 * Successive shortest paths on doubles. Returns the topic index of every
 * student (-1 = unplaced). Arcs of rank > ranks are ignored.
 */
function searchWithNumbers(
  instance: Instance,
  order: Int32Array,
  rankCost: Float64Array,
  unplacedCost: number,
  ranks: number,
): Int32Array {
  const { studentCount, topicCount, capacity, arcStart, arcTopic, arcRank } = instance;
  const topicOf = new Int32Array(studentCount).fill(-1);
  const studentPotential = new Float64Array(studentCount);
  const topicPotential = new Float64Array(topicCount);
  const seats = new Seats(capacity, studentCount);

  const distance = new Float64Array(topicCount).fill(Infinity);
  const settled = new Uint8Array(topicCount);
  const predecessorStudent = new Int32Array(topicCount);
  const touched = new Int32Array(topicCount);
  const settledTopics = new Int32Array(topicCount);
  const heap = new NumberHeap(topicCount);

  for (const root of order) {
    let touchedCount = 0;
    let settledCount = 0;
    let best = unplacedCost;
    let bestTopic = -1;
    let bestUnplaced = root;

    const scan = (student: number, reached: number) => {
      const base = reached + studentPotential[student];
      if (base + unplacedCost < best) {
        best = base + unplacedCost;
        bestUnplaced = student;
        bestTopic = -1;
      }
      const own = topicOf[student];
      for (let a = arcStart[student], end = arcStart[student + 1]; a < end; a++) {
        const rank = arcRank[a];
        if (rank > ranks) break;
        const cost = base + rankCost[rank - 1];
        if (cost >= best) break; // topic potentials are <= 0: no later arc can do better
        const j = arcTopic[a];
        if (j === own || settled[j]) continue;
        const candidate = cost - topicPotential[j];
        if (candidate < distance[j]) {
          if (distance[j] === Infinity) touched[touchedCount++] = j;
          distance[j] = candidate;
          predecessorStudent[j] = student;
          heap.push(candidate, j);
          // A free seat has potential 0, so the path to the sink costs `cost`.
          if (seats.load[j] < capacity[j] && cost < best) {
            best = cost;
            bestTopic = j;
            bestUnplaced = -1;
          }
        }
      }
    };

    scan(root, 0);
    while (heap.size > 0) {
      const key = heap.topKey();
      const j = heap.pop();
      if (key >= best) break;
      if (settled[j] || key > distance[j]) continue;
      settled[j] = 1;
      settledTopics[settledCount++] = j;
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) scan(seats.member[s], key);
    }
    heap.clear();

    // New potentials (pi + min(d, best) - best) keep every reduced cost >= 0.
    studentPotential[root] -= best;
    for (let k = 0; k < settledCount; k++) {
      const j = settledTopics[k];
      const delta = distance[j] - best;
      topicPotential[j] += delta;
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) {
        studentPotential[seats.member[s]] += delta;
      }
    }

    augment(root, bestTopic, bestUnplaced, topicOf, seats, predecessorStudent);

    for (let k = 0; k < touchedCount; k++) {
      distance[touched[k]] = Infinity;
      settled[touched[k]] = 0;
    }
  }
  return topicOf;
}

/** The same search as searchWithNumbers, on BigInt costs. */
function searchWithBigInts(
  instance: Instance,
  order: Int32Array,
  rankCost: bigint[],
  unplacedCost: bigint,
  ranks: number,
): Int32Array {
  const { studentCount, topicCount, capacity, arcStart, arcTopic, arcRank } = instance;
  const topicOf = new Int32Array(studentCount).fill(-1);
  const studentPotential: bigint[] = new Array(studentCount).fill(0n);
  const topicPotential: bigint[] = new Array(topicCount).fill(0n);
  const seats = new Seats(capacity, studentCount);

  const distance: (bigint | null)[] = new Array(topicCount).fill(null);
  const settled = new Uint8Array(topicCount);
  const predecessorStudent = new Int32Array(topicCount);
  const touched = new Int32Array(topicCount);
  const settledTopics = new Int32Array(topicCount);
  const heap = new BigIntHeap();

  for (const root of order) {
    let touchedCount = 0;
    let settledCount = 0;
    let best = unplacedCost;
    let bestTopic = -1;
    let bestUnplaced = root;

    const scan = (student: number, reached: bigint) => {
      const base = reached + studentPotential[student];
      if (base + unplacedCost < best) {
        best = base + unplacedCost;
        bestUnplaced = student;
        bestTopic = -1;
      }
      // Compare rank costs against best - base: fewer BigInt allocations.
      let limit = best - base;
      const own = topicOf[student];
      for (let a = arcStart[student], end = arcStart[student + 1]; a < end; a++) {
        const rank = arcRank[a];
        if (rank > ranks) break;
        const rankCostHere = rankCost[rank - 1];
        if (rankCostHere >= limit) break;
        const j = arcTopic[a];
        if (j === own || settled[j]) continue;
        const candidate = base - topicPotential[j] + rankCostHere;
        const current = distance[j];
        if (current === null || candidate < current) {
          if (current === null) touched[touchedCount++] = j;
          distance[j] = candidate;
          predecessorStudent[j] = student;
          heap.push(candidate, j);
          if (seats.load[j] < capacity[j]) {
            best = base + rankCostHere;
            limit = rankCostHere;
            bestTopic = j;
            bestUnplaced = -1;
          }
        }
      }
    };

    scan(root, 0n);
    while (heap.size > 0) {
      const key = heap.topKey();
      const j = heap.pop();
      if (key >= best) break;
      if (settled[j] || key !== distance[j]) continue;
      settled[j] = 1;
      settledTopics[settledCount++] = j;
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) scan(seats.member[s], key);
    }
    heap.clear();

    studentPotential[root] -= best;
    for (let k = 0; k < settledCount; k++) {
      const j = settledTopics[k];
      const delta = (distance[j] as bigint) - best;
      topicPotential[j] += delta;
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) {
        studentPotential[seats.member[s]] += delta;
      }
    }

    augment(root, bestTopic, bestUnplaced, topicOf, seats, predecessorStudent);

    for (let k = 0; k < touchedCount; k++) {
      distance[touched[k]] = null;
      settled[touched[k]] = 0;
    }
  }
  return topicOf;
}

/**
 * Shifts students along the shortest path: the path's last student moves to
 * the free seat (or to "unplaced"), every student before it takes the seat
 * vacated by the next, and the root takes the first seat.
 */
function augment(
  root: number,
  bestTopic: number,
  bestUnplaced: number,
  topicOf: Int32Array,
  seats: Seats,
  predecessorStudent: Int32Array,
) {
  let student = bestUnplaced >= 0 ? bestUnplaced : predecessorStudent[bestTopic];
  let target = bestUnplaced >= 0 ? -1 : bestTopic;
  for (;;) {
    const previous = topicOf[student];
    if (previous >= 0) seats.remove(previous, student);
    if (target >= 0) seats.add(target, student);
    topicOf[student] = target;
    if (student === root || previous < 0) break;
    target = previous;
    student = predecessorStudent[previous];
  }
}

/** Members of each topic in one flat array (a slot range per topic). */
class Seats {
  readonly start: Int32Array;
  readonly load: Int32Array;
  readonly member: Int32Array;
  private readonly slot: Int32Array;

  constructor(capacity: Int32Array, studentCount: number) {
    this.start = new Int32Array(capacity.length + 1);
    for (let j = 0; j < capacity.length; j++) {
      this.start[j + 1] = this.start[j] + Math.min(capacity[j], studentCount);
    }
    this.load = new Int32Array(capacity.length);
    this.member = new Int32Array(this.start[capacity.length]);
    this.slot = new Int32Array(studentCount);
  }

  add(topic: number, student: number) {
    const position = this.start[topic] + this.load[topic]++;
    this.member[position] = student;
    this.slot[student] = position;
  }

  remove(topic: number, student: number) {
    const last = this.start[topic] + --this.load[topic];
    const position = this.slot[student];
    const moved = this.member[last];
    this.member[position] = moved;
    this.slot[moved] = position;
  }
}

/** Binary min-heap of (key, topic) with lazy deletion. */
class NumberHeap {
  size = 0;
  private keys: Float64Array;
  private values: Int32Array;

  constructor(initialCapacity: number) {
    this.keys = new Float64Array(Math.max(16, initialCapacity));
    this.values = new Int32Array(this.keys.length);
  }

  clear() {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0];
  }

  push(key: number, value: number) {
    if (this.size === this.keys.length) {
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      const values = new Int32Array(this.size * 2);
      values.set(this.values);
      this.keys = keys;
      this.values = values;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent] <= key) break;
      this.keys[i] = this.keys[parent];
      this.values[i] = this.values[parent];
      i = parent;
    }
    this.keys[i] = key;
    this.values[i] = value;
  }

  pop(): number {
    const top = this.values[0];
    const size = --this.size;
    const key = this.keys[size];
    const value = this.values[size];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.keys[child + 1] < this.keys[child]) child++;
      if (this.keys[child] >= key) break;
      this.keys[i] = this.keys[child];
      this.values[i] = this.values[child];
      i = child;
    }
    this.keys[i] = key;
    this.values[i] = value;
    return top;
  }
}

class BigIntHeap {
  size = 0;
  private keys: bigint[] = [];
  private values: number[] = [];

  clear() {
    this.size = 0;
    this.keys.length = 0;
    this.values.length = 0;
  }

  topKey(): bigint {
    return this.keys[0];
  }

  push(key: bigint, value: number) {
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent] <= key) break;
      this.keys[i] = this.keys[parent];
      this.values[i] = this.values[parent];
      i = parent;
    }
    this.keys[i] = key;
    this.values[i] = value;
  }

  pop(): number {
    const top = this.values[0];
    const size = --this.size;
    const key = this.keys[size];
    const value = this.values[size];
    this.keys.length = size;
    this.values.length = size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.keys[child + 1] < this.keys[child]) child++;
      if (this.keys[child] >= key) break;
      this.keys[i] = this.keys[child];
      this.values[i] = this.values[child];
      i = child;
    }
    if (i < size) {
      this.keys[i] = key;
      this.values[i] = value;
    }
    return top;
  }
}

// ---------------------------------------------------------------- result

function buildResult(
  problem: AssignmentProblem,
  instance: Instance,
  topicOf: Int32Array,
  random: () => number,
): AssignmentResult {
  const { studentIds, topicIds, studentCount, capacity, arcStart, arcTopic, arcRank, maxRank } = instance;
  const profile = new Array<number>(maxRank).fill(0);
  const assignments: Record<string, string | null> = {};
  const load = new Int32Array(instance.topicCount);
  let placedCount = 0;
  for (let i = 0; i < studentCount; i++) {
    const j = topicOf[i];
    assignments[studentIds[i]] = j >= 0 ? topicIds[j] : null;
    if (j < 0) continue;
    load[j]++;
    placedCount++;
    for (let a = arcStart[i]; a < arcStart[i + 1]; a++) {
      if (arcTopic[a] === j) profile[arcRank[a] - 1]++;
    }
  }

  const placedByPolicy: string[] = [];
  if (instance.policy === "any-free-seat") {
    // Students left out had every ranked topic full, so any free seat is one
    // they did not rank. Hand them out round-robin over a seeded topic order.
    const topicOrder = shuffledRange(instance.topicCount, random);
    const waiting = shuffledRange(studentCount, random).filter((i) => topicOf[i] < 0);
    let cursor = 0;
    for (const i of waiting) {
      let tries = 0;
      while (tries < topicOrder.length && load[topicOrder[cursor]] >= capacity[topicOrder[cursor]]) {
        cursor = (cursor + 1) % topicOrder.length;
        tries++;
      }
      if (tries === topicOrder.length) break;
      const j = topicOrder[cursor];
      load[j]++;
      assignments[studentIds[i]] = topicIds[j];
      placedByPolicy.push(studentIds[i]);
      cursor = (cursor + 1) % topicOrder.length;
    }
  }

  return {
    assignments,
    profile,
    unassigned: problem.students.filter((id) => assignments[id] === null),
    placedByPolicy,
    placedCount,
    objectiveValue: objectiveValue(problem.objective, profile, studentCount),
  };
}

/** See AssignmentResult.objectiveValue. */
export function objectiveValue(objective: Objective, profile: number[], studentCount: number): string {
  const base = BigInt(studentCount + 1);
  let total = 0n;
  profile.forEach((count, r) => {
    if (objective === "linear") total += BigInt(count) * BigInt(r + 1);
    else if (objective === "generous") total += BigInt(count) * base ** BigInt(r);
    else total += BigInt(count) * base ** BigInt(profile.length - 1 - r);
  });
  return total.toString();
}

// ---------------------------------------------------------------- random

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffledRange(length: number, random: () => number): Int32Array {
  const values = Int32Array.from({ length }, (_, i) => i);
  for (let i = length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    const swap = values[i];
    values[i] = values[k];
    values[k] = swap;
  }
  return values;
}

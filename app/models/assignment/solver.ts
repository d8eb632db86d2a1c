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
 * Exactness. All costs are integers, and every objective is a
 * lexicographic order on a few counts ("levels"):
 *  - linear:       one level; rank r costs r, U = n*K + 1.
 *  - generous:     levels unplaced, n_R, n_(R-1), ..., n_2 (minimised in
 *                  that order); R is the smallest worst rank that still
 *                  places everyone placeable, found first by a max-flow
 *                  grown rank by rank (Hopcroft-Karp), and arcs of rank > R
 *                  are dropped.
 *  - rank-maximal: levels unplaced, placed - n_1, -n_2, ..., -n_(K-1).
 *  n_1 (generous) and n_K (rank-maximal) follow from the others once the
 *  number placed is fixed, so they need no level. A cost is a vector of
 *  limbs compared lexicographically (one limb runs as a plain double).
 *  Consecutive levels share a limb as base-B digits, B = (max placeable) + 1
 *  > any count, as many as keep a limb below 2^46. A limb is a double
 *  holding an exact integer: the search checks every potential and settled
 *  distance against 2^50, so every sum it forms stays below 2^53. Long
 *  vectors stay on doubles too (rank-maximal over 500 ranks of 5,000
 *  students needs 167 limbs): a reached topic's tentative distance is not
 *  stored but formed limb by limb from its predecessor, only as far as a
 *  comparison needs (nearly always the first limb or two), so relaxing an
 *  arc costs about the same at 2 limbs or 167; only settled topics get a
 *  full row. Past 2^50, or when the rows would take more than 64 MB, the
 *  same search runs on one BigInt per cost (rank r costs B^(r-1) resp.
 *  B^(K-1) - B^(K-r), the profile read as base-B digits), which allocates
 *  on every addition and is about 2x slower there. Floats of magnitude 1001^9
 *  would silently round; limbs never do.
 *  The limb search keeps potentials on topics only (a placed student's
 *  follows from its seat) and, whenever the searches since the last time
 *  have scanned four times as many arcs as a refresh reads (the arcs of
 *  usable rank), recomputes them exactly by a reverse Dijkstra from the
 *  sink (each topic's cost to free a seat). With lexicographic costs a
 *  search otherwise floods every topic reachable by moves that only touch
 *  lower levels. Four: on the benchmark, pacing at 1x or 2x refreshed more
 *  than it saved, and refreshing then adds at most about a quarter to the
 *  search work.
 *
 * Why not the alternatives: the dense Hungarian method on the seat-expanded
 * matrix is O(seats^3) and needs the whole matrix in memory (5,000 x 5,000
 * ints; 20,000 x 25,000 is out of reach); auction algorithms need
 * epsilon-scaling to be exact and degrade on skewed preferences; a
 * primal-dual variant (one Dijkstra from all waiting students, then a
 * max-flow on zero-cost arcs) was tried and ran 5-10x slower here: the
 * lexicographic levels give hundreds of distinct path costs, each needing
 * its own round over a large zero-cost region.
 *
 * Ties are broken by a seeded shuffle of the order in which students enter
 * the search (for generous, students whose top three choices are all
 * crowded go first; see processingOrder), so the same problem and seed give
 * the same answer.
 */

import { seededRandom } from "../../utils/random";

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
/** Largest value of one limb of a cost (see limbCosts). */
const LIMB_RANGE = 2 ** 46;
/**
 * Largest magnitude of a settled distance or a potential on doubles: every
 * value a search forms sums at most three such terms and two costs, which
 * stays below 2^52 and so exact.
 */
const EXACT_LIMIT = 2 ** 50;
/**
 * Vectors whose rows for every student, topic and rank would hold more
 * doubles than this (64 MB) search on BigInt instead.
 */
const MAX_LIMB_CELLS = 2 ** 23;
/** How many of a student's choices processingOrder looks at (see there). */
const CONTENTION_CHOICES = 3;

export interface SolverOptions {
  /**
   * "auto" (default): doubles, as one number or as a vector of limbs, with
   * BigInt only when the vector would be long or a value outgrows 2^50;
   * "limbs": always the limb-vector search, one level per limb (for tests of
   * that path); "bigint": always BigInt.
   */
  arithmetic?: "auto" | "limbs" | "bigint";
}

export function solveAssignment(problem: AssignmentProblem, options: SolverOptions = {}): AssignmentResult {
  const instance = compile(problem);
  const { studentCount, maxRank } = instance;
  const arithmetic = options.arithmetic ?? "auto";
  const random = seededRandom(instance.seed);
  const order = processingOrder(instance, problem.objective, random);

  // Counts per rank never exceed the number of students or of seats.
  let placeable = Math.min(studentCount, instance.capacity.reduce((sum, seats) => sum + seats, 0));
  let usableRank = maxRank;
  if (problem.objective === "generous") {
    ({ placeable, worstRank: usableRank } = smallestWorstRank(instance));
  }
  placeable = Math.max(placeable, 1);

  let topicOf: Int32Array | null = null;
  if (arithmetic !== "bigint") {
    const costs = limbCosts(problem.objective, placeable, usableRank, arithmetic === "limbs" ? 1 : undefined);
    const cells = (studentCount + 4 * instance.topicCount + usableRank) * costs.limbs;
    if (arithmetic === "limbs" || (costs.limbs > 1 && cells <= MAX_LIMB_CELLS)) {
      topicOf = searchWithLimbs(instance, order, costs, usableRank);
    } else if (costs.limbs === 1) {
      topicOf = searchWithNumbers(instance, order, costs.rank, costs.unplaced[0], usableRank);
    }
  }
  if (topicOf === null) {
    const costs = bigintCosts(problem.objective, placeable, usableRank);
    topicOf = searchWithBigInts(instance, order, costs.rank, costs.unplaced, usableRank);
  }
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

/**
 * Costs as vectors of `limbs` doubles compared lexicographically, for the
 * search on doubles. rank[(r-1)*limbs + l] is limb l of the cost of rank r.
 */
interface LimbCosts {
  limbs: number;
  rank: Float64Array;
  unplaced: Float64Array;
}

/**
 * The objective as levels, most significant first: level 0 counts unplaced
 * students; generous then counts ranks R, R-1, ..., 2; rank-maximal counts
 * placed students not on a 1st choice, then (negated) 2nd, 3rd, ... K-1th
 * choices. The last rank is implied by the others once the number placed is
 * fixed, so it needs no level. Every cost is >= 0 and grows with the rank.
 * Consecutive levels share a limb as base-B digits (B = placeable + 1 > any
 * count, so a digit never spills into the next); levelsPerLimb defaults to
 * as many as keep a limb below 2^46.
 */
function limbCosts(objective: Objective, placeable: number, ranks: number, levelsPerLimb?: number): LimbCosts {
  if (objective === "linear") {
    const rank = Float64Array.from({ length: ranks }, (_, r) => r + 1);
    return { limbs: 1, rank, unplaced: Float64Array.of(placeable * ranks + 1) };
  }
  const base = placeable + 1;
  let perLimb = levelsPerLimb ?? 1;
  if (levelsPerLimb === undefined) while (base ** (perLimb + 1) <= LIMB_RANGE) perLimb++;
  const levels = Math.max(ranks, 1);
  const limbs = Math.ceil(levels / perLimb);
  const addUnit = (vector: Float64Array, offset: number, level: number, sign: number) => {
    vector[offset + Math.floor(level / perLimb)] += sign * base ** (perLimb - 1 - (level % perLimb));
  };
  const unplaced = new Float64Array(limbs);
  addUnit(unplaced, 0, 0, 1);
  const rank = new Float64Array(ranks * limbs);
  for (let r = 2; r <= ranks; r++) {
    const offset = (r - 1) * limbs;
    if (objective === "generous") {
      addUnit(rank, offset, 1 + ranks - r, 1);
    } else {
      addUnit(rank, offset, 1, 1);
      if (r < ranks) addUnit(rank, offset, r, -1);
    }
  }
  return { limbs, rank, unplaced };
}

/** The header's single-number encoding, on BigInt. */
function bigintCosts(objective: Objective, placeable: number, ranks: number): { rank: bigint[]; unplaced: bigint } {
  if (objective === "linear") {
    const rank = Array.from({ length: ranks }, (_, r) => BigInt(r + 1));
    return { rank, unplaced: BigInt(placeable * ranks + 1) };
  }
  const base = BigInt(placeable + 1);
  // Powers by repeated multiplication: exponentiating afresh per rank costs seconds at 500 ranks.
  const power: bigint[] = [1n];
  for (let k = 1; k <= ranks; k++) power.push(power[k - 1] * base);
  const rank = Array.from({ length: ranks }, (_, r) =>
    objective === "generous" ? power[r] : power[ranks - 1] - power[ranks - 1 - r],
  );
  return { rank, unplaced: power[ranks] };
}

// ---------------------------------------------------------------- max flow

/**
 * Generous only: the smallest worst rank R that still places as many
 * students as all ranks together, and that number. One bipartite max-flow
 * grows rank by rank: level R augments the level R-1 flow with paths that
 * may use arcs of rank <= R, so the whole scan costs about one max-flow.
 * Each level runs Hopcroft-Karp phases (topics are nodes with capacities):
 * a BFS layers the students from the unplaced ones, then a depth-first
 * search per unplaced student follows the layers to a free seat.
 */
function smallestWorstRank(instance: Instance): { placeable: number; worstRank: number } {
  const { studentCount, topicCount, capacity, arcStart, arcTopic, arcRank, maxRank } = instance;
  let upperBound = 0;
  for (let i = 0; i < studentCount; i++) if (arcStart[i + 1] > arcStart[i]) upperBound++;
  upperBound = Math.min(
    upperBound,
    capacity.reduce((sum, seats) => sum + seats, 0),
  );

  const topicOf = new Int32Array(studentCount).fill(-1);
  const seats = new Seats(capacity, studentCount);
  const layer = new Int32Array(studentCount);
  const queue = new Int32Array(studentCount);
  /** Phase in which a topic's members were queued (BFS) or found useless (DFS). */
  const topicSeen = new Int32Array(topicCount);
  const topicDead = new Int32Array(topicCount);
  /** Layer of the students that reach a full topic; its members are one layer deeper. */
  const topicLayer = new Int32Array(topicCount);
  const stack = new Int32Array(studentCount);
  const nextArc = new Int32Array(studentCount);
  const nextMember = new Int32Array(studentCount);
  const unreached = 2 ** 30;
  let phase = 0;
  let placed = 0;

  /** Layers the students; true when some layered path reaches a free seat. */
  const layerStudents = (rankLimit: number): boolean => {
    phase++;
    let head = 0;
    let tail = 0;
    for (let i = 0; i < studentCount; i++) {
      if (topicOf[i] === -1 && arcStart[i + 1] > arcStart[i]) {
        layer[i] = 0;
        queue[tail++] = i;
      } else {
        layer[i] = unreached;
      }
    }
    let freeLayer = unreached;
    while (head < tail) {
      const i = queue[head++];
      if (layer[i] >= freeLayer) break;
      for (let a = arcStart[i], end = arcStart[i + 1]; a < end && arcRank[a] <= rankLimit; a++) {
        const j = arcTopic[a];
        if (j === topicOf[i]) continue;
        if (seats.load[j] < capacity[j]) {
          freeLayer = layer[i];
          continue;
        }
        if (topicSeen[j] === phase) continue;
        topicSeen[j] = phase;
        topicLayer[j] = layer[i];
        for (let s = seats.start[j], last = s + seats.load[j]; s < last; s++) {
          const k = seats.member[s];
          if (layer[k] === unreached) {
            layer[k] = layer[i] + 1;
            queue[tail++] = k;
          }
        }
      }
    }
    return freeLayer !== unreached;
  };

  /** Depth-first along the layers from an unplaced root; moves the path's students on success. */
  const augmentFrom = (root: number, rankLimit: number): boolean => {
    let depth = 0;
    stack[0] = root;
    nextArc[root] = arcStart[root];
    nextMember[root] = 0;
    while (depth >= 0) {
      const i = stack[depth];
      let child = -1;
      for (const end = arcStart[i + 1]; nextArc[i] < end && arcRank[nextArc[i]] <= rankLimit; ) {
        const j = arcTopic[nextArc[i]];
        if (j === topicOf[i] || topicDead[j] === phase) {
          nextArc[i]++;
          nextMember[i] = 0;
          continue;
        }
        if (seats.load[j] < capacity[j]) {
          // Walk back up the stack: each student takes the seat the one above it leaves.
          let target = j;
          for (let d = depth; d >= 0; d--) {
            const student = stack[d];
            const previous = topicOf[student];
            if (previous >= 0) seats.remove(previous, student);
            seats.add(target, student);
            topicOf[student] = target;
            target = previous;
          }
          placed++;
          return true;
        }
        if (topicSeen[j] !== phase || topicLayer[j] !== layer[i]) {
          nextArc[i]++;
          nextMember[i] = 0;
          continue;
        }
        const start = seats.start[j];
        while (nextMember[i] < seats.load[j]) {
          const k = seats.member[start + nextMember[i]++];
          if (layer[k] === layer[i] + 1) {
            child = k;
            break;
          }
        }
        if (child >= 0) break;
        topicDead[j] = phase;
        nextArc[i]++;
        nextMember[i] = 0;
      }
      if (child >= 0) {
        stack[++depth] = child;
        nextArc[child] = arcStart[child];
        nextMember[child] = 0;
      } else {
        layer[i] = unreached;
        depth--;
      }
    }
    return false;
  };

  let placedAtLimit = 0;
  let worstRank = 0;
  for (let rankLimit = 1; rankLimit <= maxRank && placed < upperBound; rankLimit++) {
    while (placed < upperBound && layerStudents(rankLimit)) {
      for (let root = 0; root < studentCount && placed < upperBound; root++) {
        if (topicOf[root] === -1 && layer[root] === 0) augmentFrom(root, rankLimit);
      }
    }
    if (placed > placedAtLimit) {
      placedAtLimit = placed;
      worstRank = rankLimit;
    }
  }
  return { placeable: placed, worstRank };
}

// ---------------------------------------------------------------- search

/**
 * Successive shortest paths on doubles. Returns the topic index of every
 * student (-1 = unplaced), or null when a value outgrew EXACT_LIMIT. Arcs of
 * rank > ranks are ignored.
 */
function searchWithNumbers(
  instance: Instance,
  order: Int32Array,
  rankCost: Float64Array,
  unplacedCost: number,
  ranks: number,
): Int32Array | null {
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
      if (Math.abs(key) > EXACT_LIMIT) return null;
      settled[j] = 1;
      settledTopics[settledCount++] = j;
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) scan(seats.member[s], key);
    }
    heap.clear();

    // New potentials (pi + min(d, best) - best) keep every reduced cost >= 0.
    studentPotential[root] -= best;
    let largest = Math.abs(studentPotential[root]);
    for (let k = 0; k < settledCount; k++) {
      const j = settledTopics[k];
      const delta = distance[j] - best;
      topicPotential[j] += delta;
      largest = Math.max(largest, Math.abs(topicPotential[j]));
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) {
        studentPotential[seats.member[s]] += delta;
        largest = Math.max(largest, Math.abs(studentPotential[seats.member[s]]));
      }
    }
    if (largest > EXACT_LIMIT) return null;

    augment(root, bestTopic, bestUnplaced, topicOf, seats, predecessorStudent);

    for (let k = 0; k < touchedCount; k++) {
      distance[touched[k]] = Infinity;
      settled[touched[k]] = 0;
    }
  }
  return topicOf;
}

/**
 * The same search on cost vectors of `limbs` doubles, compared
 * lexicographically (an ordered group, so Dijkstra and potentials work
 * unchanged). Row k of an array holds the vector of node k.
 *
 * Only topics carry potentials: a placed student's is implied by its seat
 * (p(student) = p(topic) - c(its rank), so its matched arc has reduced cost
 * 0), and a student waiting to be processed has 0.
 *
 * Lexicographic costs make the plain search flood: any chain of moves that
 * only touches lower levels is cheaper than the path the student finally
 * takes, so every topic such a chain reaches gets settled. Exact potentials
 * (minus each topic's cost to free a seat) stop that: then a root settles
 * only the topics on or tied with its shortest path. So whenever the searches
 * since the last refresh have done about as much work as one pass over all
 * arcs, one reverse Dijkstra from the sink recomputes them exactly.
 * Returns null when a limb outgrew EXACT_LIMIT.
 */
function searchWithLimbs(instance: Instance, order: Int32Array, costs: LimbCosts, ranks: number): Int32Array | null {
  const { studentCount, topicCount, capacity, arcStart, arcTopic, arcRank } = instance;
  const { limbs, rank: rankCost, unplaced } = costs;
  const topicOf = new Int32Array(studentCount).fill(-1);
  /** Row of the student's rank in rankCost while it holds a seat. */
  const seatCostRow = new Int32Array(studentCount);
  const topicPotential = new Float64Array(topicCount * limbs);
  const seats = new Seats(capacity, studentCount);

  /**
   * Path cost plus potential of each student scanned in the current search.
   * A reached topic's tentative distance is never stored: it is
   * base(predecessor) + c(arc) - p(topic), formed limb by limb only as far as
   * a comparison needs (usually the first limb), and written out in full
   * once the topic is settled. With long vectors (rank-maximal over hundreds
   * of ranks) this is what keeps an arc relaxation cheap.
   */
  const studentBase = new Float64Array(studentCount * limbs);
  const distance = new Float64Array(topicCount * limbs);
  /** 0 = not reached in this search, 1 = in the heap, 2 = settled. */
  const state = new Uint8Array(topicCount);
  const predecessorStudent = new Int32Array(topicCount);
  const predecessorCostRow = new Int32Array(topicCount);
  const touched = new Int32Array(topicCount);
  const settledTopics = new Int32Array(topicCount);
  const best = new Float64Array(limbs);
  let touchedCount = 0;
  let bestTopic = -1;
  let bestUnplaced = -1;
  let work = 0;

  /** Whether topic a's tentative distance is below topic b's. */
  const keyLess = (a: number, b: number): boolean => {
    const aBase = predecessorStudent[a] * limbs;
    const bBase = predecessorStudent[b] * limbs;
    const aCost = predecessorCostRow[a];
    const bCost = predecessorCostRow[b];
    const aRow = a * limbs;
    const bRow = b * limbs;
    for (let l = 0; l < limbs; l++) {
      const x = studentBase[aBase + l] + rankCost[aCost + l] - topicPotential[aRow + l];
      const y = studentBase[bBase + l] + rankCost[bCost + l] - topicPotential[bRow + l];
      if (x !== y) return x < y;
    }
    return false;
  };
  const heap = new VectorHeap(topicCount, keyLess);

  /** Whether topic j's tentative distance is below best. */
  const belowBest = (j: number): boolean => {
    const baseRow = predecessorStudent[j] * limbs;
    const costRow = predecessorCostRow[j];
    const row = j * limbs;
    for (let l = 0; l < limbs; l++) {
      const x = studentBase[baseRow + l] + rankCost[costRow + l] - topicPotential[row + l];
      if (x !== best[l]) return x < best[l];
    }
    return false;
  };

  /** Relaxes the arcs of a student whose base row is written. */
  const scan = (student: number) => {
    const baseRow = student * limbs;
    for (let l = 0; l < limbs; l++) {
      const value = studentBase[baseRow + l] + unplaced[l];
      if (value === best[l]) continue;
      if (value < best[l]) {
        for (let k = 0; k < limbs; k++) best[k] = studentBase[baseRow + k] + unplaced[k];
        bestUnplaced = student;
        bestTopic = -1;
      }
      break;
    }
    const own = topicOf[student];
    for (let a = arcStart[student], end = arcStart[student + 1]; a < end; a++) {
      work++;
      const rank = arcRank[a];
      if (rank > ranks) break;
      const costRow = (rank - 1) * limbs;
      // Topic potentials are <= 0: once base + cost reaches best, no later arc can do better.
      let below = false;
      for (let l = 0; l < limbs; l++) {
        const value = studentBase[baseRow + l] + rankCost[costRow + l];
        if (value !== best[l]) {
          below = value < best[l];
          break;
        }
      }
      if (!below) break;
      const j = arcTopic[a];
      if (j === own || state[j] === 2) continue;
      // A topic no closer than best would never be settled: keep it out of the heap.
      const topicRow = j * limbs;
      let useful = false;
      for (let l = 0; l < limbs; l++) {
        const value = studentBase[baseRow + l] + rankCost[costRow + l] - topicPotential[topicRow + l];
        if (value !== best[l]) {
          useful = value < best[l];
          break;
        }
      }
      if (!useful) continue;
      if (state[j] === 1) {
        // p(j) cancels: compare base + cost of the two arcs into j.
        const otherBase = predecessorStudent[j] * limbs;
        const otherCost = predecessorCostRow[j];
        let improves = false;
        for (let l = 0; l < limbs; l++) {
          const x = studentBase[baseRow + l] + rankCost[costRow + l];
          const y = studentBase[otherBase + l] + rankCost[otherCost + l];
          if (x !== y) {
            improves = x < y;
            break;
          }
        }
        if (!improves) continue;
      }
      predecessorStudent[j] = student;
      predecessorCostRow[j] = costRow;
      if (state[j] === 0) {
        state[j] = 1;
        touched[touchedCount++] = j;
        heap.insert(j);
      } else {
        heap.decrease(j);
      }
      // A free seat has potential 0, so the path to the sink costs base + cost.
      if (seats.load[j] < capacity[j]) {
        for (let l = 0; l < limbs; l++) best[l] = studentBase[baseRow + l] + rankCost[costRow + l];
        bestTopic = j;
        bestUnplaced = -1;
      }
    }
  };

  const refresh = refreshPotentials(instance, costs, ranks, topicOf, seatCostRow, seats, topicPotential);
  // A refresh reads every arc of usable rank once; pacing by all arcs instead
  // refreshed generous on 500-rank rankings (worst rank 11) 45x too rarely.
  let usableArcs = 0;
  for (let a = 0; a < arcRank.length; a++) if (arcRank[a] <= ranks) usableArcs++;
  const workBetweenRefreshes = 4 * (usableArcs + topicCount);

  for (const root of order) {
    if (work > workBetweenRefreshes) {
      if (!refresh()) return null;
      work = 0;
    }
    touchedCount = 0;
    let settledCount = 0;
    best.set(unplaced);
    bestTopic = -1;
    bestUnplaced = root;

    studentBase.fill(0, root * limbs, (root + 1) * limbs);
    scan(root);
    while (heap.size > 0) {
      const j = heap.top();
      if (!belowBest(j)) break;
      heap.pop();
      const row = j * limbs;
      const fromRow = predecessorStudent[j] * limbs;
      const costRow = predecessorCostRow[j];
      for (let l = 0; l < limbs; l++) {
        const value = studentBase[fromRow + l] + rankCost[costRow + l] - topicPotential[row + l];
        if (Math.abs(value) > EXACT_LIMIT) return null;
        distance[row + l] = value;
      }
      state[j] = 2;
      settledTopics[settledCount++] = j;
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) {
        const member = seats.member[s];
        const memberRow = member * limbs;
        const seatRow = seatCostRow[member];
        for (let l = 0; l < limbs; l++) {
          studentBase[memberRow + l] = distance[row + l] + topicPotential[row + l] - rankCost[seatRow + l];
        }
        scan(member);
      }
    }
    heap.clear();

    let largest = 0;
    for (let k = 0; k < settledCount; k++) {
      const row = settledTopics[k] * limbs;
      for (let l = 0; l < limbs; l++) {
        topicPotential[row + l] += distance[row + l] - best[l];
        largest = Math.max(largest, Math.abs(topicPotential[row + l]));
      }
    }
    if (largest > EXACT_LIMIT) return null;

    // Along the path each student takes the seat its predecessor arc points at.
    let student = bestUnplaced >= 0 ? bestUnplaced : predecessorStudent[bestTopic];
    let target = bestUnplaced >= 0 ? -1 : bestTopic;
    for (;;) {
      const previous = topicOf[student];
      if (previous >= 0) seats.remove(previous, student);
      if (target >= 0) {
        seats.add(target, student);
        seatCostRow[student] = predecessorCostRow[target];
      }
      topicOf[student] = target;
      if (student === root || previous < 0) break;
      target = previous;
      student = predecessorStudent[previous];
    }

    for (let k = 0; k < touchedCount; k++) state[touched[k]] = 0;
  }
  return topicOf;
}

/**
 * Returns a function that replaces every topic potential by minus the exact
 * cost of freeing one of its seats (reverse Dijkstra from the sink over
 * "a member moves to another topic" and "a member leaves" steps, on reduced
 * costs). Those potentials are feasible: costs never go negative because
 * the placement is optimal for the students processed so far (no negative
 * cycle), and free seats keep 0. Returns false when a limb outgrew
 * EXACT_LIMIT.
 */
function refreshPotentials(
  instance: Instance,
  costs: LimbCosts,
  ranks: number,
  topicOf: Int32Array,
  seatCostRow: Int32Array,
  seats: Seats,
  topicPotential: Float64Array,
): () => boolean {
  const { studentCount, topicCount, capacity, arcStart, arcTopic, arcRank } = instance;
  const { limbs, rank: rankCost, unplaced } = costs;
  // Arcs grouped by topic: who could move into each topic, at which rank.
  const inStart = new Int32Array(topicCount + 1);
  for (let i = 0; i < studentCount; i++) {
    for (let a = arcStart[i]; a < arcStart[i + 1] && arcRank[a] <= ranks; a++) inStart[arcTopic[a] + 1]++;
  }
  for (let j = 0; j < topicCount; j++) inStart[j + 1] += inStart[j];
  const inStudent = new Int32Array(inStart[topicCount]);
  const inCostRow = new Int32Array(inStart[topicCount]);
  const fill = inStart.slice(0, topicCount);
  for (let i = 0; i < studentCount; i++) {
    for (let a = arcStart[i]; a < arcStart[i + 1] && arcRank[a] <= ranks; a++) {
      const k = fill[arcTopic[a]]++;
      inStudent[k] = i;
      inCostRow[k] = (arcRank[a] - 1) * limbs;
    }
  }

  const freeing = new Float64Array(topicCount * limbs);
  const state = new Uint8Array(topicCount);
  const heap = new VectorHeap(topicCount, (a, b) => lexicographicallyLess(freeing, a * limbs, freeing, b * limbs, limbs));
  const candidate = new Float64Array(limbs);
  const zeroVector = new Float64Array(limbs);

  const offer = (j: number) => {
    const row = j * limbs;
    if (state[j] === 2 || (state[j] === 1 && !lexicographicallyLess(candidate, 0, freeing, row, limbs))) return;
    // A copy loop: TypedArray.set costs more than it moves for a few limbs.
    for (let l = 0; l < limbs; l++) freeing[row + l] = candidate[l];
    if (state[j] === 0) {
      state[j] = 1;
      heap.insert(j);
    } else {
      heap.decrease(j);
    }
  };

  return () => {
    state.fill(0);
    for (let j = 0; j < topicCount; j++) {
      if (capacity[j] === 0) continue;
      const row = j * limbs;
      if (seats.load[j] < capacity[j]) {
        candidate.fill(0);
        offer(j);
        continue;
      }
      // A member leaving for good: U - c(its rank), reduced by p(j).
      for (let s = seats.start[j], end = s + seats.load[j]; s < end; s++) {
        const costRow = seatCostRow[seats.member[s]];
        for (let l = 0; l < limbs; l++) {
          candidate[l] = unplaced[l] - rankCost[costRow + l] + topicPotential[row + l];
        }
        offer(j);
      }
    }
    while (heap.size > 0) {
      const next = heap.pop();
      state[next] = 2;
      const nextRow = next * limbs;
      for (let l = 0; l < limbs; l++) if (Math.abs(freeing[nextRow + l]) > EXACT_LIMIT) return false;
      for (let k = inStart[next], end = inStart[next + 1]; k < end; k++) {
        const student = inStudent[k];
        const j = topicOf[student];
        if (j < 0 || j === next || state[j] === 2) continue;
        const row = j * limbs;
        const fromRow = seatCostRow[student];
        const toRow = inCostRow[k];
        for (let l = 0; l < limbs; l++) {
          candidate[l] =
            freeing[nextRow + l] +
            rankCost[toRow + l] -
            rankCost[fromRow + l] +
            topicPotential[row + l] -
            topicPotential[nextRow + l];
        }
        offer(j);
      }
    }
    let largest = 0;
    for (let j = 0; j < topicCount; j++) {
      if (state[j] !== 2) continue;
      for (let l = 0; l < limbs; l++) {
        topicPotential[j * limbs + l] -= freeing[j * limbs + l];
        largest = Math.max(largest, Math.abs(topicPotential[j * limbs + l]));
      }
      // The forward search prunes arcs assuming topic potentials <= 0.
      if (lexicographicallyLess(zeroVector, 0, topicPotential, j * limbs, limbs)) {
        throw new Error(`Refreshed potential of topic ${j} is positive: the placement was not optimal`);
      }
    }
    return largest <= EXACT_LIMIT;
  };
}

function lexicographicallyLess(a: Float64Array, aRow: number, b: Float64Array, bRow: number, limbs: number): boolean {
  for (let l = 0; l < limbs; l++) {
    if (a[aRow + l] !== b[bRow + l]) return a[aRow + l] < b[bRow + l];
  }
  return false;
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

/**
 * Binary min-heap of topics ordered by a comparison of their vector keys,
 * with decrease-key (no stale entries, so keys are never copied).
 */
class VectorHeap {
  size = 0;
  private readonly items: Int32Array;
  private readonly position: Int32Array;

  constructor(
    capacity: number,
    private readonly less: (a: number, b: number) => boolean,
  ) {
    this.items = new Int32Array(capacity);
    this.position = new Int32Array(capacity);
  }

  top(): number {
    return this.items[0];
  }

  clear() {
    this.size = 0;
  }

  insert(item: number) {
    this.items[this.size] = item;
    this.position[item] = this.size;
    this.siftUp(this.size++);
  }

  decrease(item: number) {
    this.siftUp(this.position[item]);
  }

  pop(): number {
    const top = this.items[0];
    const last = this.items[--this.size];
    if (this.size > 0) {
      this.items[0] = last;
      this.position[last] = 0;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(index: number) {
    const item = this.items[index];
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, this.items[parent])) break;
      this.items[i] = this.items[parent];
      this.position[this.items[i]] = i;
      i = parent;
    }
    this.items[i] = item;
    this.position[item] = i;
  }

  private siftDown(index: number) {
    const item = this.items[index];
    let i = index;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(this.items[child + 1], this.items[child])) child++;
      if (!this.less(this.items[child], item)) break;
      this.items[i] = this.items[child];
      this.position[this.items[i]] = i;
      i = child;
    }
    this.items[i] = item;
    this.position[item] = i;
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

/**
 * Order in which students enter the search: a seeded shuffle (tie-breaking).
 * For generous, students go first whose top three choices are all
 * oversubscribed (by first-choice demand over seats; the shuffle still
 * breaks ties): students who must end up away from their favourites settle
 * among themselves before the rest fill the quieter topics directly. On the
 * Zipf benchmark this takes a quarter (5k x 500) to three fifths (20k x 1k)
 * off the time of a plain shuffle. Ranking by the first choice alone was
 * 20-40% slower than by three; by all six usable ranks of the 20k instance
 * nearly twice as slow (everyone has some crowded topic there). Any order
 * gives an optimum.
 */
function processingOrder(instance: Instance, objective: Objective, random: () => number): Int32Array {
  const order = shuffledRange(instance.studentCount, random);
  if (objective !== "generous") return order;
  const { studentCount, topicCount, capacity, arcStart, arcTopic, arcRank } = instance;
  const firstChoiceDemand = new Int32Array(topicCount);
  for (let a = 0; a < arcTopic.length; a++) if (arcRank[a] === 1) firstChoiceDemand[arcTopic[a]]++;
  const contention = new Float64Array(studentCount);
  for (let i = 0; i < studentCount; i++) {
    let least = Infinity;
    for (let a = arcStart[i], end = Math.min(arcStart[i] + CONTENTION_CHOICES, arcStart[i + 1]); a < end; a++) {
      least = Math.min(least, firstChoiceDemand[arcTopic[a]] / capacity[arcTopic[a]]);
    }
    contention[i] = least === Infinity ? 0 : least;
  }
  // Sorting positions in the shuffle keeps the sort deterministic and unboxed.
  const positions = Int32Array.from(order, (_, k) => k);
  positions.sort((x, y) => contention[order[y]] - contention[order[x]] || x - y);
  return positions.map((k) => order[k]);
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

/**
 * Assignment solver benchmark: `npm run bench:assignment`.
 *
 * Skewed synthetic instances (Plackett–Luce with Zipf weights, seeded), each
 * objective timed as the median of several runs (wall and CPU time; the
 * "x linear" ratios use CPU time), next to two baselines in
 * the same process: greedy serial dictatorship (fast, not optimal) and, when
 * python3 has SciPy, linear_sum_assignment on the seat-expanded dense matrix
 * (same linear objective; its time excludes writing and loading the matrix).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { solveAssignment, type AssignmentProblem, type Objective } from "../app/models/assignment/solver";
import { generatePreferences } from "../app/models/assignment/synthetic";

interface InstanceSpec {
  name: string;
  students: number;
  topics: number;
  capacity: number;
  rankLength?: number;
  runs: number;
  /** Whether the dense seat-expanded matrix is small enough to send to SciPy. */
  scipy: boolean;
}

const ZIPF_EXPONENT = 1;
const SEED = 2026;
const OBJECTIVES: Objective[] = ["linear", "generous", "rank-maximal"];
const INSTANCES: InstanceSpec[] = [
  { name: "1k x 200 cap 5, full", students: 1_000, topics: 200, capacity: 5, runs: 7, scipy: true },
  { name: "5k x 500 cap 10, full", students: 5_000, topics: 500, capacity: 10, runs: 3, scipy: true },
  { name: "20k x 1k cap 25, top-10", students: 20_000, topics: 1_000, capacity: 25, rankLength: 10, runs: 3, scipy: false },
];

function main() {
  const scipyStatus = detectScipy();
  const rows: string[][] = [["instance", "objective", "time ms", "cpu ms", "placed", "profile head", "objective value"]];
  const baselines: string[][] = [
    ["instance", "baseline", "time ms", "solver linear / baseline", "placed", "profile head", "sum of ranks"],
  ];
  for (const spec of INSTANCES) {
    const problem = buildProblem(spec);
    let linearMs = 0;
    let linearCpu = 0;
    for (const objective of OBJECTIVES) {
      const { median, cpu, result } = timeMedian(spec.runs, () => solveAssignment({ ...problem, objective }));
      if (objective === "linear") {
        linearMs = median;
        linearCpu = cpu;
      }
      rows.push([
        spec.name,
        objective === "linear" ? objective : `${objective} (${(cpu / linearCpu).toFixed(1)}x linear cpu)`,
        median.toFixed(1),
        cpu.toFixed(1),
        String(result.placedCount),
        head(result.profile),
        abbreviate(result.objectiveValue),
      ]);
    }

    const greedy = timeMedian(spec.runs, () => serialDictatorship(problem));
    baselines.push([
      spec.name,
      "greedy serial dictatorship",
      greedy.median.toFixed(1),
      ratio(linearMs, greedy.median),
      String(greedy.result.placed),
      head(greedy.result.profile),
      String(rankSum(greedy.result.profile)),
    ]);
    const scipy = runScipy(spec, problem, scipyStatus);
    baselines.push([
      spec.name,
      "scipy linear_sum_assignment",
      scipy.time,
      scipy.milliseconds === null ? "" : ratio(linearMs, scipy.milliseconds),
      scipy.placed,
      "",
      scipy.rankSum,
    ]);
  }
  console.log(`Zipf exponent ${ZIPF_EXPONENT}, seed ${SEED}, Node ${process.version}\n`);
  console.log(table(rows));
  console.log("");
  console.log(table(baselines));
}

function buildProblem(spec: InstanceSpec): AssignmentProblem {
  const preferences = generatePreferences({
    students: spec.students,
    topics: spec.topics,
    zipfExponent: ZIPF_EXPONENT,
    seed: SEED,
    rankLength: spec.rankLength,
  });
  return {
    students: preferences.students,
    topics: preferences.topics.map((id) => ({ id, capacity: spec.capacity })),
    rankings: preferences.rankings,
    objective: "linear",
    seed: SEED,
  };
}

/**
 * Median wall time and median CPU time of the process (all threads, so GC
 * helpers count). On a shared machine wall time grows with everyone else's
 * load; CPU time much less, so ratios are taken on it.
 */
function timeMedian<T>(runs: number, run: () => T): { median: number; cpu: number; result: T } {
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let result = run(); // warm-up, also the reported result
  for (let k = 0; k < runs; k++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    result = run();
    const cpu = process.cpuUsage(cpuStarted);
    times.push(performance.now() - started);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { median: median(times), cpu: median(cpuTimes), result };
}

function serialDictatorship(problem: AssignmentProblem) {
  const left = new Map(problem.topics.map((topic) => [topic.id, topic.capacity]));
  const profile = new Array<number>(problem.topics.length).fill(0);
  let placed = 0;
  for (const student of problem.students) {
    const ranking = problem.rankings[student] ?? [];
    const rank = ranking.findIndex((topic) => left.get(topic)! > 0);
    if (rank < 0) continue;
    left.set(ranking[rank], left.get(ranking[rank])! - 1);
    profile[rank]++;
    placed++;
  }
  return { placed, profile };
}

// ------------------------------------------------------------ SciPy

type ScipyStatus = { available: true } | { available: false; reason: string };

function detectScipy(): ScipyStatus {
  const probe = spawnSync("python3", ["-c", "import scipy, numpy"], { encoding: "utf8" });
  if (probe.status === 0) return { available: true };
  return { available: false, reason: "not installed (apt-get install python3-scipy)" };
}

const SCIPY_SCRIPT = `
import sys, time, numpy as np
from scipy.optimize import linear_sum_assignment
rows, cols = int(sys.argv[2]), int(sys.argv[3])
cost = np.fromfile(sys.argv[1], dtype=np.int32).reshape(rows, cols)
started = time.perf_counter()
r, c = linear_sum_assignment(cost)
elapsed = (time.perf_counter() - started) * 1000
print(elapsed, int(cost[r, c].sum()))
`;

/** Linear objective on the seat-expanded matrix; unranked seats cost more than any ranked total. */
interface ScipyRun {
  time: string;
  milliseconds: number | null;
  placed: string;
  rankSum: string;
}

function runScipy(spec: InstanceSpec, problem: AssignmentProblem, status: ScipyStatus): ScipyRun {
  const notRun = (time: string) => ({ time, milliseconds: null, placed: "", rankSum: "" });
  if (!status.available) return notRun(`scipy: ${status.reason}`);
  const seats = problem.topics.flatMap((topic) => new Array<string>(topic.capacity).fill(topic.id));
  if (!spec.scipy) return notRun(`skipped: dense ${problem.students.length}x${seats.length} matrix`);
  const maxRank = Math.max(...problem.students.map((s) => problem.rankings[s].length));
  const unranked = problem.students.length * maxRank + 1;
  const seatIndex = new Map<string, number[]>();
  seats.forEach((topic, k) => seatIndex.set(topic, [...(seatIndex.get(topic) ?? []), k]));
  const matrix = new Int32Array(problem.students.length * seats.length).fill(unranked);
  problem.students.forEach((student, i) => {
    problem.rankings[student].forEach((topic, r) => {
      for (const k of seatIndex.get(topic)!) matrix[i * seats.length + k] = r + 1;
    });
  });
  const directory = mkdtempSync(path.join(tmpdir(), "assignment-bench-"));
  try {
    const matrixFile = path.join(directory, "cost.bin");
    const scriptFile = path.join(directory, "lsa.py");
    writeFileSync(matrixFile, matrix);
    writeFileSync(scriptFile, SCIPY_SCRIPT);
    const output = execFileSync(
      "python3",
      [scriptFile, matrixFile, String(problem.students.length), String(seats.length)],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    const [milliseconds, total] = output.trim().split(/\s+/).map(Number);
    const unplaced = Math.floor(total / unranked);
    return {
      time: milliseconds.toFixed(1),
      milliseconds,
      placed: String(problem.students.length - unplaced),
      rankSum: String(total % unranked),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------ output

function ratio(solverMs: number, baselineMs: number): string {
  return `${(solverMs / baselineMs).toFixed(2)}`;
}

function head(profile: number[]): string {
  const shown = profile.slice(0, 6).join(",");
  return profile.length > 6 ? `${shown},…` : shown;
}

function rankSum(profile: number[]): number {
  return profile.reduce((total, count, r) => total + count * (r + 1), 0);
}

function abbreviate(value: string): string {
  return value.length <= 16 ? value : `${value.slice(0, 6)}…(${value.length} digits)`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  return rows
    .map((row, r) => {
      const line = row.map((cell, c) => (cell ?? "").padEnd(widths[c])).join("  ").trimEnd();
      return r === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

main();

/**
 * Ranking save benchmark: `npm run bench:rankings` (builds the app first).
 *
 * 50 students save at once, each 20 batches of random reorders of a full
 * ranking of 30 topics: through applyRankingBatch in this process with the
 * aggregates switched off (the baseline) and on, and through HTTP against the
 * built server (server.ts in a child process, the route a browser uses). The
 * same edits, alone (one student at a time), show the cost of one save
 * without queueing behind the others. Each workload runs on a fresh period in
 * a throw-away database, after an untimed first batch that gives every
 * student their full ranking. A last HTTP run has each student pause about a
 * second between saves, and one about half a second (the page's debounce:
 * students dragging without a break): the closed-loop runs measure the backlog
 * of 50 students saving back to back, these the latency a student sees. A
 * floor run sends the same students' requests back to back as a GET that the
 * save route's loader answers with 405 (no session, database or Redis): what
 * the HTTP frame alone costs and allows. Printed: throughput, latency percentiles,
 * transaction retries (model) or resent requests (HTTP), the ratios to the
 * baseline, then the consistency of the aggregates with plain SQL and of the
 * rankings with their events. The worker process runs throughout, as in the
 * app: it folds the buffered aggregate deltas every 2 s (and runs the metrics
 * jobs the HTTP saves request). CPU per batch counts this process, the web
 * server, the worker and all their Postgres backends.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { closeDb, getDb, withTransaction, type TransactionStats } from "../app/db.server";
import { createPeriod, createTopic, openPeriod } from "../app/models/period.server";
import { diffOrders, orderOf, replayChanges, type RankingChange, type RankingUpdate } from "../app/models/ranking";
import { compactRankingAggregates, rankingsByStudent, rankingsByTopic } from "../app/models/ranking-aggregates.server";
import { applyRankingBatch } from "../app/models/ranking.server";
import { ensureStudents } from "../app/models/seed.server";
import { seededRandom } from "../app/utils/random";
import { databaseName, maintenanceUrl, migrateDatabase } from "../scripts/lib/database";

const STUDENTS = Number(process.env.BENCH_STUDENTS ?? 50);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const TOPICS = 30;
const PASSWORD = "bench-student-password";
const SYSTEM = {
  actorId: null,
  actorType: "system" as const,
  sessionId: "bench",
};

type Sample = { ms: number; retries: number };
type Workload = {
  name: string;
  samples: Sample[];
  wallMs: number;
  /** CPU of this process, the web server, the worker and all their Postgres backends, compaction included. */
  cpuMs: number;
  cpuByGroup: Record<CpuGroup, number>;
  periodId: string;
  aggregates: boolean;
};
type Student = {
  id: string;
  email: string;
  order: string[];
  version: number;
  cookie?: string;
};

function shuffled<T>(items: T[], next: () => number): T[] {
  const result = items.slice();
  for (let index = result.length - 1; index > 0; index--) {
    const other = Math.floor(next() * (index + 1));
    [result[index], result[other]] = [result[other], result[index]];
  }
  return result;
}

/** What a debounced batch from the page looks like: one to three drags. */
function reorder(order: string[], next: () => number): string[] {
  const result = order.slice();
  const drags = 1 + Math.floor(next() * 3);
  for (let drag = 0; drag < drags; drag++) {
    const [moved] = result.splice(Math.floor(next() * result.length), 1);
    result.splice(Math.floor(next() * (result.length + 1)), 0, moved);
  }
  return result;
}

async function makePeriod(title: string) {
  return withTransaction(getDb(), async (tx) => {
    const period = await createPeriod({ tx, title });
    const topicIds: string[] = [];
    for (let index = 0; index < TOPICS; index++) {
      const topic = await createTopic({
        tx,
        periodId: period.id,
        title: `Topic ${index + 1}`,
        capacity: 3,
        actor: SYSTEM,
      });
      topicIds.push(topic.id);
    }
    await openPeriod({ tx, periodId: period.id, actor: SYSTEM });
    return { periodId: period.id, topicIds };
  });
}

async function settleAll(work: Promise<unknown>[]) {
  const failed = (await Promise.allSettled(work)).find((result) => result.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** A workload BENCH_ONLY leaves out: no samples, so it is not printed. */
function skippedWorkload(name: string, aggregates: boolean): Workload {
  return { name, samples: [], wallMs: 0, cpuMs: 0, cpuByGroup: { bench: 0, web: 0, worker: 0, postgres: 0 }, periodId: "", aggregates };
}

/** Runs `work` and then `finish` (untimed, but its CPU counted): the wall time of the work and the CPU of both. */
async function measured(webPid: number | undefined, work: () => Promise<void>, finish?: () => Promise<unknown>) {
  const before = await cpuSnapshot(webPid);
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  await finish?.();
  const cpuByGroup = cpuSince(before, await cpuSnapshot(webPid));
  const cpuMs = Object.values(cpuByGroup).reduce((sum, value) => sum + value, 0);
  return { wallMs, cpuMs, cpuByGroup };
}

/** BENCH_ONLY="http, aggregates, ~1|alone" runs only the workloads whose names start with one of these (warm-ups always run). */
const ONLY = process.env.BENCH_ONLY?.split("|").map((prefix) => prefix.trim()).filter(Boolean);
const selected = (name: string) => !ONLY || name.startsWith("warm-up") || ONLY.some((prefix) => name.startsWith(prefix));

type Send = (
  student: Student,
  periodId: string,
  updates: RankingUpdate[],
) => Promise<{ order: string[]; version: number; retries: number }>;

async function runWorkload(
  name: string,
  students: Student[],
  send: Send,
  seed: number,
  {
    concurrent = true,
    aggregates = true,
    thinkMs = 0,
    webPid,
  }: {
    concurrent?: boolean;
    aggregates?: boolean;
    /** Mean pause between a student's saves. */
    thinkMs?: number;
    /** The web server's process, whose CPU counts too. */
    webPid?: number;
  } = {},
): Promise<Workload> {
  if (!selected(name)) return skippedWorkload(name, aggregates);
  const { periodId, topicIds } = await makePeriod(`${name} ${randomUUID().slice(0, 8)}`);
  const next = seededRandom(seed);
  for (const student of students) {
    student.order = [];
    student.version = 0;
  }
  await settleAll(
    students.map(async (student) => {
      const full = shuffled(topicIds, next);
      const result = await send(student, periodId, diffOrders([], full));
      Object.assign(student, { order: result.order, version: result.version });
    }),
  );
  const plans = students.map(() => Array.from({ length: BATCHES }, () => seed + Math.floor(next() * 1e9)));
  const samples: Sample[] = [];
  const runStudent = async (student: Student, index: number) => {
    for (const planSeed of plans[index]) {
      const plan = seededRandom(planSeed);
      if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs * (0.5 + plan())));
      const target = reorder(student.order, plan);
      const before = performance.now();
      const result = await send(student, periodId, diffOrders(student.order, target));
      samples.push({ ms: performance.now() - before, retries: result.retries });
      if (result.order.join() !== target.join()) throw new Error(`${name}: the saved order differs from the one sent`);
      Object.assign(student, { order: result.order, version: result.version });
    }
  };
  // The worker process folds the deltas into the trees on its 2 s schedule, as in the app; what is left
  // after the run is folded here, and counted too.
  const cost = await measured(
    webPid,
    async () => {
      // allSettled: on a failure every student's transaction ends before the pool is closed.
      if (concurrent) await settleAll(students.map(runStudent));
      else for (const [index, student] of students.entries()) await runStudent(student, index);
    },
    aggregates ? () => compactRankingAggregates(getDb()) : undefined,
  );
  return { name, samples, ...cost, periodId, aggregates };
}

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in clock ticks (Postgres and the app run on this machine). */
function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The worker process (compaction), started once for all workloads. */
let workerPid: number | undefined;

type CpuGroup = "bench" | "web" | "worker" | "postgres";
type CpuSnapshot = Map<number, { group: CpuGroup; ticks: number }>;

async function cpuSnapshot(webPid?: number): Promise<CpuSnapshot> {
  const backends = await getDb().execute<{ pid: number }>(
    sql`select pid from pg_stat_activity where datname = current_database()`,
  );
  const { descendants } = await import("../test/support/app-server");
  const tree = (pid: number | undefined) => (pid ? [pid, ...descendants(pid)] : []);
  const groups: [CpuGroup, number[]][] = [
    ["bench", [process.pid]],
    ["web", tree(webPid)],
    ["worker", tree(workerPid)],
    ["postgres", backends.map((row) => row.pid)],
  ];
  return new Map(groups.flatMap(([group, pids]) => pids.map((pid) => [pid, { group, ticks: ticksOf(pid) }] as const)));
}

/** CPU ms used between two snapshots per group; a process first seen in the second counts from its start. */
function cpuSince(before: CpuSnapshot, after: CpuSnapshot): Record<CpuGroup, number> {
  const used: Record<CpuGroup, number> = { bench: 0, web: 0, worker: 0, postgres: 0 };
  for (const [pid, { group, ticks }] of after) used[group] += ((ticks - (before.get(pid)?.ticks ?? 0)) * 1000) / CLOCK_TICKS_PER_SECOND;
  return used;
}

const viaModel =
  (maintainAggregates: boolean): Send =>
  async (student, periodId, updates) => {
    const stats: TransactionStats = { retries: 0 };
    const result = await applyRankingBatch({
      db: getDb(),
      studentId: student.id,
      periodId,
      batchId: randomUUID(),
      sessionId: "bench",
      baseVersion: student.version,
      updates,
      stats,
      maintainAggregates,
    });
    return {
      order: result.order,
      version: result.version,
      retries: stats.retries,
    };
  };

/** Why HTTP requests had to be resent, with how often. */
const httpFailures = new Map<string, number>();

/**
 * GETs, or POSTs JSON, over a keep-alive connection with node:http: the students' browsers are not on the server, but
 * this process is, and fetch (undici) cost it about five times the CPU per request of node:http.
 */
function httpCall(url: URL, agent: Agent, cookie: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: body === undefined ? "GET" : "POST",
        agent,
        headers:
          body === undefined
            ? { Cookie: cookie }
            : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Cookie: cookie },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

function viaHttp(baseUrl: string): Send {
  const url = new URL("/student/ranking", baseUrl);
  // One keep-alive connection per student, as each student's browser holds its own: one agent shared by all
  // reused its most recent sockets, which the web processes' round-robin had handed to one process.
  const agents = new Map<string, Agent>();
  return async (student, periodId, updates) => {
    const agent = agents.get(student.id) ?? new Agent({ keepAlive: true, maxSockets: 1 });
    agents.set(student.id, agent);
    const body = JSON.stringify({
      periodId,
      batchId: randomUUID(),
      expectedVersion: student.version,
      updates,
    });
    // Resent with the same batch id on a failure, as the page does; the server applies it once.
    for (let attempt = 0; ; attempt++) {
      const response = await httpCall(url, agent, student.cookie!, body).catch((error: Error) => error);
      if (!(response instanceof Error) && response.status === 200) {
        const result = JSON.parse(response.text) as { order: string[]; version: number };
        return { ...result, retries: attempt };
      }
      const detail = response instanceof Error ? response.message : `${response.status} ${response.text}`;
      const reason = detail.slice(0, 160);
      httpFailures.set(reason, (httpFailures.get(reason) ?? 0) + 1);
      if (attempt >= 3) throw new Error(`HTTP batch failed: ${detail}`);
    }
  };
}

/**
 * The frame of an HTTP save without its work: the same students, connections
 * and pace as "http, aggregates", but each request is a GET of the save's URL,
 * which the route's loader answers with a 405 (no session lookup, no database,
 * no Redis). Its CPU per request is what Express, Remix, Node's HTTP stack and
 * this client cost before a save does anything: the floor under the saves.
 */
async function runFloor(name: string, students: Student[], baseUrl: string, webPid: number): Promise<Workload> {
  if (!selected(name)) return skippedWorkload(name, false);
  const url = new URL("/student/ranking", baseUrl);
  const samples: Sample[] = [];
  const runStudent = async (student: Student) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let index = 0; index < BATCHES; index++) {
        const before = performance.now();
        const response = await httpCall(url, agent, student.cookie!);
        samples.push({ ms: performance.now() - before, retries: 0 });
        if (response.status !== 405) throw new Error(`${name}: expected 405, got ${response.status} ${response.text.slice(0, 120)}`);
      }
    } finally {
      agent.destroy();
    }
  };
  const cost = await measured(webPid, () => settleAll(students.map(runStudent)));
  return { name, samples, ...cost, periodId: "", aggregates: false };
}

async function signIn(baseUrl: string, student: Student) {
  const response = await fetch(`${baseUrl}/login`, {
    method: "POST",
    body: new URLSearchParams({ email: student.email, password: PASSWORD }),
    redirect: "manual",
  });
  const cookie = response.headers.get("Set-Cookie");
  if (response.status !== 302 || !cookie) throw new Error(`sign-in failed for ${student.email}: ${response.status}`);
  student.cookie = cookie.split(";")[0];
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarise(workload: Workload) {
  const times = workload.samples.map((sample) => sample.ms).sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return {
    name: workload.name,
    batches: times.length,
    throughput: times.length / (workload.wallMs / 1000),
    mean,
    cpuPerBatch: workload.cpuMs / times.length,
    cpuSplit: (["bench", "web", "worker", "postgres"] as const).map((group) =>
      (workload.cpuByGroup[group] / times.length).toFixed(1),
    ),
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    max: times.at(-1)!,
    retries: workload.samples.reduce((sum, sample) => sum + sample.retries, 0),
  };
}

/**
 * Compares the aggregates with plain SQL over the period's rankings (every
 * topic's count, Σposition, Σposition²; every student's list in order), checks
 * every tree's invariants, and replays the events against the table.
 */
async function checkConsistency(periodId: string) {
  const db = getDb();
  const rows = await db.execute<{
    student_id: string;
    topic_id: string;
    position: number;
  }>(sql`select student_id, topic_id, position from rankings where period_id = ${periodId}`);
  const byStudent = new Map<string, Map<string, number>>();
  const byTopic = new Map<string, number[]>();
  for (const row of rows) {
    const positions = byStudent.get(row.student_id) ?? new Map<string, number>();
    positions.set(row.topic_id, row.position);
    byStudent.set(row.student_id, positions);
    byTopic.set(row.topic_id, [...(byTopic.get(row.topic_id) ?? []), row.position]);
  }
  const topicIds = (await db.execute<{ id: string }>(sql`select id from topics where period_id = ${periodId}`)).map(
    (row) => row.id,
  );
  const topicQueries = topicIds.map((namespace) => ({ namespace }));
  const [counts, sums] = await Promise.all([
    rankingsByTopic.countBatch(db, topicQueries),
    rankingsByTopic.sumBatch(db, topicQueries),
  ]);
  let topicDifferences = 0;
  let invalidTrees = 0;
  for (const [index, topicId] of topicIds.entries()) {
    const positions = byTopic.get(topicId) ?? [];
    const expected = [positions.length, positions.reduce((a, b) => a + b, 0), positions.reduce((a, b) => a + b * b, 0)];
    if ([counts[index], ...sums[index]].join() !== expected.join()) topicDifferences++;
    if (!(await rankingsByTopic.validate(db, topicId)).ok) invalidTrees++;
  }
  const events = await db.execute<{
    payload: { studentId: string; updates: RankingChange[] };
  }>(sql`
    select payload from events
    where period_id = ${periodId} and type in ('RANKINGS_BATCH_UPDATED', 'RANKINGS_UNDONE') order by id`);
  const rebuilt = new Map<string, Map<string, number>>();
  for (const { payload } of events) {
    const positions = rebuilt.get(payload.studentId) ?? new Map<string, number>();
    replayChanges(positions, payload.updates);
    rebuilt.set(payload.studentId, positions);
  }
  let notContiguous = 0;
  let eventDifferences = 0;
  let studentDifferences = 0;
  for (const [studentId, positions] of byStudent) {
    const sorted = [...positions.values()].sort((a, b) => a - b);
    if (sorted.some((position, index) => position !== index + 1)) notContiguous++;
    const order = orderOf(positions).join();
    if (order !== orderOf(rebuilt.get(studentId) ?? new Map()).join()) eventDifferences++;
    const namespace = `${periodId}:${studentId}`;
    const page = await rankingsByStudent.paginate(db, {
      namespace,
      pageSize: 1_000,
    });
    if (page.page.map((item) => item.id).join() !== order) studentDifferences++;
    if (!(await rankingsByStudent.validate(db, namespace)).ok) invalidTrees++;
  }
  return {
    topics: topicIds.length,
    students: byStudent.size,
    topicDifferences,
    studentDifferences,
    invalidTrees,
    notContiguous,
    eventDifferences,
  };
}

function table(rows: (string | number)[][]) {
  const cells = rows.map((row) =>
    row.map((cell) => (typeof cell === "number" ? cell.toFixed(cell >= 100 ? 0 : 1) : cell)),
  );
  const widths = cells[0].map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  for (const [index, row] of cells.entries()) {
    console.log(
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
        .join("  "),
    );
    if (index === 0) console.log(widths.map((width) => "-".repeat(width)).join("  "));
  }
}

async function main() {
  const server = process.env.BENCH_DATABASE_SERVER ?? "postgres://root@127.0.0.1:5432/postgres";
  const url = new URL(server);
  url.pathname = `/tm_bench_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
  const databaseUrl = url.toString();
  process.env.DATABASE_URL = databaseUrl;
  process.env.QUEUE_PREFIX = `tmbench-${randomBytes(4).toString("hex")}`;
  process.env.NODE_ENV = "test";
  process.env.SESSION_SECRET ??= "bench-session-secret-0123456789";
  console.log(`Ranking save benchmark: ${STUDENTS} concurrent students × ${BATCHES} batches, ${TOPICS} topics each`);
  await migrateDatabase(databaseUrl);
  let web: import("../test/support/app-server").RunningProcess | undefined;
  let worker: import("../test/support/app-server").RunningProcess | undefined;
  try {
    const { startWorkerProcess } = await import("../test/support/app-server");
    worker = await startWorkerProcess();
    workerPid = worker.child.pid;
    const emails = Array.from(
      { length: STUDENTS },
      (_, index) => `bench-${String(index + 1).padStart(3, "0")}@bench.test`,
    );
    const ids = await ensureStudents({
      db: getDb(),
      emails,
      password: PASSWORD,
    });
    const students: Student[] = ids.map((id, index) => ({
      id,
      email: emails[index],
      order: [],
      version: 0,
    }));

    await runWorkload("warm-up", students.slice(0, 10), viaModel(true), 7);
    await runWorkload("warm-up", students.slice(0, 10), viaModel(false), 7, {
      aggregates: false,
    });
    const workloads: Workload[] = [];
    // Baseline and aggregates alternate, so a change in the machine's load hits both alike.
    for (let round = 1; round <= 2; round++) {
      workloads.push(
        await runWorkload(`model, no aggregates #${round}`, students, viaModel(false), 2026 + round, {
          aggregates: false,
        }),
      );
      workloads.push(await runWorkload(`model, aggregates #${round}`, students, viaModel(true), 2026 + round));
    }
    const alone = students.slice(0, 10);
    workloads.push(
      await runWorkload("alone, no aggregates", alone, viaModel(false), 99, {
        concurrent: false,
        aggregates: false,
      }),
    );
    workloads.push(
      await runWorkload("alone, aggregates", alone, viaModel(true), 99, {
        concurrent: false,
      }),
    );

    // BENCH_HTTP=0 leaves out the HTTP workloads (no build needed) for quick model-only comparisons.
    if (process.env.BENCH_HTTP !== "0") {
      const { startWebServer } = await import("../test/support/app-server");
      // As `npm start` runs it: one web process unless WEB_PROCESSES says otherwise.
      web = await startWebServer({ WEB_PROCESSES: process.env.WEB_PROCESSES ?? "1" });
      for (const student of students) await signIn(web.url, student);
      await runWorkload("warm-up http", students.slice(0, 10), viaHttp(web.url), 7);
      const webPid = web.child.pid!;
      await runFloor("warm-up floor", students.slice(0, 10), web.url, webPid);
      workloads.push(await runFloor("http floor: GET answered 405, no database", students, web.url, webPid));
      workloads.push(await runWorkload("http, aggregates", students, viaHttp(web.url), 2029, { webPid }));
      workloads.push(
        await runWorkload("http alone, aggregates", alone, viaHttp(web.url), 99, {
          concurrent: false,
          webPid,
        }),
      );
      // Students pause between saves (the page debounces 500 ms, people think longer): latency without the backlog.
      workloads.push(
        await runWorkload("http, aggregates, ~1 s pauses", students, viaHttp(web.url), 2030, { thinkMs: 1_000, webPid }),
      );
      // Every student dragging without a break: the page then saves about every 500 ms (its debounce).
      workloads.push(
        await runWorkload("http, aggregates, ~0.5 s pauses", students, viaHttp(web.url), 2031, { thinkMs: 500, webPid }),
      );
    }

    const summaries = workloads.filter((workload) => workload.samples.length > 0).map(summarise);
    console.log();
    table([
      ["workload", "batches", "batches/s", "CPU ms/batch", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "retries"],
      ...summaries.map((s) => [
        s.name,
        String(s.batches),
        s.throughput,
        s.cpuPerBatch,
        s.mean,
        s.p50,
        s.p95,
        s.p99,
        s.max,
        String(s.retries),
      ]),
    ]);
    console.log();
    console.log("CPU ms per batch by process (this benchmark process, web server, worker, Postgres backends):");
    table([["workload", "bench", "web", "worker", "postgres"], ...summaries.map((s) => [s.name, ...s.cpuSplit])]);
    const averageOf = (prefix: string, field: "mean" | "cpuPerBatch") => {
      const matching = summaries.filter((summary) => summary.name.startsWith(prefix));
      return matching.reduce((sum, summary) => sum + summary[field], 0) / matching.length;
    };
    const mean = (prefix: string) => averageOf(prefix, "mean");
    const cpu = (prefix: string) => averageOf(prefix, "cpuPerBatch");
    console.log();
    console.log(
      `Aggregate maintenance cost, mean latency with ÷ without: ${(
        mean("model, aggregates") / mean("model, no aggregates")
      ).toFixed(2)}× ` +
        `at ${STUDENTS} concurrent students, ${(mean("alone, aggregates") / mean("alone, no aggregates")).toFixed(
          2,
        )}× one at a time (target ≤ 2×).`,
    );
    console.log(
      `Aggregate maintenance cost, CPU per batch with ÷ without (compaction included): ${(
        cpu("model, aggregates") / cpu("model, no aggregates")
      ).toFixed(2)}× at ${STUDENTS} concurrent students, ${(cpu("alone, aggregates") / cpu("alone, no aggregates")).toFixed(
        2,
      )}× one at a time.`,
    );
    const floor = summaries.find((summary) => summary.name.startsWith("http floor"));
    if (floor) {
      // Closed loop: each student sends again as soon as the answer arrives, so the mean latency is the
      // number of students over the throughput (Little's law), whatever a request does.
      console.log(
        `Closed loop floor: a request that does no work at all answers ${floor.throughput.toFixed(0)}/s at ${STUDENTS} ` +
          `students back to back (mean ${floor.mean.toFixed(1)} ms = ${STUDENTS} ÷ throughput, p99 ${floor.p99.toFixed(0)} ms), ` +
          `costing ${floor.cpuPerBatch.toFixed(1)} ms of CPU per request.`,
      );
    }
    for (const [reason, times] of httpFailures) console.log(`HTTP request resent ${times}× after: ${reason}`);
    if (web && httpFailures.size > 0) {
      const errors = new Set(
        web
          .output()
          .split("\n")
          .filter((line) => /error/i.test(line)),
      );
      for (const line of [...errors].slice(0, 5)) console.log(`  server: ${line.slice(0, 200)}`);
    }
    console.log();
    console.log(
      "Consistency after the run (workloads with aggregates; the baseline leaves them out of step by design):",
    );
    table([
      ["workload", "topics", "students", "topic ≠ SQL", "student ≠ SQL", "invalid trees", "not 1..k", "events ≠ table"],
      ...(await Promise.all(
        workloads
          .filter((workload) => workload.aggregates && workload.samples.length > 0)
          .map(async (workload) => {
            const c = await checkConsistency(workload.periodId);
            return [
              workload.name,
              c.topics,
              c.students,
              c.topicDifferences,
              c.studentDifferences,
              c.invalidTrees,
              c.notContiguous,
              c.eventDifferences,
            ].map(String);
          }),
      )),
    ]);
  } finally {
    await web?.stop();
    await worker?.stop();
    await closeDb();
    const admin = postgres(maintenanceUrl(databaseUrl), {
      max: 1,
      onnotice: () => {},
    });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName(databaseUrl)}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

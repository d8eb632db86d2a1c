/**
 * Metrics benchmark: `npm run bench:metrics`.
 *
 * 1. Recompute throughput: every topic of a 500-topic × 5,000-student
 *    synthetic period (seedSynthetic's data, top-10 rankings), from the aggregates,
 *    next to a baseline in the same process that computes the same values
 *    with plain SQL over the rankings table.
 * 2. Round trips: statements sent to Postgres per recompute.
 * 3. Freshness: 50 students save concurrently through the real web server;
 *    time from the save's commit to the updated metrics arriving on that
 *    student's own Server-Sent Events stream, p50/p95.
 *
 * Runs against its own database (BENCH_DATABASE_URL, default
 * topicmatch_bench_metrics) and queue prefix; the synthetic data is kept
 * between runs (seeding takes a while the first time).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { migrateDatabase } from "../scripts/lib/database";
import { REPO_ROOT } from "../scripts/lib/paths";

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/topicmatch_bench_metrics";
process.env.DATABASE_URL = DATABASE_URL;
process.env.QUEUE_PREFIX = `bench-metrics-${process.pid}`;

const THROUGHPUT = { students: 5_000, topics: 500, rankLength: 10, concurrency: 8 };
const FRESHNESS = { students: 50, probeTopics: 50, sharedTopics: 10, savesPerStudent: 10 };

async function main() {
  await migrateDatabase(DATABASE_URL);
  const { getDb, closeDb } = await import("../app/db.server");
  const { closeQueues } = await import("../app/queues.server");
  const rows: string[][] = [["measure", "value", "target / baseline"]];

  console.log("seeding 5,000 students × 500 topics (kept for the next run)…");
  const topicIds = await seedThroughputPeriod(getDb());

  rows.push(...(await throughput(topicIds, getDb())));
  rows.push(...(await roundTrips(topicIds.slice(0, 20))));
  printTable(rows);
  rows.push(...(await freshness()));

  printTable(rows);
  await closeQueues();
  await closeDb();
  process.exit(0);
}

/**
 * The synthetic period of seedSynthetic (same title, topics, students and
 * Zipf preferences), ranked through applyRankingBatch by a pool that retries
 * a student whose save fails: at this concurrency the ranking save sometimes
 * fails (reported to its owners), and one failure must not end the seed.
 */
async function seedThroughputPeriod(db: import("../app/db.server").Database) {
  const { ensureOpenPeriod, ensureStudents, DEMO_STUDENT_PASSWORD } = await import("../app/models/seed.server");
  const { generatePreferences } = await import("../app/models/assignment/synthetic");
  const { applyRankingBatch, getStudentRanking } = await import("../app/models/ranking.server");
  const { students, topics, rankLength } = THROUGHPUT;
  const seed = 1;
  const period = await ensureOpenPeriod({
    db,
    title: `Synthetic ${students} students × ${topics} topics (top ${rankLength}, zipf 1, seed ${seed})`,
    description: "Generated preferences with skewed popularity for load tests.",
    topics: Array.from({ length: topics }, (_, index) => ({
      title: `Synthetic topic ${String(index + 1).padStart(String(topics).length, "0")}`,
      description: `Popularity rank ${index + 1} of ${topics}.`,
      supervisor: `Supervisor ${(index % 40) + 1}`,
      capacity: Math.max(1, Math.ceil((students * 1.1) / topics)),
    })),
  });
  const emails = Array.from({ length: students }, (_, index) => `syn-${seed}-student-${index + 1}@topicmatch.test`);
  const studentIds = await ensureStudents({ db, emails, password: DEMO_STUDENT_PASSWORD });
  const { rankings } = generatePreferences({ students: studentIds, topics: period.topicIds, zipfExponent: 1, seed, rankLength });
  let done = 0;
  let retried = 0;
  await runPool(studentIds, 4, async (studentId) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await getStudentRanking({ db, studentId, periodId: period.periodId });
        if (current.order.length === 0) {
          await applyRankingBatch({
            db,
            studentId,
            periodId: period.periodId,
            batchId: randomUUID(),
            sessionId: "bench",
            baseVersion: current.version,
            updates: rankings[studentId].map((topicId, index) => ({ topicId, position: index + 1 })),
          });
        }
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
        retried++;
      }
    }
    if (++done % 1_000 === 0) console.log(`  rankings ${done}/${students}${retried ? ` (${retried} saves retried)` : ""}`);
  });
  return period.topicIds;
}

async function throughput(topicIds: string[], db: import("../app/db.server").Database): Promise<string[][]> {
  const { recomputeTopicMetrics } = await import("../app/models/metrics.server");
  // Warm-up: first pass places every topic in the period ordering.
  await runPool(topicIds, THROUGHPUT.concurrency, (topicId) => recomputeTopicMetrics({ db, topicId, recomputeId: randomUUID() }));

  const parallelStart = performance.now();
  await runPool(topicIds, THROUGHPUT.concurrency, (topicId) => recomputeTopicMetrics({ db, topicId, recomputeId: randomUUID() }));
  const parallelMs = performance.now() - parallelStart;

  const serialStart = performance.now();
  for (const topicId of topicIds) await recomputeTopicMetrics({ db, topicId, recomputeId: randomUUID() });
  const serialMs = performance.now() - serialStart;

  const baselineStart = performance.now();
  await runPool(topicIds, THROUGHPUT.concurrency, (topicId) => metricsByScan(db, topicId));
  const baselineMs = performance.now() - baselineStart;

  return [
    [`recompute all ${topicIds.length} topics, ${THROUGHPUT.concurrency} at a time`, `${parallelMs.toFixed(0)} ms`, `≤ 2000 ms; SQL scan ${baselineMs.toFixed(0)} ms (${(baselineMs / parallelMs).toFixed(2)}×)`],
    [`recompute all ${topicIds.length} topics, one at a time`, `${serialMs.toFixed(0)} ms (${(serialMs / topicIds.length).toFixed(2)} ms/topic)`, ""],
  ];
}

/** The naive way: the same values from a scan of the topic's rankings. */
async function metricsByScan(db: import("../app/db.server").Database, topicId: string) {
  return db.execute(sql`
    select count(*)::int, avg(position)::float8, stddev_pop(position)::float8,
           count(*) filter (where position <= 3)::int,
           array(select count(r2.position)::int from generate_series(1, 10) g(p)
                 left join rankings r2 on r2.topic_id = ${topicId} and r2.position = g.p group by g.p order by g.p)
    from rankings where topic_id = ${topicId}`);
}

async function roundTrips(topicIds: string[]): Promise<string[][]> {
  const { recomputeTopicMetrics } = await import("../app/models/metrics.server");
  const schema = await import("../drizzle/schema");
  let statements = 0;
  const client = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, debug: () => void statements++ });
  const db = drizzle(client, { schema });
  for (const topicId of topicIds) await recomputeTopicMetrics({ db, topicId, recomputeId: randomUUID() });
  await client.end({ timeout: 5 });
  return [["statements per recompute (incl. begin/commit)", (statements / topicIds.length).toFixed(1), "constant in topic size"]];
}

async function freshness(): Promise<string[][]> {
  const { getDb } = await import("../app/db.server");
  const { ensureOpenPeriod, ensureStudents, DEMO_STUDENT_PASSWORD } = await import("../app/models/seed.server");
  const { startWorkers } = await import("../jobs/workers");

  const period = await ensureOpenPeriod({
    db: getDb(),
    // A new period per run: everyone starts unranked, so each probe's expected values are exact.
    title: `Metrics freshness bench ${new Date().toISOString()}`,
    description: "Each student ranks their own probe topic (so its expected values are known) and the shared ones.",
    topics: Array.from({ length: FRESHNESS.probeTopics + FRESHNESS.sharedTopics }, (_, index) => ({
      title: index < FRESHNESS.probeTopics ? `Probe ${index + 1}` : `Shared ${index + 1 - FRESHNESS.probeTopics}`,
      description: "",
      supervisor: "Bench",
      capacity: 5,
    })),
  });
  const emails = Array.from({ length: FRESHNESS.students }, (_, index) => `fresh-${index + 1}@topicmatch.test`);
  const studentIds = await ensureStudents({ db: getDb(), emails, password: DEMO_STUDENT_PASSWORD });

  if (!existsSync(`${REPO_ROOT}/build/index.js`)) {
    console.log("building the app for the web server…");
    await run(`${REPO_ROOT}/node_modules/.bin/remix`, ["build"]);
  }
  const port = 3900 + (process.pid % 90);
  const web = await startWeb(port);
  const workers = await startWorkers({ concurrency: 4 });
  const baseUrl = `http://127.0.0.1:${port}`;
  const { signInOverHttp, openEventStream } = await import("../test/support/http");
  try {
    const cookies = await Promise.all(emails.map((email) => signInOverHttp(baseUrl, email, DEMO_STUDENT_PASSWORD)));
    const streams = await Promise.all(cookies.map((cookie) => openEventStream(`${baseUrl}/periods/${period.periodId}/metrics/stream`, cookie)));
    await Promise.all(streams.map((stream) => stream.waitFor((event) => event.event === "metrics")));

    const samples: number[] = [];
    let timeouts = 0;
    const shared = period.topicIds.slice(FRESHNESS.probeTopics);
    await Promise.all(
      studentIds.map(async (studentId, index) => {
        const probe = period.topicIds[index];
        const stream = streams[index];
        let version = 0;
        let previousShared: string | undefined;
        for (let round = 0; round < FRESHNESS.savesPerStudent; round++) {
          const probePosition = round % 2 === 0 ? 1 : 2;
          const otherShared = shared[(index + round) % shared.length];
          const dropped = previousShared && previousShared !== otherShared ? [{ topicId: previousShared, position: null }] : [];
          previousShared = otherShared;
          const response = await fetch(`${baseUrl}/student/ranking`, {
            method: "POST",
            headers: { "Content-Type": "application/json", cookie: cookies[index] },
            body: JSON.stringify({
              periodId: period.periodId,
              batchId: randomUUID(),
              expectedVersion: version,
              updates: [
                ...dropped,
                { topicId: probe, position: probePosition },
                { topicId: otherShared, position: probePosition === 1 ? 2 : 1 },
              ],
            }),
          });
          // The answer comes after the commit: the latency below includes that last hop.
          const committedAt = Date.now();
          const body = (await response.json()) as { version?: number; error?: string };
          if (!response.ok) throw new Error(`save failed: ${response.status} ${body.error}`);
          version = body.version!;
          const from = stream.received.length;
          try {
            const arrived = await stream.waitFor(
              (event) => {
                if (event.event !== "metrics") return false;
                const view = (JSON.parse(event.data) as { topics: { topicId: string; sumOfPositions: number; studentCount: number }[] }).topics.find(
                  (topic) => topic.topicId === probe,
                );
                return view?.studentCount === 1 && view.sumOfPositions === probePosition;
              },
              { from: Math.max(0, from - 3), timeoutMs: 10_000 },
            );
            samples.push(Math.max(0, arrived.at - committedAt));
          } catch {
            timeouts++;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
        }
      }),
    );
    for (const stream of streams) stream.close();
    samples.sort((a, b) => a - b);
    const quantile = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
    return [
      [`freshness p50, ${FRESHNESS.students} students saving (${samples.length} saves)`, `${quantile(0.5)} ms`, ""],
      [`freshness p95`, `${quantile(0.95)} ms`, "≤ 1000 ms"],
      [`freshness max / missed (10 s)`, `${samples[samples.length - 1]} ms / ${timeouts}`, "0 missed"],
    ];
  } finally {
    await workers.close();
    await stopProcess(web);
  }
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

function startWeb(port: number): Promise<ChildProcess> {
  const child = spawn(`${REPO_ROOT}/node_modules/.bin/tsx`, ["server.ts"], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), NODE_ENV: "production", SESSION_SECRET: "bench-session-secret-0123456789" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`web server did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`web server exited with ${code}:\n${output}`)));
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: "inherit" });
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
  });
}

function printTable(rows: string[][]) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, column) => cell.padEnd(widths[column])).join("  "));
    if (index === 0) console.log(widths.map((width) => "-".repeat(width)).join("  "));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

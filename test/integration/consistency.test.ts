import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { eq, sql } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { consistencyRuns, rankings, topicMetrics, topics } from "../../drizzle/schema";
import { REPO_ROOT } from "../../scripts/lib/paths";
import { applyBatches } from "~/aggregate";
import { getDb } from "~/db.server";
import { getEnv } from "~/env.server";
import {
  findStaleTopics,
  rebuildNamespace,
  repairAggregates,
  runConsistencyCheck,
  verifyAggregates,
  type VerifyReport,
} from "~/models/consistency.server";
import { applyRankingBatch, getStudentRanking } from "~/models/ranking.server";
import {
  compactRankingAggregates,
  pendingRankingDeltas,
  rankingsByStudent,
  rankingsByTopic,
} from "~/models/ranking-aggregates.server";
import { until } from "../support/wait";
import { ensureStudents } from "~/models/seed.server";
import { enqueue, getQueue } from "~/queues.server";
import { makeOpenPeriod } from "../support/factories";
import { useWorkersWithEvents } from "../support/queues";

const run = promisify(execFile);

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function generator(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
}

type World = { periodId: string; topicIds: string[]; studentIds: string[] };

/** An open period whose students ranked random prefixes of the topics through the ranking model. */
async function rankedPeriod(tag: string, { students = 60, topicCount = 8, seed = 1 } = {}): Promise<World> {
  const { period, topics: created } = await makeOpenPeriod({ topicCount, capacity: 10 });
  const topicIds = created.map((topic) => topic.id);
  const emails = Array.from({ length: students }, (_, index) => `${tag}-${index}@example.edu`);
  const studentIds = await ensureStudents({ db: getDb(), emails, password: "consistency test" });
  const random = generator(seed);
  for (const studentId of studentIds) {
    const order = [...topicIds].sort(() => random() - 0.5).slice(0, 1 + Math.floor(random() * topicCount));
    await applyRankingBatch({
      db: getDb(),
      studentId,
      periodId: period.id,
      batchId: randomUUID(),
      sessionId: "test",
      baseVersion: 0,
      updates: order.map((topicId, index) => ({ topicId, position: index + 1 })),
    });
  }
  // As the worker would: the saves' deltas folded into the trees, so the tests below find node rows to corrupt.
  await compactRankingAggregates(getDb());
  return { periodId: period.id, topicIds, studentIds };
}

/** The topics of a period, most ranked first: big enough trees have non-root nodes with stored counts. */
async function topicsByPopularity(periodId: string): Promise<string[]> {
  const rows = await getDb().execute<{ topic_id: string }>(sql`
    select topic_id from rankings where period_id = ${periodId} group by topic_id order by count(*) desc, topic_id`);
  return rows.map((row) => row.topic_id);
}

const wrongNamespaces = (report: VerifyReport) => ({
  differences: report.differences.map((d) => `${d.aggregate}/${d.namespace}`).sort(),
  invalidTrees: report.invalidTrees.map((t) => `${t.aggregate}/${t.namespace}`).sort(),
});

const CLEAN = { differences: [], invalidTrees: [] };

/** Raises one stored subtree count of a namespace (a non-root node when the tree has one). */
async function corruptStoredCount(aggregate: string, namespace: string) {
  const rows = await getDb().execute<{ id: number }>(sql`
    update aggregate_nodes set count = count + 1
    where id = (select id from aggregate_nodes
                where aggregate = ${aggregate} and namespace = ${namespace} and count is not null
                order by id limit 1)
    returning id`);
  expect(rows.length).toBe(1);
}

/** Removes the first item of one leaf, leaving every stored count as it was. */
async function deleteLeafItem(aggregate: string, namespace: string, channels: number) {
  const rows = await getDb().execute<{ id: number }>(sql`
    update aggregate_nodes set keys = keys[2:], sums = sums[${channels + 1}:]
    where id = (select id from aggregate_nodes
                where aggregate = ${aggregate} and namespace = ${namespace} and children is null
                  and cardinality(keys) > 1
                order by id limit 1)
    returning id`);
  expect(rows.length).toBe(1);
}

async function cli(args: string[]) {
  return run(`${REPO_ROOT}/node_modules/.bin/tsx`, ["scripts/aggregates.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: getEnv().DATABASE_URL },
  }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout + error.stderr,
    })
  );
}

describe("verifyAggregates and repairAggregates", () => {
  let world: World;
  beforeAll(async () => {
    world = await rankedPeriod("verify", { students: 80, topicCount: 6, seed: 11 });
  });
  beforeEach(async () => {
    // Each test starts from consistent aggregates, whatever the previous one broke.
    await repairAggregates({ db: getDb() });
  });

  it("finds nothing wrong in aggregates maintained by ranking saves", async () => {
    const report = await verifyAggregates({ db: getDb(), periodId: world.periodId });
    expect(report.checkedTopics).toBe(6);
    expect(report.checkedStudents).toBe(80);
    expect(wrongNamespaces(report)).toEqual(CLEAN);
  });

  it("reports exactly the topic whose stored count was changed, repairs it, and is clean afterwards", async () => {
    const [, topicId] = await topicsByPopularity(world.periodId);
    await corruptStoredCount("rankingsByTopic", topicId);
    const report = await verifyAggregates({ db: getDb(), periodId: world.periodId });
    expect(wrongNamespaces(report).differences).toEqual([`rankingsByTopic/${topicId}`]);
    expect(wrongNamespaces(report).invalidTrees).toEqual([`rankingsByTopic/${topicId}`]);
    const [difference] = report.differences;
    const [truth] = await getDb().execute<{ n: number; s1: number; s2: number }>(sql`
      select count(*)::int as n, sum(position)::int as s1, sum(position * position)::int as s2
      from rankings where topic_id = ${topicId}`);
    expect(difference.expected).toEqual({ count: truth.n, sums: [truth.s1, truth.s2] });
    expect(difference.actual.count).toBe(truth.n + 1);
    expect(difference).toMatchObject({ topicId, periodId: world.periodId, studentId: null });

    const { repaired } = await repairAggregates({ db: getDb(), periodId: world.periodId });
    expect(repaired).toEqual([{ aggregate: "rankingsByTopic", namespace: topicId, items: truth.n }]);
    expect(wrongNamespaces(await verifyAggregates({ db: getDb(), periodId: world.periodId }))).toEqual(CLEAN);
  });

  it("reports exactly the student tree that lost an item, and repairs it", async () => {
    const [{ student_id: studentId }] = await getDb().execute<{ student_id: string }>(sql`
      select student_id from rankings where period_id = ${world.periodId}
      group by student_id having count(*) >= 3 order by student_id limit 1`);
    const namespace = `${world.periodId}:${studentId}`;
    await deleteLeafItem("rankingsByStudent", namespace, 1);
    const report = await verifyAggregates({ db: getDb(), periodId: world.periodId });
    const wrong = wrongNamespaces(report);
    expect([...new Set([...wrong.differences, ...wrong.invalidTrees])]).toEqual([`rankingsByStudent/${namespace}`]);

    const { repaired } = await repairAggregates({ db: getDb(), periodId: world.periodId });
    expect(repaired.map((r) => `${r.aggregate}/${r.namespace}`)).toEqual([`rankingsByStudent/${namespace}`]);
    expect(wrongNamespaces(await verifyAggregates({ db: getDb(), periodId: world.periodId }))).toEqual(CLEAN);
    const items = await getDb().execute<{ n: number }>(sql`
      select count(*)::int as n from rankings where student_id = ${studentId} and period_id = ${world.periodId}`);
    expect(repaired[0].items).toBe(items[0].n);
  });

  it("reports the tree of a deleted topic as holding rankings that no longer exist, and empties it", async () => {
    const extra = await rankedPeriod("orphan", { students: 5, topicCount: 2, seed: 5 });
    const [gone] = extra.topicIds;
    await getDb().delete(topics).where(eq(topics.id, gone));
    const report = await verifyAggregates({ db: getDb() });
    const orphan = report.differences.find((d) => d.namespace === gone)!;
    expect(orphan).toMatchObject({ aggregate: "rankingsByTopic", expected: { count: 0, sums: [0, 0] } });
    expect(orphan.actual.count).toBeGreaterThan(0);
    await repairAggregates({ db: getDb() });
    expect(wrongNamespaces(await verifyAggregates({ db: getDb() }))).toEqual(CLEAN);
  });

  it("loses no concurrent save, nor counts one twice, while it rebuilds trees over and over and compactions run", async () => {
    const [topicId, secondTopicId] = await topicsByPopularity(world.periodId);
    await corruptStoredCount("rankingsByTopic", topicId);
    const savers = world.studentIds.slice(0, 24);
    const random = generator(99);
    let saving = true;
    // Saves go on until the rebuilds have run several times under them, however fast either is.
    let rebuildsDone = 0;
    const saves = savers.map(async (studentId) => {
      for (let round = 0; round < 6 || rebuildsDone < 5; round++) {
        const current = await getStudentRanking({ db: getDb(), studentId, periodId: world.periodId });
        const order = [...world.topicIds].sort(() => random() - 0.5).slice(0, 2 + Math.floor(random() * 4));
        await applyRankingBatch({
          db: getDb(),
          studentId,
          periodId: world.periodId,
          batchId: randomUUID(),
          sessionId: "concurrent",
          baseVersion: current.version,
          updates: [
            ...order.map((id, index) => ({ topicId: id, position: index + 1 })),
            ...current.order.filter((id) => !order.includes(id)).map((id) => ({ topicId: id, position: null })),
          ],
        });
      }
    });
    const rebuilds = (async () => {
      let count = 0;
      while (saving || count === 0) {
        await Promise.all([
          rebuildNamespace({ db: getDb(), aggregate: "rankingsByTopic", namespace: topicId }),
          rebuildNamespace({ db: getDb(), aggregate: "rankingsByTopic", namespace: secondTopicId }),
          rebuildNamespace({
            db: getDb(),
            aggregate: "rankingsByStudent",
            namespace: `${world.periodId}:${savers[count % savers.length]}`,
          }),
        ]);
        rebuildsDone = ++count;
        // Repairs are rare in production; back-to-back rebuilds would mostly measure deadlock retries.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return count;
    })();
    // The worker's compaction folds the savers' deltas meanwhile, racing the rebuilds for the same trees.
    const compactions = (async () => {
      const totals = { runs: 0, trees: 0, anomalies: 0 };
      while (saving || totals.runs === 0) {
        const result = await compactRankingAggregates(getDb());
        totals.runs++;
        totals.trees += result.trees;
        totals.anomalies += result.anomalies;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return totals;
    })();
    await Promise.all(saves).finally(() => {
      saving = false;
    });
    expect(await rebuilds).toBeGreaterThanOrEqual(5);
    const compacted = await compactions;
    expect(compacted.trees).toBeGreaterThan(0);
    // A delta lost or applied twice shows as a difference here, with the deltas still pending…
    expect(wrongNamespaces(await verifyAggregates({ db: getDb() }))).toEqual(CLEAN);
    // …and, once folded, as a compaction anomaly (a delete of an absent item or an insert of a present one).
    const last = await compactRankingAggregates(getDb());
    expect(compacted.anomalies + last.anomalies).toBe(0);
    expect(await pendingRankingDeltas(getDb())).toBe(0);
    expect(wrongNamespaces(await verifyAggregates({ db: getDb() }))).toEqual(CLEAN);
  });
});

describe("rebuildNamespace racing a save", () => {
  /** Resolves once a backend of this database waits for an advisory lock: the rebuild, at its tree's write lock. */
  async function waitForAdvisoryLockWaiter() {
    await until(async () => {
      const [row] = await getDb().execute<{ n: number }>(sql`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`);
      return row.n > 0;
    }, "the rebuild to wait for the tree's write lock", 10_000, 25);
  }

  it("keeps the deltas of a save that commits after the rows were read and before the deltas are dropped", async () => {
    const world = await rankedPeriod("race", { students: 12, topicCount: 3, seed: 21 });
    const [topicId] = await topicsByPopularity(world.periodId);
    const [studentId] = await ensureStudents({ db: getDb(), emails: ["race-newcomer@example.edu"], password: "consistency test" });
    const row = { studentId, topicId, periodId: world.periodId, position: 1 };

    // A save in flight: its row and its aggregate deltas written (the deltas last, as ranking_commit
    // does), its commit held back. Its deltas hold the tree's write lock shared until it commits.
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const isWritten = new Promise<void>((resolve) => (written = resolve));
    const save = getDb().transaction(async (tx) => {
      await tx.insert(rankings).values({ ...row, sessionId: "race" });
      await applyBatches(tx, [
        { aggregate: rankingsByTopic, ops: rankingsByTopic.opsFor({ inserted: [row] }), trusted: true },
        { aggregate: rankingsByStudent, ops: rankingsByStudent.opsFor({ inserted: [row] }), trusted: true },
      ]);
      written();
      await committing;
    });
    await isWritten;

    // The rebuild reads the topic's rows without the save's, then waits for the save at buildFromSorted's lock;
    // the save commits before the rebuild drops the tree's deltas.
    const rebuild = rebuildNamespace({ db: getDb(), aggregate: "rankingsByTopic", namespace: topicId });
    await waitForAdvisoryLockWaiter();
    commit();
    await save;
    const rebuilt = await rebuild;

    const [truth] = await getDb().execute<{ n: number }>(sql`select count(*)::int as n from rankings where topic_id = ${topicId}`);
    // The save's row is counted once: in the rebuilt tree (rows read after the save) or as its delta
    // that outlived the rebuild (rows read before it, as here), never in both or neither.
    expect(rebuilt.items + (await rankingsByTopic.pendingCount(getDb(), topicId))).toBe(truth.n);
    expect(wrongNamespaces(await verifyAggregates({ db: getDb(), periodId: world.periodId }))).toEqual(CLEAN);
    const compacted = await compactRankingAggregates(getDb());
    expect(compacted.anomalies).toBe(0);
    expect(await rankingsByTopic.pendingCount(getDb(), topicId)).toBe(0);
    expect(wrongNamespaces(await verifyAggregates({ db: getDb(), periodId: world.periodId }))).toEqual(CLEAN);
  });
});

describe("runConsistencyCheck", () => {
  it("repairs, finds topics whose stored metrics are stale, and records the run", async () => {
    const world = await rankedPeriod("check", { students: 40, topicCount: 4, seed: 3 });
    const [broken, stale, fresh] = await topicsByPopularity(world.periodId);
    await corruptStoredCount("rankingsByTopic", broken);
    const counts = await getDb().execute<{ topic_id: string; n: number }>(sql`
      select topic_id, count(*)::int as n from rankings where period_id = ${world.periodId} group by topic_id`);
    const countOf = (topicId: string) => counts.find((row) => row.topic_id === topicId)?.n ?? 0;
    await getDb()
      .insert(topicMetrics)
      .values([
        { topicId: stale, periodId: world.periodId, studentCount: countOf(stale) - 1 },
        { topicId: fresh, periodId: world.periodId, studentCount: countOf(fresh) },
      ]);

    const result = await runConsistencyCheck({ db: getDb(), periodId: world.periodId, trigger: "test" });
    expect(result.repaired.map((r) => r.namespace)).toEqual([broken]);
    expect(wrongNamespaces(result.after)).toEqual(CLEAN);
    // The broken topic and the one without stored metrics are stale too; the fresh one is not.
    const expectedStale = world.topicIds.filter((id) => id !== fresh && countOf(id) > 0).sort();
    expect(result.staleTopicIds.sort()).toEqual(expectedStale);
    expect(await findStaleTopics({ db: getDb(), periodId: world.periodId })).toEqual(result.staleTopicIds);

    const [recorded] = await getDb().select().from(consistencyRuns).where(eq(consistencyRuns.id, result.id));
    expect(recorded).toMatchObject({
      periodId: world.periodId,
      trigger: "test",
      differences: 1,
      repaired: 1,
      remaining: 0,
      staleTopics: expectedStale.length,
    });
    expect(recorded.report.repaired).toEqual([`rankingsByTopic/${broken}`]);
  });
});

describe("npm run aggregates:verify / aggregates:repair", () => {
  it("print a readable report and exit 1 while something differs", async () => {
    const world = await rankedPeriod("cli", { students: 30, topicCount: 3, seed: 8 });
    await repairAggregates({ db: getDb() });
    const clean = await cli(["verify", "--period", world.periodId]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain("3 topic trees and 30 student trees checked");
    expect(clean.stdout).toContain("OK: every count and sum matches");

    const [topicId] = await topicsByPopularity(world.periodId);
    await corruptStoredCount("rankingsByTopic", topicId);
    const dirty = await cli(["verify"]);
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toContain("Differences (1):");
    expect(dirty.stdout).toContain(`rankingsByTopic topic ${topicId}`);

    const repaired = await cli(["repair"]);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain(`rankingsByTopic ${topicId}: rebuilt with`);
    expect((await cli(["verify"])).code).toBe(0);

    const usage = await cli(["inspect"]);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toContain("the command must be verify or repair");
  });
});

describe("the checkConsistency job", () => {
  const workers = useWorkersWithEvents("maintenance");

  it("is scheduled at worker boot and repairs through the real worker", async () => {
    const schedulers = await getQueue("maintenance").getJobSchedulers();
    expect(schedulers.map((scheduler) => scheduler.key)).toContain("check-consistency-every-5-minutes");

    const world = await rankedPeriod("job", { students: 30, topicCount: 3, seed: 4 });
    await repairAggregates({ db: getDb() });
    const [topicId] = await topicsByPopularity(world.periodId);
    await corruptStoredCount("rankingsByTopic", topicId);
    const job = await enqueue("checkConsistency", { periodId: world.periodId });
    const result = await job.waitUntilFinished(workers.queueEvents, 60_000);
    expect(result).toMatchObject({ differences: 1, repaired: [`rankingsByTopic/${topicId}`] });
    const [recorded] = await getDb().select().from(consistencyRuns).where(eq(consistencyRuns.id, result.runId));
    expect(recorded).toMatchObject({ trigger: "job", remaining: 0 });
    expect(wrongNamespaces(await verifyAggregates({ db: getDb(), periodId: world.periodId }))).toEqual(CLEAN);
  });
});

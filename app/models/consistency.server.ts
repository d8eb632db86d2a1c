import { sql } from "drizzle-orm";
import { consistencyRuns, type ConsistencyRunReport } from "../../drizzle/schema";
import { compareKeys, type Item } from "~/aggregate";
import { withTransaction, type Database, type Executor, type Transaction } from "../db.server";
import { rankingsByStudent, rankingsByTopic, type RankingAggregateRow } from "./ranking-aggregates.server";

export type RankingAggregateName = "rankingsByTopic" | "rankingsByStudent";
type Totals = { count: number; sums: number[] };

/** A namespace whose aggregate totals differ from the rankings table. */
export type AggregateDifference = {
  aggregate: RankingAggregateName;
  namespace: string;
  periodId: string | null;
  topicId: string | null;
  studentId: string | null;
  /** From plain SQL over rankings. */
  expected: Totals;
  /** What the aggregate answers. */
  actual: Totals;
};

export type InvalidTree = { aggregate: RankingAggregateName; namespace: string; problems: string[] };

export type VerifyReport = {
  periodId: string | null;
  checkedTopics: number;
  checkedStudents: number;
  differences: AggregateDifference[];
  invalidTrees: InvalidTree[];
};

export type RepairedNamespace = { aggregate: RankingAggregateName; namespace: string; items: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const READ_CHUNK = 500;

const studentNamespace = (periodId: string, studentId: string) => `${periodId}:${studentId}`;

function parseStudentNamespace(namespace: string): { periodId: string; studentId: string } | null {
  const [periodId, studentId, ...rest] = namespace.split(":");
  return rest.length === 0 && UUID.test(periodId ?? "") && UUID.test(studentId ?? "") ? { periodId, studentId } : null;
}

/** Code-point order, the order the aggregate breaks key ties in. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const INSTANCES = { rankingsByTopic, rankingsByStudent } as const;

type Expected = {
  namespace: string;
  periodId: string | null;
  topicId: string | null;
  studentId: string | null;
} & Totals;

async function expectedTopicTotals(db: Executor, periodId: string | undefined): Promise<Expected[]> {
  const rows = await db.execute<{ topic_id: string; period_id: string; n: number; s1: string; s2: string }>(sql`
    select t.id as topic_id, t.period_id, count(r.position)::int as n,
           coalesce(sum(r.position), 0)::text as s1, coalesce(sum(r.position::bigint * r.position), 0)::text as s2
    from topics t left join rankings r on r.topic_id = t.id
    ${periodId ? sql`where t.period_id = ${periodId}` : sql``}
    group by t.id, t.period_id`);
  return rows.map((row) => ({
    namespace: row.topic_id,
    periodId: row.period_id,
    topicId: row.topic_id,
    studentId: null,
    count: row.n,
    sums: [Number(row.s1), Number(row.s2)],
  }));
}

async function expectedStudentTotals(db: Executor, periodId: string | undefined): Promise<Expected[]> {
  const rows = await db.execute<{ student_id: string; period_id: string; n: number; s1: string }>(sql`
    select student_id, period_id, count(*)::int as n, sum(position)::text as s1
    from rankings ${periodId ? sql`where period_id = ${periodId}` : sql``}
    group by period_id, student_id`);
  return rows.map((row) => ({
    namespace: studentNamespace(row.period_id, row.student_id),
    periodId: row.period_id,
    topicId: null,
    studentId: row.student_id,
    count: row.n,
    sums: [Number(row.s1)],
  }));
}

async function allNamespaces(db: Executor, aggregate: RankingAggregateName): Promise<string[]> {
  const namespaces: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await INSTANCES[aggregate].paginateNamespaces(db, { cursor, pageSize: 1000 });
    namespaces.push(...page.page);
    if (page.isDone) return namespaces;
    cursor = page.cursor;
  }
}

/**
 * Namespaces the aggregate holds that no source row explains: trees of
 * deleted topics, or of students who no longer rank anything. They are
 * expected to be empty.
 */
async function unexplainedNamespaces(
  db: Executor,
  aggregate: RankingAggregateName,
  explained: Set<string>,
  periodId: string | undefined
): Promise<Expected[]> {
  const channels = aggregate === "rankingsByTopic" ? 2 : 1;
  const namespaces = await allNamespaces(db, aggregate);
  const extra: Expected[] = [];
  for (const namespace of namespaces) {
    if (explained.has(namespace)) continue;
    const student = aggregate === "rankingsByStudent" ? parseStudentNamespace(namespace) : null;
    if (periodId && student?.periodId !== periodId) continue;
    extra.push({
      namespace,
      periodId: student?.periodId ?? null,
      topicId: aggregate === "rankingsByTopic" ? namespace : null,
      studentId: student?.studentId ?? null,
      count: 0,
      sums: Array(channels).fill(0),
    });
  }
  return extra;
}

async function compareTotals(db: Executor, aggregate: RankingAggregateName, expected: Expected[]) {
  const differences: AggregateDifference[] = [];
  for (let start = 0; start < expected.length; start += READ_CHUNK) {
    const chunk = expected.slice(start, start + READ_CHUNK);
    const queries = chunk.map(({ namespace }) => ({ namespace }));
    const [counts, sums] = await Promise.all([
      INSTANCES[aggregate].countBatch(db, queries),
      INSTANCES[aggregate].sumBatch(db, queries),
    ]);
    chunk.forEach((want, index) => {
      const actual = { count: counts[index], sums: sums[index] };
      const same = actual.count === want.count && want.sums.every((value, channel) => actual.sums[channel] === value);
      if (!same) {
        const { namespace, periodId, topicId, studentId, count } = want;
        differences.push({
          aggregate,
          namespace,
          periodId,
          topicId,
          studentId,
          expected: { count, sums: want.sums },
          actual,
        });
      }
    });
  }
  return differences;
}

async function validateTrees(
  db: Executor,
  aggregate: RankingAggregateName,
  namespaces: string[]
): Promise<InvalidTree[]> {
  const invalid: InvalidTree[] = [];
  for (const namespace of namespaces) {
    const result = await INSTANCES[aggregate].validate(db, namespace);
    if (!result.ok) invalid.push({ aggregate, namespace, problems: result.problems });
  }
  return invalid;
}

/**
 * Compares both ranking aggregates with plain SQL over `rankings`: for every
 * topic (and, per period, every student) the count and every sum channel,
 * and runs the aggregate's invariant validator on every tree. Everything is
 * read from one snapshot: the aggregates change in the same transactions as
 * the rows, so a save committing meanwhile cannot show up as a difference.
 */
export async function verifyAggregates({ db, periodId }: { db: Database; periodId?: string }): Promise<VerifyReport> {
  return db.transaction((tx) => verifyInSnapshot(tx, periodId), { isolationLevel: "repeatable read" });
}

async function verifyInSnapshot(tx: Transaction, periodId: string | undefined): Promise<VerifyReport> {
  const topicTotals = await expectedTopicTotals(tx, periodId);
  const studentTotals = await expectedStudentTotals(tx, periodId);
  const topicSet = [
    ...topicTotals,
    // A topic tree does not name its period, so only a check of every period can tell which ones are orphans.
    ...(periodId
      ? []
      : await unexplainedNamespaces(tx, "rankingsByTopic", new Set(topicTotals.map((t) => t.namespace)), periodId)),
  ];
  const studentSet = [
    ...studentTotals,
    ...(await unexplainedNamespaces(tx, "rankingsByStudent", new Set(studentTotals.map((s) => s.namespace)), periodId)),
  ];
  const differences = [
    ...(await compareTotals(tx, "rankingsByTopic", topicSet)),
    ...(await compareTotals(tx, "rankingsByStudent", studentSet)),
  ];
  const invalidTrees = [
    ...(await validateTrees(
      tx,
      "rankingsByTopic",
      topicSet.map((t) => t.namespace)
    )),
    ...(await validateTrees(
      tx,
      "rankingsByStudent",
      studentSet.map((s) => s.namespace)
    )),
  ];
  return {
    periodId: periodId ?? null,
    checkedTopics: topicSet.length,
    checkedStudents: studentSet.length,
    differences,
    invalidTrees,
  };
}

async function topicRows(tx: Transaction, topicId: string): Promise<RankingAggregateRow[]> {
  if (!UUID.test(topicId)) return [];
  return tx.execute<RankingAggregateRow>(sql`
    select student_id as "studentId", topic_id as "topicId", period_id as "periodId", position
    from rankings where topic_id = ${topicId}`);
}

async function studentRows(tx: Transaction, namespace: string): Promise<RankingAggregateRow[]> {
  const student = parseStudentNamespace(namespace);
  if (!student) return [];
  return tx.execute<RankingAggregateRow>(sql`
    select student_id as "studentId", topic_id as "topicId", period_id as "periodId", position
    from rankings where student_id = ${student.studentId} and period_id = ${student.periodId}`);
}

/** The rows' items as the aggregate itself derives them, in the tree's order. */
function sortedItems(aggregate: RankingAggregateName, rows: RankingAggregateRow[]): Item[] {
  return INSTANCES[aggregate]
    .opsFor({ inserted: rows })
    .map((op) => ({ key: op.key, id: op.id, sums: "sums" in op && op.sums ? op.sums : [] }))
    .sort((a, b) => compareKeys(a.key, b.key) || byCodePoint(a.id, b.id));
}

/**
 * Rebuilds one namespace from the rankings table in one transaction.
 *
 * Saves lock no node of these (buffered) aggregates: each appends its deltas
 * in the transaction that changes its rows, so rows and deltas become visible
 * together. The rebuild reads everything from one snapshot (REPEATABLE READ):
 * the rows it builds from and the deltas buildFromSorted drops are exactly
 * those of the saves committed before that snapshot; a save committing later
 * is in neither, and its deltas stay to be compacted onto the rebuilt tree.
 * (Under READ COMMITTED each statement sees the commits before it, so a save
 * committing between the row read and the drop would lose its deltas.)
 *
 * buildFromSorted takes the tree's write lock exclusively (saves hold it
 * shared from their delta insert to their commit) and its compaction lock, so
 * it waits for saves in flight and a running compaction. A compaction that
 * committed after the snapshot changed nodes and deltas this transaction then
 * writes: a serialization failure, which withTransaction retries with a fresh
 * snapshot. Saves never conflict with it: they insert deltas and change
 * rankings rows, which the rebuild only reads.
 */
export async function rebuildNamespace({
  db,
  aggregate,
  namespace,
}: {
  db: Database;
  aggregate: RankingAggregateName;
  namespace: string;
}): Promise<RepairedNamespace> {
  return withTransaction(
    db,
    async (tx) => {
      const rows = aggregate === "rankingsByTopic" ? await topicRows(tx, namespace) : await studentRows(tx, namespace);
      const items = sortedItems(aggregate, rows);
      await INSTANCES[aggregate].buildFromSorted(tx, namespace, items);
      return { aggregate, namespace, items: items.length };
    },
    { isolationLevel: "repeatable read" },
  );
}

/** Namespaces a report found wrong (a difference, an invalid tree, or both), each once. */
export function namespacesToRepair(report: VerifyReport): { aggregate: RankingAggregateName; namespace: string }[] {
  const seen = new Map<string, { aggregate: RankingAggregateName; namespace: string }>();
  for (const { aggregate, namespace } of [...report.differences, ...report.invalidTrees]) {
    seen.set(`${aggregate}/${namespace}`, { aggregate, namespace });
  }
  return [...seen.values()];
}

/** Verifies (unless given a report) and rebuilds every namespace that differs or is invalid. */
export async function repairAggregates({
  db,
  periodId,
  report,
}: {
  db: Database;
  periodId?: string;
  report?: VerifyReport;
}): Promise<{ before: VerifyReport; repaired: RepairedNamespace[] }> {
  const before = report ?? (await verifyAggregates({ db, periodId }));
  const repaired: RepairedNamespace[] = [];
  for (const target of namespacesToRepair(before)) repaired.push(await rebuildNamespace({ db, ...target }));
  return { before, repaired };
}

/**
 * Topics whose stored metrics were computed from another student count than
 * the aggregate holds now (a recompute was lost, e.g. while Redis was down).
 * A topic without stored metrics is stale once anyone ranked it.
 */
export async function findStaleTopics({ db, periodId }: { db: Executor; periodId?: string }): Promise<string[]> {
  const rows = await db.execute<{ topic_id: string; student_count: number | null }>(sql`
    select t.id as topic_id, m.student_count
    from topics t left join topic_metrics m on m.topic_id = t.id
    ${periodId ? sql`where t.period_id = ${periodId}` : sql``}
    order by t.id`);
  const stale: string[] = [];
  for (let start = 0; start < rows.length; start += READ_CHUNK) {
    const chunk = rows.slice(start, start + READ_CHUNK);
    const counts = await rankingsByTopic.countBatch(
      db,
      chunk.map((row) => ({ namespace: row.topic_id }))
    );
    chunk.forEach((row, index) => {
      if ((row.student_count ?? 0) !== counts[index]) stale.push(row.topic_id);
    });
  }
  return stale;
}

export type ConsistencyRun = {
  id: number;
  before: VerifyReport;
  repaired: RepairedNamespace[];
  after: VerifyReport;
  staleTopicIds: string[];
  recomputeRequested: boolean;
};

/**
 * The repeating consistency job and the admin's "check and repair": verify,
 * rebuild what differs, verify again, find topics with stale metrics and ask
 * for their recompute, and record the whole report in consistency_runs.
 */
export async function runConsistencyCheck({
  db,
  periodId,
  trigger,
  requestRecompute,
}: {
  db: Database;
  periodId?: string;
  trigger: "job" | "cli" | "admin" | "test";
  /** The metrics queue's requestMetricsRecompute; without it stale topics are only reported. */
  requestRecompute?: (topicIds: string[]) => Promise<void>;
}): Promise<ConsistencyRun> {
  const startedAt = new Date();
  const before = await verifyAggregates({ db, periodId });
  const { repaired } = await repairAggregates({ db, periodId, report: before });
  const after = repaired.length > 0 ? await verifyAggregates({ db, periodId }) : before;
  const staleTopicIds = await findStaleTopics({ db, periodId });
  const recomputeRequested = staleTopicIds.length > 0 && requestRecompute !== undefined;
  if (recomputeRequested) await requestRecompute!(staleTopicIds);
  const report: ConsistencyRunReport = {
    verify: before,
    repaired: repaired.map(({ aggregate, namespace }) => `${aggregate}/${namespace}`),
    after,
    staleTopicIds,
    recomputeRequested,
  };
  const [row] = await db
    .insert(consistencyRuns)
    .values({
      periodId: periodId ?? null,
      trigger,
      differences: before.differences.length,
      invalidTrees: before.invalidTrees.length,
      repaired: repaired.length,
      remaining: namespacesToRepair(after).length,
      staleTopics: staleTopicIds.length,
      report,
      startedAt,
    })
    .returning({ id: consistencyRuns.id });
  return { id: row.id, before, repaired, after, staleTopicIds, recomputeRequested };
}

const short = (id: string | null) => (id ? id.slice(0, 8) : "?");

function describeNamespace(difference: AggregateDifference | InvalidTree): string {
  if (difference.aggregate === "rankingsByTopic") return `topic ${difference.namespace}`;
  const student = parseStudentNamespace(difference.namespace);
  return student
    ? `student ${student.studentId} in period ${short(student.periodId)}…`
    : `namespace ${difference.namespace}`;
}

/** The report as lines a person reads in a terminal or a log. */
export function formatVerifyReport(report: VerifyReport): string[] {
  const scope = report.periodId ? `period ${report.periodId}` : "all periods";
  const lines = [
    `Aggregates vs rankings (${scope}): ${report.checkedTopics} topic trees and ${report.checkedStudents} student trees checked.`,
  ];
  if (report.differences.length === 0 && report.invalidTrees.length === 0) {
    lines.push("OK: every count and sum matches the rankings table and every tree is valid.");
    return lines;
  }
  if (report.differences.length > 0) {
    lines.push(`Differences (${report.differences.length}):`);
    for (const difference of report.differences) {
      const { expected, actual } = difference;
      lines.push(
        `  ${difference.aggregate} ${describeNamespace(difference)}: rankings have count ${
          expected.count
        }, sums [${expected.sums.join(", ")}]; ` +
          `the aggregate has count ${actual.count}, sums [${actual.sums.join(", ")}]`
      );
    }
  }
  if (report.invalidTrees.length > 0) {
    lines.push(`Invalid trees (${report.invalidTrees.length}):`);
    for (const tree of report.invalidTrees) {
      lines.push(`  ${tree.aggregate} ${describeNamespace(tree)}:`);
      for (const problem of tree.problems) lines.push(`    - ${problem}`);
    }
  }
  return lines;
}

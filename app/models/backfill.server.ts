import { createHash } from "node:crypto";
import { and, inArray, sql, type SQL } from "drizzle-orm";
import { preferenceBackfills, rankingBatches, rankings, rankingStates, topics } from "../../drizzle/schema";
import { withTransaction, type Database } from "../db.server";
import { recordEvents } from "./event.server";
import type { DomainEvent } from "./events";
import { diffOrders } from "./ranking";
import { compactRankingAggregates } from "./ranking-aggregates.server";
import { applyRankingBatch, RankingError } from "./ranking.server";

export type BackfillProgress = { done: number; total: number; applied: number; unchanged: number; rejected: number };

/** A legacy row that was not carried over, with the reason; it stays pending for the next run. */
export type BackfillProblem = { studentId: string; periodId: string; topicIds: string[]; reason: string };

export type BackfillReport = BackfillProgress & { problems: BackfillProblem[] };

type PendingRow = {
  studentId: string;
  periodId: string;
  topicIds: string[];
  /** last_updated as Postgres prints it, so the checkpoint stores it to the microsecond. */
  lastUpdated: string;
  /** last_updated in microseconds since the epoch, independent of the session's time zone. */
  lastUpdatedMicros: string;
};

const BACKFILL_SESSION = "backfill";

/**
 * The ranking batch id of one legacy row version. Being derived from the row,
 * a run that crashed after applying it finds its own batch again: the ranking
 * model answers the stored result instead of applying it twice.
 */
export function backfillBatchId(row: { studentId: string; periodId: string; lastUpdatedMicros: string }): string {
  const hex = createHash("sha256")
    .update(`preferences-backfill:${row.studentId}:${row.periodId}:${row.lastUpdatedMicros}`)
    .digest("hex");
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(
    20,
    32,
  )}`;
}

/** Rows whose current version (last_updated) has no checkpoint yet. */
function pendingCondition(periodId: string | undefined): SQL {
  return sql`not exists (
      select 1 from ${preferenceBackfills} c
      where c.student_id = p.student_id and c.period_id = p.period_id and c.last_updated = p.last_updated)
    ${periodId ? sql`and p.period_id = ${periodId}` : sql``}`;
}

async function countPending(db: Database, periodId: string | undefined): Promise<number> {
  const [row] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from preferences p where ${pendingCondition(periodId)}`,
  );
  return row.n;
}

async function nextPage(
  db: Database,
  {
    periodId,
    after,
    limit,
  }: { periodId?: string; after: { periodId: string; studentId: string } | null; limit: number },
): Promise<PendingRow[]> {
  const rows = await db.execute<{
    student_id: string;
    period_id: string;
    topic_ids: string[];
    last_updated: string;
    last_updated_micros: string;
  }>(sql`
    select p.student_id, p.period_id, p.topic_ids::text[] as topic_ids, p.last_updated::text as last_updated,
           (extract(epoch from p.last_updated) * 1000000)::bigint::text as last_updated_micros
    from preferences p
    where ${pendingCondition(periodId)}
      ${after ? sql`and (p.period_id, p.student_id) > (${after.periodId}::uuid, ${after.studentId}::uuid)` : sql``}
    order by p.period_id, p.student_id
    limit ${limit}`);
  return rows.map((row) => ({
    studentId: row.student_id,
    periodId: row.period_id,
    topicIds: row.topic_ids,
    lastUpdated: row.last_updated,
    lastUpdatedMicros: row.last_updated_micros,
  }));
}

/** Why a legacy row cannot become a ranking, or null when it can. */
function legacyRowProblem(row: PendingRow, topicPeriods: Map<string, string>): string | null {
  const duplicates = [...new Set(row.topicIds.filter((id, index) => row.topicIds.indexOf(id) !== index))];
  if (duplicates.length > 0) return `topic listed more than once: ${duplicates.join(", ")}`;
  const unknown = row.topicIds.filter((id) => !topicPeriods.has(id));
  if (unknown.length > 0) return `unknown topic: ${unknown.join(", ")}`;
  const foreign = row.topicIds.filter((id) => topicPeriods.get(id) !== row.periodId);
  if (foreign.length > 0) {
    return `topics of another period: ${foreign.map((id) => `${id} (period ${topicPeriods.get(id)})`).join(", ")}`;
  }
  return null;
}

async function loadPageState(db: Database, page: PendingRow[]) {
  const topicIds = [...new Set(page.flatMap((row) => row.topicIds))];
  const studentIds = [...new Set(page.map((row) => row.studentId))];
  const periodIds = [...new Set(page.map((row) => row.periodId))];
  const batchIds = page.map(backfillBatchId);
  const [topicRows, rankingRows, stateRows, batchRows] = await Promise.all([
    topicIds.length
      ? db.select({ id: topics.id, periodId: topics.periodId }).from(topics).where(inArray(topics.id, topicIds))
      : [],
    db
      .select({
        studentId: rankings.studentId,
        periodId: rankings.periodId,
        topicId: rankings.topicId,
        position: rankings.position,
      })
      .from(rankings)
      .where(and(inArray(rankings.studentId, studentIds), inArray(rankings.periodId, periodIds)))
      .orderBy(rankings.position),
    db
      .select()
      .from(rankingStates)
      .where(and(inArray(rankingStates.studentId, studentIds), inArray(rankingStates.periodId, periodIds))),
    db
      .select({ batchId: rankingBatches.batchId })
      .from(rankingBatches)
      .where(inArray(rankingBatches.batchId, batchIds)),
  ]);
  const orders = new Map<string, string[]>();
  for (const row of rankingRows) {
    const key = `${row.studentId}:${row.periodId}`;
    orders.set(key, [...(orders.get(key) ?? []), row.topicId]);
  }
  return {
    topicPeriods: new Map(topicRows.map((row) => [row.id, row.periodId])),
    orderOf: (row: PendingRow) => orders.get(`${row.studentId}:${row.periodId}`) ?? [],
    versionOf: (row: PendingRow) =>
      stateRows.find((state) => state.studentId === row.studentId && state.periodId === row.periodId)?.version ?? 0,
    existingBatches: new Set(batchRows.map((row) => row.batchId)),
  };
}

const sameOrder = (a: string[], b: string[]) => a.length === b.length && a.every((id, index) => id === b[index]);

/**
 * Carries legacy `preferences` rows over into rankings (and so into the
 * ranking aggregates) through applyRankingBatch, page by page. Each row's
 * checkpoint and PREFERENCES_BACKFILLED event commit together after its
 * batch; a run stopped at any point resumes where it was, and a repeated run
 * changes nothing. Rows that cannot be a ranking are reported and left out.
 * The batches' buffered aggregate deltas are folded into the trees at the end
 * (a large backfill leaves many, and the CLI may run without a worker).
 */
export async function backfillPreferences({
  db,
  periodId,
  batchSize = 200,
  concurrency = 4,
  onProgress,
}: {
  db: Database;
  periodId?: string;
  batchSize?: number;
  /** Rows of a page applied at once. */
  concurrency?: number;
  onProgress?: (progress: BackfillProgress) => void | Promise<void>;
}): Promise<BackfillReport> {
  const progress: BackfillProgress = {
    done: 0,
    total: await countPending(db, periodId),
    applied: 0,
    unchanged: 0,
    rejected: 0,
  };
  const problems: BackfillProblem[] = [];
  let after: { periodId: string; studentId: string } | null = null;
  for (;;) {
    const page = await nextPage(db, { periodId, after, limit: batchSize });
    if (page.length === 0) break;
    after = { periodId: page[page.length - 1].periodId, studentId: page[page.length - 1].studentId };
    const state = await loadPageState(db, page);
    const finished: { row: PendingRow; outcome: "applied" | "unchanged"; batchId: string | null }[] = [];
    let next = 0;
    const work = async () => {
      while (next < page.length) {
        const row = page[next++];
        const problem = legacyRowProblem(row, state.topicPeriods);
        const batchId = backfillBatchId(row);
        if (problem) {
          problems.push({ ...row, reason: problem });
          progress.rejected++;
        } else if (sameOrder(state.orderOf(row), row.topicIds)) {
          // Equal already: either never needed, or applied by a run that stopped before its checkpoint.
          const applied = state.existingBatches.has(batchId);
          finished.push({ row, outcome: applied ? "applied" : "unchanged", batchId: applied ? batchId : null });
          progress[applied ? "applied" : "unchanged"]++;
        } else {
          try {
            await applyRankingBatch({
              db,
              studentId: row.studentId,
              periodId: row.periodId,
              batchId,
              sessionId: BACKFILL_SESSION,
              baseVersion: state.versionOf(row),
              updates: diffOrders(state.orderOf(row), row.topicIds),
            });
            finished.push({ row, outcome: "applied", batchId });
            progress.applied++;
          } catch (error) {
            if (!(error instanceof RankingError)) throw error;
            problems.push({ ...row, reason: error.message });
            progress.rejected++;
          }
        }
        progress.done++;
        await onProgress?.({ ...progress });
      }
    };
    // Different students' batches touch different rows and student trees, so a few run side by side.
    await Promise.all(Array.from({ length: Math.min(concurrency, page.length) }, work));
    await recordCheckpoints(db, finished);
  }
  if (progress.applied > 0) await compactRankingAggregates(db);
  return { ...progress, problems };
}

async function recordCheckpoints(
  db: Database,
  finished: { row: PendingRow; outcome: "applied" | "unchanged"; batchId: string | null }[],
) {
  if (finished.length === 0) return;
  await withTransaction(db, async (tx) => {
    // Only rows whose checkpoint this call writes get an event, so two overlapping runs record each row once.
    const written = await tx
      .insert(preferenceBackfills)
      .values(
        finished.map(({ row, outcome, batchId }) => ({
          studentId: row.studentId,
          periodId: row.periodId,
          lastUpdated: row.lastUpdated,
          outcome,
          batchId,
        })),
      )
      .onConflictDoUpdate({
        target: [preferenceBackfills.studentId, preferenceBackfills.periodId],
        set: {
          lastUpdated: sql`excluded.last_updated`,
          outcome: sql`excluded.outcome`,
          batchId: sql`excluded.batch_id`,
          processedAt: sql`now()`,
        },
        setWhere: sql`${preferenceBackfills.lastUpdated} <> excluded.last_updated`,
      })
      .returning({ studentId: preferenceBackfills.studentId, periodId: preferenceBackfills.periodId });
    const isWritten = new Set(written.map((row) => `${row.studentId}:${row.periodId}`));
    const events: DomainEvent[] = finished
      .filter(({ row, outcome }) => outcome === "applied" && isWritten.has(`${row.studentId}:${row.periodId}`))
      .map(({ row }) => ({
        type: "PREFERENCES_BACKFILLED",
        actorId: null,
        actorType: "system",
        sessionId: BACKFILL_SESSION,
        periodId: row.periodId,
        payload: { studentId: row.studentId, topicCount: row.topicIds.length },
      }));
    await recordEvents(tx, events);
  });
}

import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import { rankingBatches, rankings, rankingStates, selectionPeriods, topics } from "../../drizzle/schema";
import { withTransaction, type Database, type Executor, type Transaction, type TransactionStats } from "../db.server";
import { recordEvent } from "./event.server";
import { maintainRankingAggregates, type RankingAggregateRow } from "./ranking-aggregates.server";
import {
  affectedTopicIds,
  applyRankingUpdates,
  invertChanges,
  orderOf,
  RankingRuleError,
  type RankingChange,
  type RankingUpdate,
} from "./ranking";

/**
 * A save that meets a serialization failure or a deadlock keeps retrying
 * (about six seconds in all) rather than fail a save the student made. With
 * the buffered aggregates a save no longer locks tree nodes, so this is rare.
 */
const SAVE_ATTEMPTS = 40;

export type RankingResult = {
  /** Topic ids, most preferred first. */
  order: string[];
  version: number;
  changes: RankingChange[];
  /** Topics whose set of positions changed: the ones whose metrics need recomputing. */
  affectedTopicIds: string[];
  /** True when this batch id had already been applied and its stored answer is returned. */
  replayed: boolean;
};

export type RankingErrorCode =
  | "invalid-batch"
  | "unknown-topic"
  | "period-not-found"
  | "period-not-open"
  | "stale-version"
  | "nothing-to-undo"
  | "batch-id-reused";

const STATUS: Record<RankingErrorCode, 400 | 404 | 409> = {
  "invalid-batch": 400,
  "unknown-topic": 400,
  "period-not-found": 404,
  "period-not-open": 409,
  "stale-version": 409,
  "nothing-to-undo": 409,
  "batch-id-reused": 409,
};

/** A failure the student can act on; `status` is the HTTP status to answer with. */
export class RankingError extends Error {
  readonly status: 400 | 404 | 409;
  constructor(
    readonly code: RankingErrorCode,
    message: string,
    /** With "stale-version": the saved ranking the page should adopt. */
    readonly current?: { order: string[]; version: number },
  ) {
    super(message);
    this.name = "RankingError";
    this.status = STATUS[code];
  }
}

export async function getStudentRanking({
  db,
  studentId,
  periodId,
}: {
  db: Executor;
  studentId: string;
  periodId: string;
}): Promise<{ order: string[]; version: number }> {
  const [rows, [state]] = await Promise.all([
    db
      .select({ topicId: rankings.topicId })
      .from(rankings)
      .where(and(eq(rankings.studentId, studentId), eq(rankings.periodId, periodId)))
      .orderBy(rankings.position),
    db
      .select({ version: rankingStates.version })
      .from(rankingStates)
      .where(and(eq(rankingStates.studentId, studentId), eq(rankingStates.periodId, periodId))),
  ]);
  return { order: rows.map((row) => row.topicId), version: state?.version ?? 0 };
}

async function currentPositions(tx: Transaction, studentId: string, periodId: string) {
  const rows = await tx
    .select({ topicId: rankings.topicId, position: rankings.position })
    .from(rankings)
    .where(and(eq(rankings.studentId, studentId), eq(rankings.periodId, periodId)));
  return new Map(rows.map((row) => [row.topicId, row.position]));
}

/**
 * Locks the student's ranking state row, creating it at version 0, and returns
 * its version: one statement, since the no-op update takes the row lock.
 */
async function lockRankingState(tx: Transaction, studentId: string, periodId: string): Promise<number> {
  const [state] = await tx
    .insert(rankingStates)
    .values({ studentId, periodId })
    .onConflictDoUpdate({ target: [rankingStates.studentId, rankingStates.periodId], set: { version: sql`${rankingStates.version}` } })
    .returning({ version: rankingStates.version });
  return state.version;
}

/**
 * The period's status, locked against a concurrent close (closing takes FOR
 * UPDATE, which waits for this lock) so no batch commits into a closed period.
 */
async function lockPeriodStatus(tx: Transaction, periodId: string) {
  const [period] = await tx
    .select({ status: selectionPeriods.status })
    .from(selectionPeriods)
    .where(eq(selectionPeriods.id, periodId))
    .for("key share");
  return period?.status;
}

function requireOpen(status: string | undefined) {
  if (!status) throw new RankingError("period-not-found", "That selection period does not exist.");
  if (status !== "open") {
    throw new RankingError(
      "period-not-open",
      status === "draft"
        ? "The selection period has not opened yet; rankings cannot be changed."
        : `The selection period is ${status}; rankings can no longer be changed.`,
    );
  }
}

async function knownTopicIds(tx: Transaction, periodId: string, topicIds: string[]): Promise<Set<string>> {
  if (topicIds.length === 0) return new Set();
  // One array parameter instead of one per topic: one statement shape whatever the batch size, and less for the
  // query builder to assemble on every save.
  const rows = await tx
    .select({ id: topics.id })
    .from(topics)
    .where(and(eq(topics.periodId, periodId), sql`${topics.id} = any(${sql.param(topicIds)}::uuid[])`));
  return new Set(rows.map((row) => row.id));
}

/** The statements writing the changed rows: deletes removed topics, upserts moved and added ones. */
function writeChanges(
  tx: Transaction,
  { studentId, periodId, sessionId, changes }: { studentId: string; periodId: string; sessionId: string; changes: RankingChange[] },
) {
  const removed = changes.filter((change) => change.newPos === null).map((change) => change.topicId);
  const placed = changes.filter((change) => change.newPos !== null);
  const writes: Promise<unknown>[] = [];
  if (removed.length > 0) {
    writes.push(
      tx
        .delete(rankings)
        .where(and(eq(rankings.studentId, studentId), sql`${rankings.topicId} = any(${sql.param(removed)}::uuid[])`)),
    );
  }
  if (placed.length > 0) {
    // The rows as three arrays: the query builder assembled six parameters per row on every save
    // (a sixth of the web server's CPU went to drizzle's statement building under load).
    writes.push(
      tx.execute(sql`
        insert into ${rankings} (student_id, topic_id, period_id, position, previous_position, session_id)
        select ${studentId}::uuid, u.topic_id, ${periodId}::uuid, u.position, u.previous_position, ${sessionId}::text
        from unnest(${sql.param(placed.map((change) => change.topicId))}::uuid[],
          ${sql.param(placed.map((change) => change.newPos))}::int[],
          ${sql.param(placed.map((change) => change.oldPos))}::int[]) as u(topic_id, position, previous_position)
        on conflict (student_id, topic_id) do update set position = excluded.position,
          previous_position = ${rankings}.position, session_id = excluded.session_id, updated_at = now()`),
    );
  }
  return writes;
}

/**
 * Applies one batch of a student's ranking updates in one transaction: checks
 * the period is open, the batch is made against the current version, every
 * topic belongs to the period and the result is a ranking; writes the rows,
 * both ranking aggregates and the event. A batch id seen before answers its
 * stored result, even after the period closed.
 */
export async function applyRankingBatch({
  db,
  studentId,
  periodId,
  batchId,
  sessionId,
  baseVersion,
  updates,
  stats,
  maintainAggregates = true,
}: {
  db: Database;
  studentId: string;
  periodId: string;
  batchId: string;
  sessionId: string;
  /** The version the page's order was based on; null applies on top of whatever is current. */
  baseVersion: number | null;
  updates: RankingUpdate[];
  /** Counts the transaction's retries (serialization failures, deadlocks), for benchmarks. */
  stats?: TransactionStats;
  /**
   * Only for the benchmark's baseline: false skips the aggregates, leaving them
   * out of step with the rankings until the consistency repair runs.
   */
  maintainAggregates?: boolean;
}): Promise<RankingResult> {
  // Statements that do not depend on each other are issued together: postgres.js
  // pipelines them on the transaction's connection, saving round trips.
  return withTransaction(db, async (tx) => {
    const topicIds = [...new Set(updates.map((update) => update.topicId))];
    const started = await startBatch(tx, {
      batchId,
      studentId,
      periodId,
      baseVersion,
      staleMessage: "Your ranking was changed elsewhere (another tab or device). The page now shows the saved order.",
      load: () => knownTopicIds(tx, periodId, topicIds),
    });
    if ("replay" in started) return started.replay;
    const { version, current, loaded: known } = started;
    const unknown = topicIds.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new RankingError("unknown-topic", `Not a topic of this selection period: ${unknown.join(", ")}.`);
    }
    let applied: ReturnType<typeof applyRankingUpdates>;
    try {
      applied = applyRankingUpdates(current, updates);
    } catch (error) {
      if (error instanceof RankingRuleError) throw new RankingError("invalid-batch", error.message);
      throw error;
    }
    return commitChanges(tx, {
      studentId,
      periodId,
      batchId,
      sessionId,
      version,
      kind: "batch",
      maintainAggregates,
      ...applied,
    });
  }, { stats, maxAttempts: SAVE_ATTEMPTS });
}

/**
 * The start every save and undo shares: answer a replayed batch id with its
 * stored result, require an open period, lock the student's ranking state,
 * check the replay again (the same batch may have committed while we waited
 * for the lock) and refuse a batch based on an older version. `load` runs in
 * the same round trip as the second check.
 */
async function startBatch<T>(
  tx: Transaction,
  {
    batchId,
    studentId,
    periodId,
    baseVersion,
    staleMessage,
    load,
  }: {
    batchId: string;
    studentId: string;
    periodId: string;
    baseVersion: number | null;
    staleMessage: string;
    load: () => Promise<T>;
  },
): Promise<{ replay: RankingResult } | { version: number; current: Awaited<ReturnType<typeof currentPositions>>; loaded: T }> {
  const [replay, status] = await Promise.all([
    replayedResult(tx, { batchId, studentId, periodId }),
    lockPeriodStatus(tx, periodId),
  ]);
  if (replay) return { replay };
  requireOpen(status);
  const version = await lockRankingState(tx, studentId, periodId);
  const [lateReplay, current, loaded] = await Promise.all([
    replayedResult(tx, { batchId, studentId, periodId }),
    currentPositions(tx, studentId, periodId),
    load(),
  ]);
  if (lateReplay) return { replay: lateReplay };
  if (baseVersion !== null && baseVersion !== version) {
    throw new RankingError("stale-version", staleMessage, { order: orderOf(current), version });
  }
  return { version, current, loaded };
}

async function replayedResult(
  tx: Transaction,
  { batchId, studentId, periodId }: { batchId: string; studentId: string; periodId: string },
): Promise<RankingResult | undefined> {
  const [previous] = await tx.select().from(rankingBatches).where(eq(rankingBatches.batchId, batchId));
  if (!previous) return undefined;
  if (previous.studentId !== studentId || previous.periodId !== periodId) {
    throw new RankingError("batch-id-reused", "That batch id was already used for another request; send a new batch id.");
  }
  const order = previous.resultOrder ?? (await getStudentRanking({ db: tx, studentId, periodId })).order;
  return {
    order,
    version: previous.version,
    changes: previous.changes,
    affectedTopicIds: affectedTopicIds(previous.changes),
    replayed: true,
  };
}

async function commitChanges(
  tx: Transaction,
  {
    studentId,
    periodId,
    batchId,
    sessionId,
    version,
    kind,
    next,
    changes,
    undoes,
    maintainAggregates = true,
  }: {
    studentId: string;
    periodId: string;
    batchId: string;
    sessionId: string;
    version: number;
    kind: "batch" | "undo";
    next: Map<string, number>;
    changes: RankingChange[];
    undoes?: string;
    maintainAggregates?: boolean;
  },
): Promise<RankingResult> {
  const order = orderOf(next);
  if (changes.length === 0) {
    await tx.insert(rankingBatches).values({ batchId, studentId, periodId, kind, version, changes, resultOrder: order });
    return { order, version, changes, affectedTopicIds: [], replayed: false };
  }
  const nextVersion = version + 1;
  const row = (topicId: string, position: number | null): RankingAggregateRow[] =>
    position === null ? [] : [{ studentId, topicId, periodId, position }];
  await Promise.all([
    ...writeChanges(tx, { studentId, periodId, sessionId, changes }),
    tx
      .update(rankingStates)
      .set({ version: nextVersion })
      .where(and(eq(rankingStates.studentId, studentId), eq(rankingStates.periodId, periodId))),
    tx.insert(rankingBatches).values({ batchId, studentId, periodId, kind, version: nextVersion, changes, resultOrder: order }),
    kind === "batch"
      ? recordEvent(tx, {
          type: "RANKINGS_BATCH_UPDATED",
          actorId: studentId,
          actorType: "student",
          sessionId,
          periodId,
          payload: { studentId, batchId, sessionId, updates: changes },
        })
      : recordEvent(tx, {
          type: "RANKINGS_UNDONE",
          actorId: studentId,
          actorType: "student",
          sessionId,
          periodId,
          payload: { studentId, undoneBatchId: undoes!, updates: changes },
        }),
    ...(kind === "undo" ? [tx.update(rankingBatches).set({ undoneBy: batchId }).where(eq(rankingBatches.batchId, undoes!))] : []),
  ]);
  // The aggregates go last and alone. Last, because their delta insert takes the
  // trees' write locks (shared; a repair of a tree waits for them and they wait
  // for a repair), so they are held only until the commit right after. Alone,
  // because an error there would also fail the statements pipelined behind it.
  if (maintainAggregates) {
    await maintainRankingAggregates(tx, {
      before: changes.flatMap((change) => row(change.topicId, change.oldPos)),
      after: changes.flatMap((change) => row(change.topicId, change.newPos)),
    });
  }
  return { order, version: nextVersion, changes, affectedTopicIds: affectedTopicIds(changes), replayed: false };
}

/**
 * Undoes the student's most recent batch that is not yet undone, restoring the
 * positions it changed. Repeated undos walk back through the history.
 */
export async function undoLastBatch({
  db,
  studentId,
  periodId,
  batchId,
  sessionId,
  baseVersion = null,
}: {
  db: Database;
  studentId: string;
  periodId: string;
  batchId: string;
  sessionId: string;
  /** The version the page showed, so an undo never reverts a change the student has not seen. */
  baseVersion?: number | null;
}): Promise<RankingResult> {
  return withTransaction(db, async (tx) => {
    const started = await startBatch(tx, {
      batchId,
      studentId,
      periodId,
      baseVersion,
      staleMessage:
        "Your ranking was changed elsewhere (another tab or device), so nothing was undone. The page now shows the saved order.",
      load: async () => undefined,
    });
    if ("replay" in started) return started.replay;
    const { version, current } = started;
    const [last] = await tx
      .select()
      .from(rankingBatches)
      .where(undoableBatches(studentId, periodId))
      .orderBy(desc(rankingBatches.version))
      .limit(1);
    if (!last) throw new RankingError("nothing-to-undo", "There is nothing left to undo.");
    const inverse = invertChanges(last.changes).map(({ topicId, newPos }) => ({ topicId, position: newPos }));
    const { next, changes } = applyRankingUpdates(current, inverse);
    return commitChanges(tx, {
      studentId,
      periodId,
      batchId,
      sessionId,
      version,
      kind: "undo",
      next,
      changes,
      undoes: last.batchId,
    });
  }, { maxAttempts: SAVE_ATTEMPTS });
}

function undoableBatches(studentId: string, periodId: string) {
  return and(
    eq(rankingBatches.studentId, studentId),
    eq(rankingBatches.periodId, periodId),
    eq(rankingBatches.kind, "batch"),
    isNull(rankingBatches.undoneBy),
    sql`jsonb_array_length(${rankingBatches.changes}) > 0`,
  );
}

/** How many of the student's batches an undo could still revert (for the page's Undo button). */
export async function countUndoableBatches({
  db,
  studentId,
  periodId,
}: {
  db: Executor;
  studentId: string;
  periodId: string;
}): Promise<number> {
  const [row] = await db.select({ count: count() }).from(rankingBatches).where(undoableBatches(studentId, periodId));
  return row.count;
}

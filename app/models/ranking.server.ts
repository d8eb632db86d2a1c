import { and, eq } from "drizzle-orm";
import { rankings, rankingStates } from "../../drizzle/schema";
import type { DeltaArrays } from "../aggregate";
import { runStatement, withRetries, type Database, type Executor, type TransactionStats } from "../db.server";
import { eventRow } from "./event.server";
import { rankingAggregateDeltas } from "./ranking-aggregates.server";
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
 * (about six seconds in all) rather than fail a save the student made; so
 * does one whose ranking another save changed between its read and its
 * commit. The buffered aggregates lock no tree node, so both are rare.
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

/** A batch as stored: what a replay of its batch id answers. */
type StoredBatch = {
  studentId: string;
  periodId: string;
  version: number;
  changes: RankingChange[];
  resultOrder: string[] | null;
};

type LoadedRanking = {
  /** The period's status; null when there is no such period. */
  status: string | null;
  version: number;
  /** The batch stored under this batch id, when it was applied before. */
  replay: StoredBatch | null;
  current: Map<string, number>;
  /** Which of the topics asked about belong to the period. */
  known: Set<string>;
  /** The student's latest batch an undo would revert (asked for by undo only). */
  lastUndoable: { batchId: string; changes: RankingChange[] } | null;
};

/** A student's batches an undo could still revert; $1 is the student, $2 the period. */
const UNDOABLE_BATCHES = `b.student_id = $1 and b.period_id = $2 and b.kind = 'batch' and b.undone_by is null
  and jsonb_array_length(b.changes) > 0`;

/*
 * The two statements of every save are written out (runStatement) rather than
 * built by drizzle on each call. $1 student, $2 period, $3 batch id, $4 the
 * topics to check, $5 whether an undo asks for its batch.
 */
const LOAD_RANKING = `
  select
    (select p.status::text from selection_periods p where p.id = $2) as status,
    coalesce((select s.version from ranking_states s where s.student_id = $1 and s.period_id = $2), 0) as version,
    (select jsonb_build_object('studentId', b.student_id, 'periodId', b.period_id, 'version', b.version,
        'changes', b.changes, 'resultOrder', b.result_order)
      from ranking_batches b where b.batch_id = $3) as replay,
    r.topic_ids, r.positions,
    array(select t.id from topics t where t.period_id = $2 and t.id = any($4::uuid[])) as known,
    case when $5::boolean then (
      select jsonb_build_object('batchId', b.batch_id, 'changes', b.changes)
      from ranking_batches b where ${UNDOABLE_BATCHES}
      order by b.version desc limit 1) end as last_undoable
  from (select array_agg(topic_id order by position) as topic_ids, array_agg(position order by position) as positions
        from rankings where student_id = $1 and period_id = $2) r`;

/**
 * Everything a save decides on, in one statement (so one snapshot) and
 * without locks: the period's status, the student's version and positions,
 * the batch id's earlier result, the known topics. ranking_commit then writes
 * only if the version is still the one read here.
 */
async function loadRanking(
  db: Executor,
  { studentId, periodId, batchId, topicIds, forUndo }: { studentId: string; periodId: string; batchId: string; topicIds: string[]; forUndo: boolean },
): Promise<LoadedRanking> {
  const [row] = await runStatement<{
    status: string | null;
    version: number;
    replay: StoredBatch | null;
    topic_ids: string[] | null;
    positions: number[] | null;
    known: string[];
    last_undoable: { batchId: string; changes: RankingChange[] } | null;
  }>(db, LOAD_RANKING, [studentId, periodId, batchId, topicIds, forUndo]);
  const topicIdsInOrder = row.topic_ids ?? [];
  const positions = row.positions ?? [];
  return {
    status: row.status,
    version: row.version,
    replay: row.replay,
    current: new Map(topicIdsInOrder.map((topicId, index) => [topicId, positions[index]])),
    known: new Set(row.known),
    lastUndoable: row.last_undoable,
  };
}

function requireOpen(status: string | null) {
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

async function replayedResult(
  db: Executor,
  previous: StoredBatch,
  { studentId, periodId }: { studentId: string; periodId: string },
): Promise<RankingResult> {
  if (previous.studentId !== studentId || previous.periodId !== periodId) {
    throw new RankingError("batch-id-reused", "That batch id was already used for another request; send a new batch id.");
  }
  const order = previous.resultOrder ?? (await getStudentRanking({ db, studentId, periodId })).order;
  return {
    order,
    version: previous.version,
    changes: previous.changes,
    affectedTopicIds: affectedTopicIds(previous.changes),
    replayed: true,
  };
}

type Plan = { kind: "batch" | "undo"; next: Map<string, number>; changes: RankingChange[]; undoes?: string };

type SaveTarget = {
  db: Database;
  studentId: string;
  periodId: string;
  batchId: string;
  sessionId: string;
  baseVersion: number | null;
  stats?: TransactionStats;
  maintainAggregates?: boolean;
};

/**
 * What every save and undo shares: read (loadRanking), answer a replayed batch
 * id with its stored result, require an open period, refuse a batch based on
 * an older version, plan the changes, then write them with ranking_commit.
 * When another save of the student's committed between the read and the
 * write, ranking_commit writes nothing and the save reads again: a batch with
 * a base version then meets the stale-version check, one without is planned
 * again on the new ranking. The ranking's version is the lock here; the read
 * itself takes none, so a save is two statements and two round trips.
 */
async function saveRanking(
  { db, studentId, periodId, batchId, sessionId, baseVersion, stats, maintainAggregates = true }: SaveTarget,
  { topicIds, forUndo, staleMessage, plan }: { topicIds: string[]; forUndo: boolean; staleMessage: string; plan: (loaded: LoadedRanking) => Plan },
): Promise<RankingResult> {
  for (let attempt = 1; ; attempt++) {
    const loaded = await loadRanking(db, { studentId, periodId, batchId, topicIds, forUndo });
    if (loaded.replay) return replayedResult(db, loaded.replay, { studentId, periodId });
    requireOpen(loaded.status);
    if (baseVersion !== null && baseVersion !== loaded.version) {
      throw new RankingError("stale-version", staleMessage, { order: orderOf(loaded.current), version: loaded.version });
    }
    const planned = plan(loaded);
    const committed = await withRetries(
      () => commitRanking(db, { studentId, periodId, batchId, sessionId, readVersion: loaded.version, maintainAggregates, ...planned }),
      { maxAttempts: SAVE_ATTEMPTS, stats },
    );
    if (committed.outcome === "committed") {
      return {
        order: orderOf(planned.next),
        version: committed.version!,
        changes: planned.changes,
        affectedTopicIds: affectedTopicIds(planned.changes),
        replayed: false,
      };
    }
    if (committed.outcome === "period-not-found" || committed.outcome === "period-not-open") requireOpen(committed.status);
    // "moved" or "replay": read again.
    if (attempt >= SAVE_ATTEMPTS) throw new Error(`ranking save ${batchId}: the ranking kept changing under it (${attempt} attempts)`);
    if (stats) stats.retries++;
  }
}

const COMMIT_RANKING = `
  select o_outcome, o_version, o_status from ranking_commit(
    $1::uuid, $2::uuid, $3::uuid, $4::text, $5::int, $6::text, $7::text::jsonb, $8::text::jsonb,
    $9::uuid[], $10::uuid[], $11::int[], $12::int[], $13::text::jsonb, $14::uuid,
    $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])`;

const NO_DELTAS: DeltaArrays = { aggregates: [], namespaces: [], items: [], signs: [], sums: [] };

/**
 * One statement: ranking_commit writes the rows, the version, the batch
 * record, the event and both aggregates' deltas, or nothing when the version
 * read is no longer current (see the function in drizzle/migrations).
 */
async function commitRanking(
  db: Database,
  {
    studentId,
    periodId,
    batchId,
    sessionId,
    readVersion,
    kind,
    next,
    changes,
    undoes,
    maintainAggregates,
  }: Plan & {
    studentId: string;
    periodId: string;
    batchId: string;
    sessionId: string;
    readVersion: number;
    maintainAggregates: boolean;
  },
): Promise<{ outcome: string; version: number | null; status: string | null }> {
  const removed = changes.filter((change) => change.newPos === null).map((change) => change.topicId);
  const placed = changes.filter((change) => change.newPos !== null);
  const event =
    changes.length === 0
      ? null
      : eventRow(
          kind === "batch"
            ? {
                type: "RANKINGS_BATCH_UPDATED",
                actorId: studentId,
                actorType: "student",
                sessionId,
                periodId,
                payload: { studentId, batchId, sessionId, updates: changes },
              }
            : {
                type: "RANKINGS_UNDONE",
                actorId: studentId,
                actorType: "student",
                sessionId,
                periodId,
                payload: { studentId, undoneBatchId: undoes!, updates: changes },
              },
        );
  const deltas = maintainAggregates && changes.length > 0 ? rankingAggregateDeltas({ studentId, periodId, changes }) : NO_DELTAS;
  const [result] = await runStatement<{ o_outcome: string; o_version: number | null; o_status: string | null }>(db, COMMIT_RANKING, [
    studentId,
    periodId,
    batchId,
    kind,
    readVersion,
    sessionId,
    JSON.stringify(changes),
    JSON.stringify(orderOf(next)),
    removed,
    placed.map((change) => change.topicId),
    placed.map((change) => change.newPos),
    placed.map((change) => change.oldPos),
    event &&
      JSON.stringify({
        type: event.type,
        actor_id: event.actorId,
        actor_type: event.actorType,
        session_id: event.sessionId,
        period_id: event.periodId,
        payload: event.payload,
      }),
    undoes ?? null,
    deltas.aggregates,
    deltas.namespaces,
    deltas.items,
    deltas.signs,
    deltas.sums,
  ]);
  return { outcome: result.o_outcome, version: result.o_version, status: result.o_status };
}

/**
 * Applies one batch of a student's ranking updates atomically: checks the
 * period is open, the batch is made against the current version, every topic
 * belongs to the period and the result is a ranking; writes the rows, both
 * ranking aggregates and the event. A batch id seen before answers its stored
 * result, even after the period closed.
 */
export async function applyRankingBatch({
  updates,
  ...target
}: SaveTarget & {
  /** The version the page's order was based on; null applies on top of whatever is current. */
  baseVersion: number | null;
  updates: RankingUpdate[];
  /** Counts retries (serialization failures, deadlocks, saves that met another), for benchmarks. */
  stats?: TransactionStats;
  /**
   * Only for the benchmark's baseline: false skips the aggregates, leaving them
   * out of step with the rankings until the consistency repair runs.
   */
  maintainAggregates?: boolean;
}): Promise<RankingResult> {
  const topicIds = [...new Set(updates.map((update) => update.topicId))];
  return saveRanking(target, {
    topicIds,
    forUndo: false,
    staleMessage: "Your ranking was changed elsewhere (another tab or device). The page now shows the saved order.",
    plan: ({ known, current }) => {
      const unknown = topicIds.filter((id) => !known.has(id));
      if (unknown.length > 0) {
        throw new RankingError("unknown-topic", `Not a topic of this selection period: ${unknown.join(", ")}.`);
      }
      try {
        return { kind: "batch", ...applyRankingUpdates(current, updates) };
      } catch (error) {
        if (error instanceof RankingRuleError) throw new RankingError("invalid-batch", error.message);
        throw error;
      }
    },
  });
}

/**
 * Undoes the student's most recent batch that is not yet undone, restoring the
 * positions it changed. Repeated undos walk back through the history.
 */
export async function undoLastBatch({
  baseVersion = null,
  ...target
}: Omit<SaveTarget, "baseVersion" | "maintainAggregates"> & {
  /** The version the page showed, so an undo never reverts a change the student has not seen. */
  baseVersion?: number | null;
}): Promise<RankingResult> {
  return saveRanking(
    { ...target, baseVersion },
    {
      topicIds: [],
      forUndo: true,
      staleMessage:
        "Your ranking was changed elsewhere (another tab or device), so nothing was undone. The page now shows the saved order.",
      plan: ({ lastUndoable, current }) => {
        if (!lastUndoable) throw new RankingError("nothing-to-undo", "There is nothing left to undo.");
        const inverse = invertChanges(lastUndoable.changes).map(({ topicId, newPos }) => ({ topicId, position: newPos }));
        return { kind: "undo", undoes: lastUndoable.batchId, ...applyRankingUpdates(current, inverse) };
      },
    },
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
  const [row] = await runStatement<{ count: number }>(
    db,
    `select count(*)::int as count from ranking_batches b where ${UNDOABLE_BATCHES}`,
    [studentId, periodId],
  );
  return row.count;
}

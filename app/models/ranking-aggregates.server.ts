import { compactPending, TableAggregate, trustedDeltaArrays, type AggregateDb, type DeltaArrays } from "../aggregate";
import type { RankingChange } from "./ranking";

/** One ranking row as both aggregates see it. */
export type RankingAggregateRow = { studentId: string; topicId: string; periodId: string; position: number };

/*
 * Both instances are buffered: a save appends its deltas (one row per tree) in
 * its own transaction and locks no node, so students saving at once no longer
 * meet at the roots of popular topics' trees. Reads add the pending deltas;
 * the compactAggregates job folds them into the trees (compactRankingAggregates).
 */

/**
 * Per topic, the positions students gave it: count, Σposition and Σposition²
 * give a topic's student count, mean and standard deviation without a scan,
 * and ranges over the key give the distribution.
 */
export const rankingsByTopic = new TableAggregate<RankingAggregateRow>({
  name: "rankingsByTopic",
  channels: 2,
  namespace: (row) => row.topicId,
  key: (row) => row.position,
  id: (row) => row.studentId,
  sums: (row) => [row.position, row.position * row.position],
  buffered: true,
});

/** Per student and period, their list in order: the k-th choice is `at(k - 1)`. */
export const rankingsByStudent = new TableAggregate<RankingAggregateRow>({
  name: "rankingsByStudent",
  channels: 1,
  namespace: (row) => `${row.periodId}:${row.studentId}`,
  key: (row) => [row.position, row.topicId],
  id: (row) => row.topicId,
  sums: (row) => [row.position],
  buffered: true,
});

/**
 * The deltas of a student's ranking changes in both aggregates, as the
 * arguments of aggregate_append: each change deletes the row at its old
 * position and inserts the one at its new (a change always moves, adds or
 * removes). ranking_commit appends them in the save's own statement.
 *
 * The ops are trusted (no presence lookup, no per-item locks): the only caller
 * is the ranking model's commit, for saves and undos alike, and there the old
 * positions are the student's rankings rows as read at the version that
 * ranking_commit finds unchanged under the lock of their ranking_states row,
 * which every change to those rows takes and bumps. So each deleted item is in
 * the aggregates with exactly these sums and no inserted one is, as long as the
 * aggregates agree with the rankings table, which the consistency job checks.
 */
export function rankingAggregateDeltas({
  studentId,
  periodId,
  changes,
}: {
  studentId: string;
  periodId: string;
  changes: RankingChange[];
}): DeltaArrays {
  const rows = (position: "oldPos" | "newPos") =>
    changes.flatMap((change): RankingAggregateRow[] =>
      change[position] === null ? [] : [{ studentId, topicId: change.topicId, periodId, position: change[position] }],
    );
  const changed = { deleted: rows("oldPos"), inserted: rows("newPos") };
  return trustedDeltaArrays([
    { aggregate: rankingsByTopic, ...changed },
    { aggregate: rankingsByStudent, ...changed },
  ]);
}

/**
 * Folds the pending deltas of both ranking aggregates into their trees (the
 * trees with the most deltas first, 64 per transaction unless `paced`);
 * trees another compactor (or a repair) holds are skipped, since it folds
 * them itself. Anomalies (deltas that did not match the tree) mean the
 * aggregates had drifted from the rankings table; the consistency job
 * repairs that.
 *
 * `paced` is for the scheduled job, which runs while students save: 10 trees
 * per transaction, each followed by a pause as long as it took. A pass over
 * 2 s of 50 students' saves is about 0.1 s of CPU here and as much in
 * Postgres; in one burst it holds up the saves that arrive meanwhile. In
 * bench:rankings at the page's pace (~0.5 s pauses), run alternately with and
 * without pacing, the p99 was lower paced in 7 of 9 pairs (medians 97 and
 * 151 ms; a fixed 15 ms pause in 3 of the pairs).
 */
export function compactRankingAggregates(db: AggregateDb, { paced = false }: { paced?: boolean } = {}) {
  return compactPending(db, [rankingsByTopic, rankingsByStudent], paced ? { treesPerTransaction: 10, pauseRatio: 1 } : {});
}

/** Deltas waiting in both ranking aggregates. */
export async function pendingRankingDeltas(db: AggregateDb): Promise<number> {
  const [topic, student] = await Promise.all([rankingsByTopic.pendingCount(db), rankingsByStudent.pendingCount(db)]);
  return topic + student;
}

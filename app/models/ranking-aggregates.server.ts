import { applyBatches, TableAggregate, type AggregateDb } from "../aggregate";

/** One ranking row as both aggregates see it. */
export type RankingAggregateRow = { studentId: string; topicId: string; periodId: string; position: number };

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
});

/** Per student and period, their list in order: the k-th choice is `at(k - 1)`. */
export const rankingsByStudent = new TableAggregate<RankingAggregateRow>({
  name: "rankingsByStudent",
  channels: 1,
  namespace: (row) => `${row.periodId}:${row.studentId}`,
  key: (row) => [row.position, row.topicId],
  id: (row) => row.topicId,
  sums: (row) => [row.position],
});

const rowKey = (row: RankingAggregateRow) => `${row.studentId}|${row.topicId}|${row.position}`;

/**
 * Brings both aggregates from the `before` rows to the `after` rows inside the
 * caller's transaction, in one aggregate call for the two (applyBatches), so a
 * save pays the aggregate round trips once. Rows present in both are left alone.
 */
export async function maintainRankingAggregates(
  tx: AggregateDb,
  { before, after }: { before: RankingAggregateRow[]; after: RankingAggregateRow[] },
): Promise<void> {
  const afterKeys = new Set(after.map(rowKey));
  const kept = new Set(before.map(rowKey).filter((key) => afterKeys.has(key)));
  const deleted = before.filter((row) => !kept.has(rowKey(row)));
  const inserted = after.filter((row) => !kept.has(rowKey(row)));
  if (deleted.length === 0 && inserted.length === 0) return;
  await applyBatches(tx, [
    { aggregate: rankingsByTopic, ops: rankingsByTopic.opsFor({ deleted, inserted }) },
    { aggregate: rankingsByStudent, ops: rankingsByStudent.opsFor({ deleted, inserted }) },
  ]);
}

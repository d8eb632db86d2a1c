import { TableAggregate } from "../aggregate";

/*
 * Stand-in with the names and shapes fixed in the shared interface, so the
 * metrics code can be written before branch `ranking` lands; its version of
 * this file (which also maintains the aggregates on save) replaces this one.
 */
export type RankingAggregateRow = { studentId: string; topicId: string; periodId: string; position: number };

export const rankingsByTopic = new TableAggregate<RankingAggregateRow>({
  name: "rankingsByTopic",
  channels: 2,
  namespace: (row) => row.topicId,
  key: (row) => row.position,
  id: (row) => row.studentId,
  sums: (row) => [row.position, row.position * row.position],
});

export const rankingsByStudent = new TableAggregate<RankingAggregateRow>({
  name: "rankingsByStudent",
  channels: 1,
  namespace: (row) => `${row.periodId}:${row.studentId}`,
  key: (row) => [row.position, row.topicId],
  id: (row) => row.topicId,
  sums: (row) => [row.position],
});

/**
 * Pure rules of a student's ranking (PRODUCT.md "A student's ranking"): an
 * ordered list of distinct topics whose positions are contiguous 1..k.
 */
export type RankingUpdate = { topicId: string; position: number | null };
export type RankingChange = { topicId: string; oldPos: number | null; newPos: number | null };

export class RankingRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RankingRuleError";
  }
}

/** The order (topic ids, first = position 1) of a topic → position map. */
export function orderOf(positions: Map<string, number>): string[] {
  return [...positions.entries()].sort((a, b) => a[1] - b[1]).map(([topicId]) => topicId);
}

/**
 * Applies a batch of updates (position null removes the topic) to the current
 * positions. Throws RankingRuleError when the result would not be a ranking:
 * a topic named twice, a position below 1, duplicate positions, or a position
 * past the end of the list (a gap).
 */
export function applyRankingUpdates(
  current: Map<string, number>,
  updates: RankingUpdate[],
): { next: Map<string, number>; changes: RankingChange[] } {
  const seen = new Set<string>();
  const next = new Map(current);
  for (const { topicId, position } of updates) {
    if (seen.has(topicId)) throw new RankingRuleError(`Topic ${topicId} appears more than once in the batch.`);
    seen.add(topicId);
    if (position === null) {
      next.delete(topicId);
    } else {
      if (!Number.isInteger(position) || position < 1) {
        throw new RankingRuleError(`Position ${position} for topic ${topicId} is not a whole number of at least 1.`);
      }
      next.set(topicId, position);
    }
  }
  const byPosition = new Map<number, string>();
  for (const [topicId, position] of next) {
    // With k distinct positions all within 1..k there can be no gap, so this
    // one check also catches every gap.
    if (position > next.size) {
      throw new RankingRuleError(
        `Position ${position} for topic ${topicId} is out of range (it would leave a gap): the list would hold ${next.size} topic${next.size === 1 ? "" : "s"}, at positions 1..${next.size}.`,
      );
    }
    const other = byPosition.get(position);
    if (other !== undefined) {
      throw new RankingRuleError(`Topics ${other} and ${topicId} would both be at position ${position}.`);
    }
    byPosition.set(position, topicId);
  }
  const changes: RankingChange[] = [];
  for (const topicId of new Set([...current.keys(), ...next.keys()])) {
    const oldPos = current.get(topicId) ?? null;
    const newPos = next.get(topicId) ?? null;
    if (oldPos !== newPos) changes.push({ topicId, oldPos, newPos });
  }
  changes.sort((a, b) => (a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : 0));
  return { next, changes };
}

/** The updates that turn one order into another (what the page sends after a drag). */
export function diffOrders(from: string[], to: string[]): RankingUpdate[] {
  const before = new Map(from.map((topicId, index) => [topicId, index + 1]));
  const after = new Map(to.map((topicId, index) => [topicId, index + 1]));
  const updates: RankingUpdate[] = [];
  for (const [topicId, position] of after) if (before.get(topicId) !== position) updates.push({ topicId, position });
  for (const topicId of before.keys()) if (!after.has(topicId)) updates.push({ topicId, position: null });
  return updates;
}

/** The topics whose position changed (added, moved or removed): whose metrics need recomputing. */
export function affectedTopicIds(changes: RankingChange[]): string[] {
  return [...new Set(changes.map((change) => change.topicId))].sort();
}

/** Moves the item at `from` to index `to` (both 0-based), returning a new array. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const next = items.slice();
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}

/** The changes that undo `changes`. */
export function invertChanges(changes: RankingChange[]): RankingChange[] {
  return changes.map(({ topicId, oldPos, newPos }) => ({ topicId, oldPos: newPos, newPos: oldPos }));
}

/** Replays changes (e.g. from the event log) onto positions, in order. */
export function replayChanges(positions: Map<string, number>, changes: RankingChange[]): void {
  for (const { topicId, newPos } of changes) {
    if (newPos === null) positions.delete(topicId);
    else positions.set(topicId, newPos);
  }
}

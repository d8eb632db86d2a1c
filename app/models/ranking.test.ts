import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { affectedTopicIds, applyRankingUpdates, diffOrders, invertChanges, moveItem, orderOf, RankingRuleError } from "./ranking";

const positionsOf = (order: string[]) => new Map(order.map((topicId, index) => [topicId, index + 1]));
const TOPICS = ["a", "b", "c", "d", "e", "f", "g"];
const orderArbitrary = fc.subarray(TOPICS).chain((subset) => fc.shuffledSubarray(subset, { minLength: subset.length }));

describe("ranking rules", () => {
  it("turns any order into any other through diffOrders, and invertChanges turns it back", () => {
    fc.assert(
      fc.property(orderArbitrary, orderArbitrary, (from, to) => {
        const { next, changes } = applyRankingUpdates(positionsOf(from), diffOrders(from, to));
        expect(orderOf(next)).toEqual(to);
        expect(affectedTopicIds(changes)).toEqual(TOPICS.filter((t) => from.indexOf(t) !== to.indexOf(t)));
        const back = applyRankingUpdates(
          next,
          invertChanges(changes).map(({ topicId, newPos }) => ({ topicId, position: newPos })),
        );
        expect(orderOf(back.next)).toEqual(from);
      }),
    );
  });

  it.each([
    ["a topic named twice", [{ topicId: "a", position: 1 }, { topicId: "a", position: 2 }], /more than once/],
    ["position 0", [{ topicId: "c", position: 0 }], /at least 1/],
    ["a position past the end", [{ topicId: "c", position: 4 }], /out of range .*: the list would hold 3 topics, at positions 1..3/],
    ["two topics at one position", [{ topicId: "c", position: 2 }], /both be at position 2/],
    ["a gap", [{ topicId: "a", position: null }, { topicId: "b", position: 2 }], /out of range \(it would leave a gap\)/],
  ])("refuses %s", (_name, updates, message) => {
    expect(() => applyRankingUpdates(positionsOf(["a", "b"]), updates)).toThrow(RankingRuleError);
    expect(() => applyRankingUpdates(positionsOf(["a", "b"]), updates)).toThrow(message);
  });

  it("moves one item within a list without changing the original", () => {
    const items = ["a", "b", "c", "d"];
    expect(moveItem(items, 3, 0)).toEqual(["d", "a", "b", "c"]);
    expect(moveItem(items, 0, 2)).toEqual(["b", "c", "a", "d"]);
    expect(items).toEqual(["a", "b", "c", "d"]);
  });
});

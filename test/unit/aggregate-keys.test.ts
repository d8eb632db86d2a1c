import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AggregateConfigError, type Key } from "~/aggregate";
import { boundsToRange, decodeItem, encodeItem, encodeKey } from "~/aggregate/keys";
import { compareItems, inBounds } from "../integration/aggregate/reference";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const partArb = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }).filter((s) => !LONE_SURROGATE.test(s)),
);
const keyArb: fc.Arbitrary<Key> = fc.oneof(partArb, fc.array(partArb, { maxLength: 4 }));
const idArb = fc.string({ unit: "grapheme", maxLength: 6 });

describe("memcomparable item encoding", () => {
  test("byte order is the documented (key, id) order, and decoding gives the item back", () => {
    fc.assert(
      fc.property(keyArb, idArb, keyArb, idArb, (keyA, idA, keyB, idB) => {
        const a = encodeItem(keyA, idA);
        const b = encodeItem(keyB, idB);
        expect(Math.sign(Buffer.compare(a, b))).toBe(Math.sign(compareItems({ key: keyA, id: idA }, { key: keyB, id: idB })));
        const decoded = decodeItem(a);
        expect(decoded.id).toBe(idA);
        expect(encodeKey(decoded.key).equals(encodeKey(keyA))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  test("a byte range from bounds holds exactly the items the bounds describe", () => {
    const boundArb = fc.record({ key: keyArb, id: fc.option(idArb, { nil: undefined }), inclusive: fc.boolean() });
    fc.assert(
      fc.property(keyArb, idArb, fc.option(boundArb, { nil: undefined }), fc.option(boundArb, { nil: undefined }), (key, id, lower, upper) => {
        const bounds = { lower, upper };
        const { lo, hi } = boundsToRange(bounds);
        const item = encodeItem(key, id);
        const inRange = (lo === null || Buffer.compare(item, lo) >= 0) && (hi === null || Buffer.compare(item, hi) < 0);
        expect(inRange).toBe(inBounds({ key, id, sums: [] }, bounds));
      }),
      { numRuns: 2_000 },
    );
  });

  test("keys it cannot order are refused", () => {
    expect(() => encodeKey(Number.NaN)).toThrow(AggregateConfigError);
    expect(() => encodeKey(["a", "\udc00"])).toThrow(AggregateConfigError);
    expect(encodeKey(-0).equals(encodeKey(0))).toBe(true);
  });
});

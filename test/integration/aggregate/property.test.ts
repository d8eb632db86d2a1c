import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  AggregateDuplicateItemError,
  AggregateItemMissingError,
  DirectAggregate,
  type Bounds,
  type Item,
  type Key,
  type KeyPart,
  type WriteOp,
} from "~/aggregate";
import { getDb } from "~/db.server";
import { SortedReference } from "./reference";

const NAMESPACES = ["left", "right"];
// Few distinct values so that equal keys (ties by id), duplicates and misses are common.
const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom("a", "b", "\uffff", "\u{10000}", ""),
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom("x", "y")),
  fc.tuple(fc.integer({ min: 0, max: 4 }))
);
const idArb = fc.constantFrom("i1", "i2", "i3", "\u0000z");
const nsArb = fc.constantFrom(...NAMESPACES);
const sumsArb = fc.tuple(
  fc.integer({ min: -50, max: 50 }),
  fc.integer({ min: 0, max: 2_000_000_000 })
);

const opArb: fc.Arbitrary<WriteOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("insert" as const),
      namespace: nsArb,
      key: keyArb,
      id: idArb,
      sums: sumsArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("insertIfDoesNotExist" as const),
      namespace: nsArb,
      key: keyArb,
      id: idArb,
      sums: sumsArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("delete" as const),
      namespace: nsArb,
      key: keyArb,
      id: idArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("deleteIfExists" as const),
      namespace: nsArb,
      key: keyArb,
      id: idArb,
    }),
  }
);

const boundArb = fc.record(
  { key: keyArb, id: idArb, inclusive: fc.boolean() },
  { requiredKeys: ["key", "inclusive"] }
);
const boundsArb: fc.Arbitrary<Bounds | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ lower: boundArb, upper: boundArb }, { requiredKeys: [] }),
  fc.record({
    prefix: fc.oneof(
      fc.constant<KeyPart[]>([]),
      fc.tuple(fc.integer({ min: 0, max: 4 })).map((parts): KeyPart[] => parts),
      fc
        .tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom("x", "y"))
        .map((parts): KeyPart[] => parts)
    ),
  }),
  fc.record({ eq: keyArb })
);

// A batch is either a few ops applied together, or a single replace.
const stepArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(opArb, { minLength: 1, maxLength: 12 })
      .map((ops) => ({ kind: "batch" as const, ops })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        fromNs: nsArb,
        fromKey: keyArb,
        fromId: idArb,
        toNs: nsArb,
        toKey: keyArb,
        toId: idArb,
        sums: sumsArb,
        orInsert: fc.boolean(),
      })
      .map((r) => ({ kind: "replace" as const, ...r })),
  }
);

let run = 0;

async function checkAgainstReference(
  agg: DirectAggregate,
  references: Map<string, SortedReference>,
  queries: (Bounds | undefined)[]
) {
  const db = getDb();
  for (const namespace of NAMESPACES) {
    const reference = references.get(namespace)!;
    const all = reference.items;
    const report = await agg.validate(db, namespace);
    expect(report.problems).toEqual([]);
    expect(report.count).toBe(all.length);
    expect(report.sums).toEqual(reference.sums(undefined, 2));

    const boundsList = [undefined, ...queries];
    expect(
      await agg.countBatch(
        db,
        boundsList.map((bounds) => ({ namespace, bounds }))
      )
    ).toEqual(boundsList.map((bounds) => reference.within(bounds).length));
    expect(
      await agg.sumBatch(
        db,
        boundsList.map((bounds) => ({ namespace, bounds }))
      )
    ).toEqual(boundsList.map((bounds) => reference.sums(bounds, 2)));
    for (const bounds of queries) {
      const within = reference.within(bounds);
      expect(await agg.count(db, { namespace, bounds })).toBe(within.length);
      expect(await agg.min(db, { namespace, bounds })).toEqual(
        within[0] ?? null
      );
      expect(await agg.max(db, { namespace, bounds })).toEqual(
        within.at(-1) ?? null
      );
      expect(await agg.at(db, { namespace, bounds, offset: 1 })).toEqual(
        within[1] ?? null
      );
      expect(await agg.at(db, { namespace, bounds, offset: -2 })).toEqual(
        within.at(-2) ?? null
      );
      const picked = await agg.random(db, { namespace, bounds });
      if (within.length === 0) expect(picked).toBeNull();
      else expect(within).toContainEqual(picked);
      for (const order of ["asc", "desc"] as const) {
        const seen: Item[] = [];
        for await (const item of agg.iter(db, {
          namespace,
          bounds,
          order,
          pageSize: 3,
        }))
          seen.push(item);
        expect(seen).toEqual(order === "asc" ? within : [...within].reverse());
      }
    }

    const offsets = [
      ...all.keys(),
      all.length,
      -1,
      -all.length,
      -all.length - 1,
    ];
    expect(
      await agg.atBatch(
        db,
        offsets.map((offset) => ({ namespace, offset }))
      )
    ).toEqual(offsets.map((offset) => all.at(offset) ?? null));
    for (const item of all.slice(0, 6)) {
      for (const order of ["asc", "desc"] as const) {
        expect(
          await agg.indexOf(db, {
            namespace,
            key: item.key,
            id: item.id,
            order,
          })
        ).toBe(reference.indexOf(item.key, item.id, order));
        expect(await agg.indexOf(db, { namespace, key: item.key, order })).toBe(
          reference.indexOf(item.key, undefined, order)
        );
      }
    }

    const pages: Item[] = [];
    let cursor: string | undefined;
    for (;;) {
      const result = await agg.paginate(db, {
        namespace,
        cursor,
        pageSize: 4,
        order: "desc",
      });
      pages.push(...result.page);
      if (result.isDone) break;
      cursor = result.cursor;
    }
    expect(pages).toEqual([...all].reverse());
  }
}

function applyToReference(
  references: Map<string, SortedReference>,
  ops: WriteOp[]
) {
  const copies = new Map(
    [...references].map(([ns, ref]) => {
      const copy = new SortedReference();
      copy.items = [...ref.items];
      return [ns, copy] as const;
    })
  );
  for (const op of ops) {
    const reference = copies.get(op.namespace)!;
    if (op.op === "insert" || op.op === "insertIfDoesNotExist") {
      const inserted = reference.insert({
        key: op.key,
        id: op.id,
        sums: op.sums ?? [0, 0],
      });
      if (!inserted && op.op === "insert") return AggregateDuplicateItemError;
    } else {
      const deleted = reference.delete(op);
      if (!deleted && op.op === "delete") return AggregateItemMissingError;
    }
  }
  for (const [ns, copy] of copies) references.set(ns, copy);
  return null;
}

describe.each([
  { maxNodeSize: 4, rootLazy: true, buffered: false },
  { maxNodeSize: 4, rootLazy: false, buffered: false },
  { maxNodeSize: 6, rootLazy: true, buffered: false },
  { maxNodeSize: 6, rootLazy: false, buffered: false },
  { maxNodeSize: 8, rootLazy: true, buffered: false },
  { maxNodeSize: 8, rootLazy: false, buffered: false },
  { maxNodeSize: 4, rootLazy: true, buffered: true },
  { maxNodeSize: 6, rootLazy: false, buffered: true },
  { maxNodeSize: 8, rootLazy: true, buffered: true },
])(
  "random write sequences against a sorted array (maxNodeSize $maxNodeSize, rootLazy $rootLazy, buffered $buffered)",
  (settings) => {
    test("every read matches the reference and every invariant holds", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(stepArb, { minLength: 3, maxLength: 18 }),
          fc.array(boundsArb, { minLength: 2, maxLength: 4 }),
          fc.constantFrom(0, 4),
          // Buffered: after which steps a namespace's deltas are folded into its tree.
          fc.array(fc.option(nsArb, { nil: null }), {
            minLength: 18,
            maxLength: 18,
          }),
          async (steps, queries, rebuildFactor, compactions) => {
            const db = getDb();
            // rebuildFactor 0 keeps every batch on the item-by-item path; 4 sends large batches through the rewrite.
            const agg = new DirectAggregate({
              name: `prop${run++}`,
              channels: 2,
              rebuildFactor,
              ...settings,
            });
            const references = new Map(
              NAMESPACES.map((ns) => [ns, new SortedReference()])
            );
            for (const [index, step] of steps.entries()) {
              const compactNs = compactions[index];
              if (settings.buffered && compactNs !== null) {
                const result = await agg.compact(db, compactNs);
                expect(result?.anomalies).toBe(0);
              }
              const ops: WriteOp[] =
                step.kind === "batch"
                  ? step.ops
                  : [
                      {
                        op: step.orInsert ? "deleteIfExists" : "delete",
                        namespace: step.fromNs,
                        key: step.fromKey,
                        id: step.fromId,
                      },
                      {
                        op: "insert",
                        namespace: step.toNs,
                        key: step.toKey,
                        id: step.toId,
                        sums: step.sums,
                      },
                    ];
              const expectedError = applyToReference(references, ops);
              const from = {
                namespace: step.kind === "replace" ? step.fromNs : "",
                key: step.kind === "replace" ? step.fromKey : 0,
                id: step.kind === "replace" ? step.fromId : "",
              };
              const attempt =
                step.kind === "batch"
                  ? agg.applyBatch(db, ops)
                  : step.orInsert
                  ? agg.replaceOrInsert(db, from, {
                      namespace: step.toNs,
                      key: step.toKey,
                      id: step.toId,
                      sums: step.sums,
                    })
                  : agg.replace(db, from, {
                      namespace: step.toNs,
                      key: step.toKey,
                      id: step.toId,
                      sums: step.sums,
                    });
              if (expectedError)
                await expect(attempt).rejects.toBeInstanceOf(expectedError);
              else await attempt;
            }
            await checkAgainstReference(agg, references, queries);
            if (settings.buffered) {
              for (const namespace of NAMESPACES)
                expect((await agg.compact(db, namespace))?.anomalies).toBe(0);
              expect(await agg.pendingCount(db)).toBe(0);
              await checkAgainstReference(agg, references, queries);
            }
          }
        ),
        { numRuns: 10 }
      );
    });
  }
);

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AggregateDuplicateItemError, AggregateItemMissingError, DirectAggregate, type WriteOp } from "~/aggregate";
import { getDb } from "~/db.server";
import { boundsArb, checkAgainstReference, NAMESPACES, nsArb, stepArb } from "./checks";
import { SortedReference } from "./reference";

let run = 0;

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

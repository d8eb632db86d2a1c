import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DirectAggregate, type WriteOp } from "~/aggregate";
import { getDb } from "~/db.server";
import { boundsArb, checkAgainstReference, idArb, keyArb, NAMESPACES, nsArb, sumsArb } from "./checks";
import { SortedReference } from "./reference";

/*
 * Trusted buffered batches (the app's case: the caller vouches for every op)
 * mixed with checked ones and random compactions. Intents are resolved
 * against the reference when the step runs, so every trusted op is true:
 * deletes name a present item with its sums, inserts an absent one.
 */
const intentArb = fc.record({
  kind: fc.constantFrom("insert", "delete", "move", "resum"),
  namespace: nsArb,
  key: keyArb,
  id: idArb,
  sums: sumsArb,
  pick: fc.nat(),
});
const stepArb = fc.record({
  intents: fc.array(intentArb, { minLength: 1, maxLength: 10 }),
  trusted: fc.boolean(),
  compact: fc.option(nsArb, { nil: null }),
});

type Intent = { kind: string; namespace: string; key: WriteOp["key"]; id: string; sums: [number, number]; pick: number };

/** Turns intents into ops that are true for the reference, applying them to it as it goes. */
function resolve(references: Map<string, SortedReference>, intents: Intent[]): WriteOp[] {
  const ops: WriteOp[] = [];
  const pickExisting = (pick: number) => {
    const all = NAMESPACES.flatMap((namespace) => references.get(namespace)!.items.map((item) => ({ namespace, item })));
    return all.length === 0 ? null : all[pick % all.length];
  };
  for (const intent of intents) {
    const target = references.get(intent.namespace)!;
    const existing = intent.kind === "insert" ? null : pickExisting(intent.pick);
    if (existing) {
      const { namespace, item } = existing;
      references.get(namespace)!.delete(item);
      ops.push({ op: "delete", namespace, key: item.key, id: item.id, sums: item.sums });
      if (intent.kind === "delete") continue;
      const moved =
        intent.kind === "resum"
          ? { namespace, key: item.key, id: item.id, sums: intent.sums }
          : { namespace: intent.namespace, key: intent.key, id: intent.id, sums: intent.sums };
      if (references.get(moved.namespace)!.insert({ key: moved.key, id: moved.id, sums: moved.sums })) {
        ops.push({ op: "insert", ...moved });
      }
      continue;
    }
    if (target.insert({ key: intent.key, id: intent.id, sums: intent.sums })) {
      ops.push({ op: "insert", namespace: intent.namespace, key: intent.key, id: intent.id, sums: intent.sums });
    }
  }
  return ops;
}

let run = 0;

describe.each([
  { maxNodeSize: 4, rootLazy: true },
  { maxNodeSize: 6, rootLazy: false },
])("trusted buffered batches against a sorted array (maxNodeSize $maxNodeSize, rootLazy $rootLazy)", (settings) => {
  test("every read matches the reference before and after compaction", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 3, maxLength: 16 }),
        fc.array(boundsArb, { minLength: 2, maxLength: 3 }),
        async (steps, queries) => {
          const db = getDb();
          const agg = new DirectAggregate({ name: `trusted${run++}`, channels: 2, buffered: true, ...settings });
          const references = new Map(NAMESPACES.map((ns) => [ns, new SortedReference()]));
          for (const step of steps) {
            if (step.compact !== null) expect((await agg.compact(db, step.compact))?.anomalies).toBe(0);
            const ops = resolve(references, step.intents);
            await agg.applyBatch(db, ops, { trusted: step.trusted });
          }
          await checkAgainstReference(agg, references, queries);
          for (const namespace of NAMESPACES) expect((await agg.compact(db, namespace))?.anomalies).toBe(0);
          expect(await agg.pendingCount(db)).toBe(0);
          await checkAgainstReference(agg, references, queries);
        },
      ),
      { numRuns: 12 },
    );
  });
});

import fc from "fast-check";
import { expect } from "vitest";
import type { Bounds, DirectAggregate, Item, Key, KeyPart, WriteOp } from "~/aggregate";
import { getDb } from "~/db.server";
import type { SortedReference } from "./reference";

export const NAMESPACES = ["left", "right"];
// Few distinct values so that equal keys (ties by id), duplicates and misses are common.
export const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom("a", "b", "\uffff", "\u{10000}", ""),
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom("x", "y")),
  fc.tuple(fc.integer({ min: 0, max: 4 }))
);
export const idArb = fc.constantFrom("i1", "i2", "i3", "\u0000z");
export const nsArb = fc.constantFrom(...NAMESPACES);
export const sumsArb = fc.tuple(
  fc.integer({ min: -50, max: 50 }),
  fc.integer({ min: 0, max: 2_000_000_000 })
);

export const opArb: fc.Arbitrary<WriteOp> = fc.oneof(
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
export const boundsArb: fc.Arbitrary<Bounds | undefined> = fc.oneof(
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
export const stepArb = fc.oneof(
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


export async function checkAgainstReference(
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


import { sql } from "drizzle-orm";
import { describe, expect, test } from "vitest";
import {
  AggregateConfigError,
  AggregateDuplicateItemError,
  AggregateError,
  AggregateItemMissingError,
  DirectAggregate,
  TableAggregate,
  type Item,
} from "~/aggregate";
import { getDb, withTransaction } from "~/db.server";

const db = () => getDb();

async function rootOf(name: string, namespace: string) {
  const [row] = await db().execute<{ children: string[] | null; keys: Buffer[]; count: string | null }>(
    sql`select n.children, n.keys, n.count from aggregate_trees t join aggregate_nodes n on n.id = t.root_id
        where t.aggregate = ${name} and t.namespace = ${namespace}`,
  );
  return row;
}

async function all(agg: DirectAggregate, namespace: string): Promise<Item[]> {
  const items: Item[] = [];
  for await (const item of agg.iter(db(), { namespace, pageSize: 7 })) items.push(item);
  return items;
}

describe("aggregate edge cases", () => {
  test("an empty or unknown namespace answers every read", async () => {
    const agg = new DirectAggregate({ name: "edgeEmpty", channels: 3 });
    const q = { namespace: "nothing" };
    expect(await agg.count(db(), q)).toBe(0);
    expect(await agg.sum(db(), q)).toEqual([0, 0, 0]);
    expect(await agg.at(db(), { ...q, offset: 0 })).toBeNull();
    expect(await agg.at(db(), { ...q, offset: -1 })).toBeNull();
    expect(await agg.min(db(), q)).toBeNull();
    expect(await agg.max(db(), q)).toBeNull();
    expect(await agg.random(db(), q)).toBeNull();
    expect(await agg.indexOf(db(), { ...q, key: 5 })).toBe(0);
    expect(await agg.paginate(db(), q)).toEqual({ page: [], cursor: "", isDone: true });
    expect(await agg.validate(db(), "nothing")).toEqual({ ok: true, problems: [], count: 0, sums: [0, 0, 0] });
    expect(await agg.paginateNamespaces(db(), {})).toEqual({ page: [], cursor: "", isDone: true });
  });

  test("a single item, then many equal keys ordered by id", async () => {
    const agg = new DirectAggregate({ name: "edgeTies", maxNodeSize: 4 });
    await agg.insert(db(), "n", { key: 7, id: "only", sums: [7] });
    expect(await agg.at(db(), { namespace: "n", offset: 0 })).toEqual({ key: 7, id: "only", sums: [7] });
    expect(await agg.at(db(), { namespace: "n", offset: -1 })).toEqual({ key: 7, id: "only", sums: [7] });
    expect(await agg.at(db(), { namespace: "n", offset: 1 })).toBeNull();
    await agg.delete(db(), "n", { key: 7, id: "only" });

    const ids = Array.from({ length: 40 }, (_, i) => `id-${String(i).padStart(2, "0")}`);
    await agg.applyBatch(
      db(),
      [...ids].reverse().map((id) => ({ op: "insert" as const, namespace: "n", key: 7, id, sums: [1] })),
    );
    expect((await all(agg, "n")).map((item) => item.id)).toEqual(ids);
    expect(await agg.indexOf(db(), { namespace: "n", key: 7, id: "id-10" })).toBe(10);
    expect(await agg.indexOf(db(), { namespace: "n", key: 7, id: "id-10", order: "desc" })).toBe(29);
    expect(await agg.indexOf(db(), { namespace: "n", key: 7 })).toBe(0);
    expect(await agg.count(db(), { namespace: "n", bounds: { eq: 7 } })).toBe(40);
    expect(
      await agg.count(db(), {
        namespace: "n",
        bounds: { lower: { key: 7, id: "id-05", inclusive: false }, upper: { key: 7, id: "id-08", inclusive: true } },
      }),
    ).toBe(3);
    expect((await agg.validate(db(), "n")).ok).toBe(true);
  });

  test("bounds at the extremes: smallest and largest keys, inclusive and exclusive", async () => {
    const agg = new DirectAggregate({ name: "edgeBounds", maxNodeSize: 4 });
    const keys = [-Number.MAX_VALUE, -1.5, -0, 0.25, 3, "", "a", "\u{10FFFF}", [], [0], [0, ""], ["z"]];
    await agg.applyBatch(
      db(),
      keys.map((key, i) => ({ op: "insert" as const, namespace: "n", key, id: `i${i}`, sums: [i] })),
    );
    const listed = await all(agg, "n");
    expect(listed.map((item) => item.id)).toEqual(keys.map((_, i) => `i${i}`));
    expect(listed[2].key).toBe(0);
    const count = (bounds: Parameters<DirectAggregate["count"]>[1]["bounds"]) => agg.count(db(), { namespace: "n", bounds });
    expect(await count({ lower: { key: -Number.MAX_VALUE, inclusive: true } })).toBe(12);
    expect(await count({ lower: { key: -Number.MAX_VALUE, inclusive: false } })).toBe(11);
    expect(await count({ upper: { key: ["z"], inclusive: true } })).toBe(12);
    expect(await count({ upper: { key: ["z"], inclusive: false } })).toBe(11);
    expect(await count({ lower: { key: 3, inclusive: false }, upper: { key: [], inclusive: false } })).toBe(3);
    expect(await count({ prefix: [0] })).toBe(2);
    expect(await count({ prefix: [] })).toBe(4);
    expect(await count({ lower: { key: "b", inclusive: true }, upper: { key: "a", inclusive: true } })).toBe(0);
    expect(await agg.sum(db(), { namespace: "n", bounds: { prefix: [] } })).toEqual([8 + 9 + 10 + 11]);
  });

  test("a namespace emptied and refilled, and items moved between namespaces", async () => {
    const agg = new DirectAggregate({ name: "edgeRefill", maxNodeSize: 4, rebuildFactor: 0 });
    const items = Array.from({ length: 30 }, (_, i) => ({ key: i, id: `x${i}`, sums: [i] }));
    await agg.applyBatch(db(), items.map((item) => ({ op: "insert" as const, namespace: "a", ...item })));
    await agg.applyBatch(db(), items.map((item) => ({ op: "delete" as const, namespace: "a", key: item.key, id: item.id })));
    expect(await agg.count(db(), { namespace: "a" })).toBe(0);
    expect((await rootOf("edgeRefill", "a")).children).toBeNull();
    expect((await agg.validate(db(), "a")).problems).toEqual([]);
    await agg.applyBatch(db(), items.map((item) => ({ op: "insert" as const, namespace: "a", ...item })));
    expect(await agg.sum(db(), { namespace: "a" })).toEqual([435]);

    for (const item of items.slice(0, 12)) {
      await agg.replace(db(), { namespace: "a", key: item.key, id: item.id }, { namespace: "b", key: -item.key - 1, id: item.id, sums: [1] });
    }
    expect(await agg.countBatch(db(), [{ namespace: "a" }, { namespace: "b" }])).toEqual([18, 12]);
    expect(await agg.min(db(), { namespace: "b" })).toEqual({ key: -12, id: "x11", sums: [1] });
    await expect(
      agg.replace(db(), { namespace: "a", key: 0, id: "x0" }, { namespace: "b", key: 0, id: "x0" }),
    ).rejects.toBeInstanceOf(AggregateItemMissingError);
    await agg.replaceOrInsert(db(), { namespace: "a", key: 0, id: "x0" }, { namespace: "b", key: 0, id: "x0", sums: [1] });
    expect(await agg.count(db(), { namespace: "b" })).toBe(13);
    expect((await agg.paginateNamespaces(db(), { pageSize: 1 })).page).toEqual(["a"]);
    const second = await agg.paginateNamespaces(db(), { pageSize: 1, cursor: "a" });
    expect(second).toEqual({ page: ["b"], cursor: "b", isDone: true });
    for (const ns of ["a", "b"]) expect((await agg.validate(db(), ns)).problems).toEqual([]);
  });

  test("a lazy root splits and collapses, and never stores totals", async () => {
    const agg = new DirectAggregate({ name: "edgeLazy", maxNodeSize: 4, rebuildFactor: 0 });
    for (let i = 0; i < 5; i++) await agg.insert(db(), "n", { key: i, id: "i", sums: [i] });
    const split = await rootOf("edgeLazy", "n");
    expect(split.children).toHaveLength(2);
    expect(split.count).toBeNull();
    expect(await agg.count(db(), { namespace: "n" })).toBe(5);
    for (let i = 0; i < 4; i++) await agg.delete(db(), "n", { key: i, id: "i" });
    const collapsed = await rootOf("edgeLazy", "n");
    expect(collapsed.children).toBeNull();
    expect(collapsed.keys).toHaveLength(1);
    expect((await agg.validate(db(), "n")).problems).toEqual([]);

    const eager = new DirectAggregate({ name: "edgeEager", maxNodeSize: 4, rootLazy: false });
    for (let i = 0; i < 9; i++) await eager.insert(db(), "n", { key: i, id: "i", sums: [i] });
    expect((await rootOf("edgeEager", "n")).count).toBe("9");
    await eager.makeRootLazy(db(), "n");
    expect((await rootOf("edgeEager", "n")).count).toBeNull();
    expect(await eager.sum(db(), { namespace: "n" })).toEqual([36]);
    expect((await eager.validate(db(), "n")).problems).toEqual([]);
  });

  test("clear resets one namespace or all of them, with new settings", async () => {
    const agg = new DirectAggregate({ name: "edgeClear", maxNodeSize: 4 });
    for (const ns of ["p", "q"]) {
      await agg.applyBatch(db(), Array.from({ length: 20 }, (_, i) => ({ op: "insert" as const, namespace: ns, key: i, id: "i" })));
    }
    await agg.clear(db(), { namespace: "p", maxNodeSize: 8, rootLazy: false });
    expect(await agg.countBatch(db(), [{ namespace: "p" }, { namespace: "q" }])).toEqual([0, 20]);
    await agg.applyBatch(db(), Array.from({ length: 20 }, (_, i) => ({ op: "insert" as const, namespace: "p", key: i, id: "i" })));
    const [tree] = await db().execute<{ max_node_size: number; root_lazy: boolean }>(
      sql`select max_node_size, root_lazy from aggregate_trees where aggregate = 'edgeClear' and namespace = 'p'`,
    );
    expect(tree).toEqual({ max_node_size: 8, root_lazy: false });
    expect((await agg.validate(db(), "p")).problems).toEqual([]);
    await agg.clear(db());
    expect(await agg.countBatch(db(), [{ namespace: "p" }, { namespace: "q" }])).toEqual([0, 0]);
    const [left] = await db().execute<{ n: string }>(sql`select count(*) as n from aggregate_nodes where aggregate = 'edgeClear'`);
    expect(left.n).toBe("0");
    await expect(agg.clear(db(), { maxNodeSize: 3 })).rejects.toBeInstanceOf(AggregateConfigError);
  });

  test("buildFromSorted replaces a namespace in one pass and refuses unsorted or duplicate input", async () => {
    const agg = new DirectAggregate({ name: "edgeBuild", channels: 2, maxNodeSize: 6 });
    await agg.insert(db(), "n", { key: -1, id: "old", sums: [5, 5] });
    async function* stream() {
      for (let i = 0; i < 1_000; i++) yield { key: [Math.floor(i / 10), "k"], id: `i${String(i).padStart(4, "0")}`, sums: [i, 1] };
    }
    expect(await agg.buildFromSorted(db(), "n", stream())).toBe(1_000);
    const report = await agg.validate(db(), "n");
    expect(report).toEqual({ ok: true, problems: [], count: 1_000, sums: [499_500, 1_000] });
    expect(await agg.at(db(), { namespace: "n", offset: 500 })).toEqual({ key: [50, "k"], id: "i0500", sums: [500, 1] });
    await agg.insert(db(), "n", { key: [3, "a"], id: "new", sums: [0, 0] });
    expect(await agg.indexOf(db(), { namespace: "n", key: [3, "a"] })).toBe(30);

    await expect(
      agg.buildFromSorted(db(), "n", [
        { key: 2, id: "a", sums: [0, 0] },
        { key: 1, id: "b", sums: [0, 0] },
      ]),
    ).rejects.toBeInstanceOf(AggregateConfigError);
    await expect(
      agg.buildFromSorted(db(), "n", [
        { key: 1, id: "a", sums: [0, 0] },
        { key: 1, id: "a", sums: [0, 0] },
      ]),
    ).rejects.toBeInstanceOf(AggregateDuplicateItemError);
    expect(await agg.count(db(), { namespace: "n" })).toBe(1_001);
    expect(await agg.buildFromSorted(db(), "n", [])).toBe(0);
    expect(await agg.count(db(), { namespace: "n" })).toBe(0);
  });

  test("bad input is refused with typed errors and leaves nothing half-applied", async () => {
    expect(() => new DirectAggregate({ name: "bad", maxNodeSize: 2 })).toThrow(AggregateConfigError);
    expect(() => new DirectAggregate({ name: "bad", channels: 0 })).toThrow(AggregateConfigError);
    const agg = new DirectAggregate({ name: "edgeBad", channels: 2 });
    await expect(agg.insert(db(), "n", { key: 1, id: "a", sums: [1] })).rejects.toBeInstanceOf(AggregateConfigError);
    await expect(agg.insert(db(), "n", { key: 1, id: "a", sums: [1.5, 0] })).rejects.toBeInstanceOf(AggregateConfigError);
    await expect(agg.insert(db(), "n", { key: Number.NaN, id: "a" })).rejects.toBeInstanceOf(AggregateConfigError);
    await expect(agg.insert(db(), "n", { key: "\ud800", id: "a" })).rejects.toBeInstanceOf(AggregateError);
    await agg.insert(db(), "n", { key: 1, id: "a", sums: [1, 1] });
    const error = await agg.insert(db(), "n", { key: 1, id: "a", sums: [1, 1] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateDuplicateItemError);
    expect((error as Error).message).toContain('id "a"');

    // A failing strict op inside a caller's transaction rolls back the caller's own writes too.
    type Row = { id: string; value: number };
    const table = new TableAggregate<Row>({ name: "edgeRows", namespace: () => "all", key: (r) => r.value, id: (r) => r.id });
    await table.insert(db(), { id: "r1", value: 1 });
    await expect(
      withTransaction(db(), async (tx) => {
        await table.insert(tx, { id: "r2", value: 2 });
        await table.delete(tx, { id: "missing", value: 9 });
      }),
    ).rejects.toBeInstanceOf(AggregateItemMissingError);
    expect(await table.count(db(), { namespace: "all" })).toBe(1);
    expect(await table.insertIfDoesNotExist(db(), { id: "r1", value: 1 })).toBe(false);
    await table.replace(db(), { id: "r1", value: 1 }, { id: "r1", value: 5 });
    expect(await table.max(db(), { namespace: "all" })).toEqual({ key: 5, id: "r1", sums: [0] });
    await table.applyChanges(db(), { deleted: [{ id: "r1", value: 5 }], inserted: [{ id: "r3", value: 3 }] });
    expect((await table.min(db(), { namespace: "all" }))?.id).toBe("r3");
  });
});

import { sql } from "drizzle-orm";
import { describe, expect, test } from "vitest";
import {
  AggregateConfigError,
  AggregateDuplicateItemError,
  AggregateError,
  AggregateItemMissingError,
  DirectAggregate,
  TableAggregate,
  applyBatches,
  compactPending,
  type Item,
  type WriteOp,
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

async function all(agg: Pick<DirectAggregate, "iter">, namespace: string): Promise<Item[]> {
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

  test("leaves edited in place: items deleted and inserted again with other sums, several runs in one leaf", async () => {
    const agg = new DirectAggregate({ name: "edgeEdits", channels: 2, maxNodeSize: 16, rebuildFactor: 0 });
    const expected = new Map<number, Item>();
    const items = Array.from({ length: 200 }, (_, i) => ({ key: i * 10, id: `e${i}`, sums: [i, 1] }));
    await agg.applyBatch(db(), items.map((item) => ({ op: "insert" as const, namespace: "n", ...item })));
    for (const item of items) expected.set(item.key, item);
    expect((await rootOf("edgeEdits", "n")).children).not.toBeNull();

    // Same (key, id) back with new sums; neighbours removed; new keys between kept ones; a delete of an insert of this batch.
    const ops: WriteOp[] = [];
    for (const k of [50, 51, 52, 120, 121, 180]) {
      const old = expected.get(k * 10)!;
      ops.push({ op: "delete" as const, namespace: "n", key: old.key, id: old.id });
      const again = { key: old.key, id: old.id, sums: [1000 + k, 7] };
      ops.push({ op: "insert" as const, namespace: "n", ...again });
      expected.set(k * 10, again);
    }
    for (const k of [60, 62, 64]) {
      ops.push({ op: "delete" as const, namespace: "n", key: k * 10, id: `e${k}` });
      expected.delete(k * 10);
    }
    for (const key of [601, 605, 633, 1999]) {
      const added = { key, id: `new${key}`, sums: [key, 3] };
      ops.push({ op: "insert" as const, namespace: "n", ...added });
      expected.set(key, added);
    }
    ops.push({ op: "delete" as const, namespace: "n", key: 605, id: "new605" });
    expected.delete(605);
    await agg.applyBatch(db(), ops);

    const want = [...expected.values()].sort((a, b) => (a.key as number) - (b.key as number));
    expect(await all(agg, "n")).toEqual(want);
    expect(await agg.sum(db(), { namespace: "n" })).toEqual([
      want.reduce((total, item) => total + item.sums[0], 0),
      want.reduce((total, item) => total + item.sums[1], 0),
    ]);
    expect(await agg.sum(db(), { namespace: "n", bounds: { lower: { key: 500, inclusive: true }, upper: { key: 530, inclusive: false } } })).toEqual([
      1050 + 1051 + 1052,
      21,
    ]);
    expect((await agg.validate(db(), "n")).problems).toEqual([]);
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

async function treeExists(name: string, namespace: string) {
  const [row] = await db().execute<{ n: string }>(
    sql`select count(*) as n from aggregate_trees where aggregate = ${name} and namespace = ${namespace}`,
  );
  return row.n === "1";
}

/** Every node row of an aggregate, to show that a refused batch left the tree as it was. */
async function nodesOf(name: string) {
  return db().execute(sql`select id, keys, sums, children, count, totals from aggregate_nodes where aggregate = ${name} order by id`);
}

const insert = (namespace: string, key: number, id: string, sums?: number[]): WriteOp => ({ op: "insert", namespace, key, id, sums });
const remove = (namespace: string, key: number, id: string, sums?: number[]): WriteOp => ({ op: "delete", namespace, key, id, sums });

describe("buffered aggregate edge cases", () => {
  test("a refused strict op writes nothing, against the tree or the deltas, even in a transaction that goes on", async () => {
    const agg = new DirectAggregate({ name: "bufStrict", buffered: true });
    await agg.insert(db(), "n", { key: 1, id: "inTree", sums: [1] });
    expect(await agg.compact(db(), "n")).toEqual({ deltas: 1, items: 1, anomalies: 0 });
    await agg.insert(db(), "n", { key: 2, id: "pending", sums: [2] });
    const nodes = await nodesOf("bufStrict");

    const refused: [WriteOp[], typeof AggregateError][] = [
      [[insert("n", 3, "new", [3]), insert("n", 1, "inTree", [9])], AggregateDuplicateItemError],
      [[insert("n", 3, "new", [3]), insert("n", 2, "pending", [9])], AggregateDuplicateItemError],
      [[insert("n", 3, "new", [3]), insert("n", 3, "new", [3])], AggregateDuplicateItemError],
      [[insert("n", 3, "new", [3]), remove("n", 9, "missing")], AggregateItemMissingError],
      [[remove("n", 2, "pending"), remove("n", 2, "pending")], AggregateItemMissingError],
      [[remove("n", 1, "inTree"), insert("n", 5, "other", [5]), remove("n", 1, "inTree")], AggregateItemMissingError],
    ];
    for (const [ops, type] of refused) {
      await expect(agg.applyBatch(db(), ops)).rejects.toBeInstanceOf(type);
      // The caller catches the refusal and commits its other work: the refused batch still left nothing.
      await withTransaction(db(), async (tx) => {
        await expect(agg.applyBatch(tx, ops)).rejects.toBeInstanceOf(type);
      });
    }
    await withTransaction(db(), async (tx) => {
      await expect(agg.applyBatch(tx, refused[3][0])).rejects.toBeInstanceOf(AggregateItemMissingError);
      await agg.insert(tx, "n", { key: 4, id: "after", sums: [4] });
    });
    expect(await agg.pendingCount(db(), "n")).toBe(2);
    expect(await nodesOf("bufStrict")).toEqual(nodes);
    const want = [
      { key: 1, id: "inTree", sums: [1] },
      { key: 2, id: "pending", sums: [2] },
      { key: 4, id: "after", sums: [4] },
    ];
    expect(await all(agg, "n")).toEqual(want);
    expect(await agg.compact(db(), "n")).toEqual({ deltas: 2, items: 2, anomalies: 0 });
    expect(await all(agg, "n")).toEqual(want);
    expect((await agg.validate(db(), "n")).problems).toEqual([]);
  });

  test("applyBatches over a buffered and a direct instance: one refused op writes nothing in either", async () => {
    const buffered = new DirectAggregate({ name: "bufMixB", buffered: true });
    const direct = new DirectAggregate({ name: "bufMixD", maxNodeSize: 4 });
    await buffered.insert(db(), "n", { key: 1, id: "x", sums: [1] });
    await direct.applyBatch(db(), [1, 2, 3, 4, 5].map((k) => insert("n", k, `d${k}`, [k])));
    const directNodes = await nodesOf("bufMixD");

    const cases: [{ aggregate: DirectAggregate; ops: WriteOp[] }[], typeof AggregateError][] = [
      // Refused in the buffered instance, after a valid direct batch.
      [
        [
          { aggregate: direct, ops: [insert("n", 6, "d6", [6]), remove("n", 1, "d1")] },
          { aggregate: buffered, ops: [insert("n", 2, "y", [2]), insert("n", 1, "x", [1])] },
        ],
        AggregateDuplicateItemError,
      ],
      // Refused in the direct instance, after a valid buffered batch.
      [
        [
          { aggregate: buffered, ops: [insert("n", 2, "y", [2]), remove("n", 1, "x")] },
          { aggregate: direct, ops: [insert("n", 6, "d6", [6]), remove("n", 9, "missing")] },
        ],
        AggregateItemMissingError,
      ],
    ];
    for (const [batches, type] of cases) {
      await expect(applyBatches(db(), batches)).rejects.toBeInstanceOf(type);
      await withTransaction(db(), async (tx) => {
        await expect(applyBatches(tx, batches)).rejects.toBeInstanceOf(type);
      });
    }
    expect(await buffered.pendingCount(db())).toBe(1);
    expect(await all(buffered, "n")).toEqual([{ key: 1, id: "x", sums: [1] }]);
    expect(await nodesOf("bufMixD")).toEqual(directNodes);
    expect(await direct.count(db(), { namespace: "n" })).toBe(5);

    // The same batches without the refused op apply to both.
    await applyBatches(db(), [
      { aggregate: buffered, ops: [insert("n", 2, "y", [2]), remove("n", 1, "x")] },
      { aggregate: direct, ops: [insert("n", 6, "d6", [6]), remove("n", 1, "d1")] },
    ]);
    expect(await all(buffered, "n")).toEqual([{ key: 2, id: "y", sums: [2] }]);
    expect(await direct.sum(db(), { namespace: "n" })).toEqual([2 + 3 + 4 + 5 + 6]);
    for (const agg of [buffered, direct]) expect((await agg.validate(db(), "n")).problems).toEqual([]);
  });

  test("trusted ops: a delete needs the item's sums, and TableAggregate gives them", async () => {
    const agg = new DirectAggregate({ name: "bufTrusted", channels: 2, buffered: true });
    await agg.applyBatch(db(), [insert("n", 1, "a", [1, 10])], { trusted: true });
    await expect(agg.applyBatch(db(), [remove("n", 1, "a")], { trusted: true })).rejects.toBeInstanceOf(AggregateConfigError);
    await expect(
      applyBatches(db(), [{ aggregate: agg, ops: [insert("n", 2, "b", [2, 20]), remove("n", 1, "a")], trusted: true }]),
    ).rejects.toBeInstanceOf(AggregateConfigError);
    await expect(agg.applyBatch(db(), [remove("n", 1, "a", [1])], { trusted: true })).rejects.toBeInstanceOf(AggregateConfigError);
    expect(await agg.pendingCount(db(), "n")).toBe(1);
    await agg.applyBatch(db(), [remove("n", 1, "a", [1, 10]), insert("n", 2, "b", [2, 20])], { trusted: true });
    expect(await all(agg, "n")).toEqual([{ key: 2, id: "b", sums: [2, 20] }]);

    type Row = { id: string; value: number };
    const table = new TableAggregate<Row>({
      name: "bufTrustedRows",
      buffered: true,
      namespace: () => "all",
      key: (r) => r.value,
      id: (r) => r.id,
      sums: (r) => [r.value * 2],
    });
    await table.applyChanges(db(), { inserted: [{ id: "r1", value: 1 }, { id: "r2", value: 2 }] }, { trusted: true });
    await table.applyChanges(db(), { deleted: [{ id: "r1", value: 1 }], inserted: [{ id: "r1", value: 7 }] }, { trusted: true });
    expect(await table.sum(db(), { namespace: "all" })).toEqual([18]);
    expect(await table.compact(db(), "all")).toMatchObject({ anomalies: 0 });
    expect(await all(table, "all")).toEqual([
      { key: 2, id: "r2", sums: [4] },
      { key: 7, id: "r1", sums: [14] },
    ]);
    expect((await table.validate(db(), "all")).problems).toEqual([]);
  });

  test("clear and buildFromSorted drop a namespace's deltas", async () => {
    const agg = new DirectAggregate({ name: "bufClear", maxNodeSize: 4, buffered: true });
    for (const ns of ["p", "q", "r"]) {
      await agg.applyBatch(db(), [1, 2, 3, 4, 5].map((k) => insert(ns, k, `${ns}${k}`, [k])));
    }
    await agg.compact(db(), "p");
    await agg.applyBatch(db(), [remove("p", 1, "p1"), insert("p", 6, "p6", [6])]);
    expect(await agg.pendingCount(db())).toBe(12);

    await agg.clear(db(), { namespace: "p" });
    expect(await agg.pendingCount(db(), "p")).toBe(0);
    expect(await agg.countBatch(db(), [{ namespace: "p" }, { namespace: "q" }, { namespace: "r" }])).toEqual([0, 5, 5]);
    expect((await agg.validate(db(), "p")).problems).toEqual([]);

    const built = [10, 20, 30].map((k) => ({ key: k, id: `b${k}`, sums: [k] }));
    expect(await agg.buildFromSorted(db(), "q", built)).toBe(3);
    expect(await agg.pendingCount(db(), "q")).toBe(0);
    expect(await all(agg, "q")).toEqual(built);
    expect(await agg.validate(db(), "q")).toEqual({ ok: true, problems: [], count: 3, sums: [60] });
    expect(await agg.pendingCount(db())).toBe(5);

    await agg.clear(db());
    expect(await agg.pendingCount(db())).toBe(0);
    expect(await agg.countBatch(db(), [{ namespace: "p" }, { namespace: "q" }, { namespace: "r" }])).toEqual([0, 0, 0]);
  });

  test("paginateNamespaces counts the deltas: a namespace with deltas only is listed, one they emptied is not", async () => {
    const agg = new DirectAggregate({ name: "bufSpaces", buffered: true });
    await agg.insert(db(), "b-deltas-only", { key: 1, id: "a" });
    await agg.applyBatch(db(), [insert("c-emptied", 1, "a"), insert("d-kept", 1, "a"), insert("e-never", 1, "a")]);
    for (const ns of ["c-emptied", "d-kept"]) await agg.compact(db(), ns);
    await agg.applyBatch(db(), [remove("c-emptied", 1, "a"), remove("e-never", 1, "a"), insert("d-kept", 2, "b")]);
    await agg.applyBatch(db(), [insert("a-deleted-again", 3, "x"), remove("a-deleted-again", 3, "x")]);
    expect(await treeExists("bufSpaces", "b-deltas-only")).toBe(false);
    expect(await treeExists("bufSpaces", "c-emptied")).toBe(true);

    const listed = ["b-deltas-only", "d-kept"];
    expect(await agg.paginateNamespaces(db(), {})).toEqual({ page: listed, cursor: "d-kept", isDone: true });
    const first = await agg.paginateNamespaces(db(), { pageSize: 1 });
    expect(first).toEqual({ page: ["b-deltas-only"], cursor: "b-deltas-only", isDone: false });
    expect(await agg.paginateNamespaces(db(), { pageSize: 1, cursor: first.cursor })).toEqual({
      page: ["d-kept"],
      cursor: "d-kept",
      isDone: true,
    });
    expect(await compactPending(db(), [agg])).toMatchObject({ trees: 5, skipped: 0, anomalies: 0 });
    expect(await agg.pendingCount(db())).toBe(0);
    expect(await agg.paginateNamespaces(db(), {})).toEqual({ page: listed, cursor: "d-kept", isDone: true });
  });

  test("a paced pass (two trees per transaction, a pause after each) folds every tree and reads the same", async () => {
    const agg = new DirectAggregate({ name: "bufPaced", maxNodeSize: 4, buffered: true });
    const namespaces = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    await agg.applyBatch(
      db(),
      namespaces.flatMap((ns, n) => Array.from({ length: 3 + n }, (_, k) => insert(ns, k, `i${k}`))),
    );
    await agg.applyBatch(db(), [remove("p2", 0, "i0"), remove("p7", 8, "i8")]);
    const queries = namespaces.flatMap((namespace) => [{ namespace }, { namespace, bounds: { upper: { key: 2, inclusive: true } } }]);
    const before = await agg.countBatch(db(), queries);
    expect(before.slice(0, 4)).toEqual([3, 3, 3, 2]);

    expect(await compactPending(db(), [agg], { treesPerTransaction: 2, pauseRatio: 1 })).toMatchObject({
      trees: 7,
      skipped: 0,
      deltas: 44,
      anomalies: 0,
    });
    expect(await agg.pendingCount(db())).toBe(0);
    expect(await agg.countBatch(db(), queries)).toEqual(before);
    for (const ns of namespaces) expect(await treeExists("bufPaced", ns)).toBe(true);
  });

  test("a replace in place (same key and id, new sums) is read with the new sums before and after compaction", async () => {
    const agg = new DirectAggregate({ name: "bufInPlace", channels: 2, maxNodeSize: 4, buffered: true });
    await agg.applyBatch(db(), [1, 2, 3, 4, 5, 6].map((k) => insert("n", k * 10, `t${k}`, [k, 1])));
    await agg.compact(db(), "n");
    await agg.insert(db(), "n", { key: 35, id: "p", sums: [100, 1] });
    // One item from the tree and one that only exists as a delta, each back with new sums.
    await agg.replace(db(), { namespace: "n", key: 30, id: "t3" }, { namespace: "n", key: 30, id: "t3", sums: [300, 3] });
    await agg.replace(db(), { namespace: "n", key: 35, id: "p" }, { namespace: "n", key: 35, id: "p", sums: [350, 5] });
    const want = [
      { key: 10, id: "t1", sums: [1, 1] },
      { key: 20, id: "t2", sums: [2, 1] },
      { key: 30, id: "t3", sums: [300, 3] },
      { key: 35, id: "p", sums: [350, 5] },
      { key: 40, id: "t4", sums: [4, 1] },
      { key: 50, id: "t5", sums: [5, 1] },
      { key: 60, id: "t6", sums: [6, 1] },
    ];
    const reads = async () => ({
      items: await all(agg, "n"),
      desc: (await agg.paginate(db(), { namespace: "n", order: "desc" })).page,
      count: await agg.count(db(), { namespace: "n" }),
      sum: await agg.sum(db(), { namespace: "n" }),
      middle: await agg.sum(db(), { namespace: "n", bounds: { lower: { key: 30, inclusive: true }, upper: { key: 35, inclusive: true } } }),
      at: await agg.atBatch(db(), [2, 3, -5].map((offset) => ({ namespace: "n", offset }))),
      indexOf: await agg.indexOf(db(), { namespace: "n", key: 35, id: "p" }),
      validate: await agg.validate(db(), "n"),
    });
    const expected = {
      items: want,
      desc: [...want].reverse(),
      count: 7,
      sum: [1 + 2 + 300 + 350 + 4 + 5 + 6, 1 + 1 + 3 + 5 + 1 + 1 + 1],
      middle: [650, 8],
      at: [want[2], want[3], want[2]],
      indexOf: 3,
      validate: { ok: true, problems: [], count: 7, sums: [668, 13] },
    };
    expect(await reads()).toEqual(expected);
    expect(await agg.compact(db(), "n")).toEqual({ deltas: 5, items: 2, anomalies: 0 });
    expect(await agg.pendingCount(db(), "n")).toBe(0);
    expect(await reads()).toEqual(expected);
  });

  test("compacting a namespace that has no tree yet creates it", async () => {
    const agg = new DirectAggregate({ name: "bufFresh", channels: 2, maxNodeSize: 6, rootLazy: false, buffered: true });
    const items = Array.from({ length: 20 }, (_, i) => ({ key: i, id: `f${i}`, sums: [i, 2] }));
    await agg.applyBatch(db(), items.map((item) => insert("fresh", item.key, item.id, item.sums)));
    expect(await treeExists("bufFresh", "fresh")).toBe(false);
    expect(await agg.sum(db(), { namespace: "fresh" })).toEqual([190, 40]);
    expect(await agg.compact(db(), "fresh")).toEqual({ deltas: 20, items: 20, anomalies: 0 });
    expect(await treeExists("bufFresh", "fresh")).toBe(true);
    const [tree] = await db().execute<{ max_node_size: number; root_lazy: boolean; channels: number }>(
      sql`select max_node_size, root_lazy, channels from aggregate_trees where aggregate = 'bufFresh' and namespace = 'fresh'`,
    );
    expect(tree).toEqual({ max_node_size: 6, root_lazy: false, channels: 2 });
    expect(await agg.pendingCount(db(), "fresh")).toBe(0);
    expect(await agg.validate(db(), "fresh")).toEqual({ ok: true, problems: [], count: 20, sums: [190, 40] });
    expect(await all(agg, "fresh")).toEqual(items);
  });

  test("a second compaction while one holds the tree returns null at once", async () => {
    const agg = new DirectAggregate({ name: "bufTwice", buffered: true });
    await agg.applyBatch(db(), [1, 2, 3].map((k) => insert("n", k, `i${k}`, [k])));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const holds = new Promise<void>((resolve) => (holding = resolve));
    const first = withTransaction(db(), async (tx) => {
      const result = await agg.compact(tx, "n");
      holding();
      await held;
      return result;
    });
    await holds;
    // Neither waits for the first: each answers within a second (a waiting one would hang until release below).
    const second = agg.compact(db(), "n");
    const sweep = compactPending(db(), [agg]);
    const waited = new Promise<string>((resolve) => setTimeout(() => resolve("waited"), 1_000));
    expect(await Promise.race([second, waited])).toBeNull();
    expect(await Promise.race([sweep, waited])).toEqual({ trees: 0, skipped: 1, deltas: 0, anomalies: 0 });
    // Readers meanwhile see the committed tree and deltas.
    expect(await agg.sum(db(), { namespace: "n" })).toEqual([6]);
    release();
    expect(await first).toEqual({ deltas: 3, items: 3, anomalies: 0 });
    expect(await agg.pendingCount(db(), "n")).toBe(0);
    expect(await agg.compact(db(), "n")).toEqual({ deltas: 0, items: 0, anomalies: 0 });
    expect(await agg.validate(db(), "n")).toEqual({ ok: true, problems: [], count: 3, sums: [6] });
  });
  // A reset waits for buffered writers in flight (the trees' write lock): otherwise a writer's open delta would
  // outlive it (a delete counted −1 on the emptied tree, an insert counted twice against a rebuild holding the item).
  for (const reset of ["clear", "buildFromSorted"] as const) {
    test(`${reset} waits for an open buffered writer and leaves a consistent tree`, async () => {
      const agg = new DirectAggregate({ name: `bufReset${reset}`, buffered: true });
      if (reset === "clear") {
        await agg.insert(db(), "n", { key: 1, id: "x", sums: [1] });
        await agg.compact(db(), "n");
      }
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const holds = new Promise<void>((resolve) => (holding = resolve));
      const writer = db().transaction(async (tx) => {
        if (reset === "clear") await agg.delete(tx, "n", { key: 1, id: "x" });
        else await agg.insert(tx, "n", { key: 1, id: "x", sums: [1] });
        holding();
        await held;
      });
      await holds;
      const done =
        reset === "clear"
          ? agg.clear(db(), { namespace: "n" })
          : agg.buildFromSorted(db(), "n", [
              { key: 1, id: "x", sums: [1] },
              { key: 2, id: "y", sums: [2] },
            ]);
      const waited = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 500)),
      ]);
      release();
      expect(waited).toBe(true);
      await Promise.all([writer, done]);
      const want = reset === "clear" ? { count: 0, sums: [0] } : { count: 2, sums: [3] };
      expect(await agg.validate(db(), "n")).toEqual({ ok: true, problems: [], ...want });
      expect(await agg.count(db(), { namespace: "n" })).toBe(want.count);
    });
  }
});

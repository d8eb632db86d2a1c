import { setTimeout } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { buildTree } from "./build";
import { inTransaction, query, type AggregateDb } from "./db";
import { AggregateConfigError, AggregateDuplicateItemError, AggregateItemMissingError } from "./errors";
import {
  afterKey,
  boundsToRange,
  byteaArrayLiteral,
  byteaLiteral,
  decodeItem,
  encodeItem,
  encodeKey,
  justAfter,
  type ByteRange,
  type Bounds,
  type Key,
} from "./keys";
import { validateTree, type ValidationReport } from "./validate";
import { applyEncodedOps, type EncodedOp, type OpOutcome, type TreeSettings } from "./write";
import {
  compactTree,
  compactTrees,
  DeltaBuilder,
  lockTreeForMaintenance,
  planBuffered,
  type CompactResult,
  type DeltaArrays,
} from "./buffer";

export type Item = { key: Key; id: string; sums: number[] };

export type WriteOp =
  | { op: "insert"; namespace: string; key: Key; id: string; sums?: number[] }
  | { op: "insertIfDoesNotExist"; namespace: string; key: Key; id: string; sums?: number[] }
  | { op: "delete"; namespace: string; key: Key; id: string; sums?: number[] }
  | { op: "deleteIfExists"; namespace: string; key: Key; id: string; sums?: number[] };

/**
 * `trusted`: the caller vouches that every delete names an existing item with
 * the sums given and every insert a new one (a TableAggregate fed from rows the
 * caller holds locked). Buffered instances then skip the per-item presence
 * check; strict ops of other writes are still checked. No effect unbuffered.
 */
export type BatchOptions = { trusted?: boolean };

export type AggregateOptions = {
  name: string;
  channels?: number;
  maxNodeSize?: number;
  rootLazy?: boolean;
  /** A batch with at least one op per this many items of a tree rewrites that tree in one pass (default 4; 0: never). */
  rebuildFactor?: number;
  /**
   * Buffered writes (default false): a write appends its deltas in the caller's
   * transaction and `compact` folds them into the tree later; reads add them.
   * Writers of one tree then never wait for each other. See README.
   */
  buffered?: boolean;
};
export type RangeQuery = { namespace: string; bounds?: Bounds };
export type Page<T> = { page: T[]; cursor: string; isDone: boolean };
type ItemRef = { namespace: string; key: Key; id: string };
type ItemWithSums = ItemRef & { sums?: number[] };
type StrictOp = EncodedOp & { strict: boolean; trusted: boolean; buffered: boolean; source: ItemRef };

const DEFAULT_PAGE_SIZE = 100;
const MAX_NODE_SIZE = 1024;

function checkNodeSize(maxNodeSize: number) {
  if (!Number.isInteger(maxNodeSize) || maxNodeSize < 4 || maxNodeSize % 2 !== 0 || maxNodeSize > MAX_NODE_SIZE) {
    throw new AggregateConfigError(`maxNodeSize must be an even integer from 4 to ${MAX_NODE_SIZE}, got ${maxNodeSize}`);
  }
}

function describe(ref: ItemRef) {
  return `(key ${JSON.stringify(ref.key)}, id ${JSON.stringify(ref.id)}) in namespace ${JSON.stringify(ref.namespace)}`;
}

function bytes(value: Buffer | null) {
  return value === null ? null : value;
}

function hexOrNull(value: Buffer | null) {
  return value === null ? null : byteaLiteral(value);
}

function toItem(row: { item_key: Buffer; item_sums: string[] }): Item {
  const { key, id } = decodeItem(row.item_key);
  return { key, id, sums: row.item_sums.map(Number) };
}

function maxBuffer(a: Buffer | null, b: Buffer): Buffer {
  return a !== null && Buffer.compare(a, b) > 0 ? a : b;
}

function minBuffer(a: Buffer | null, b: Buffer): Buffer {
  return a !== null && Buffer.compare(a, b) < 0 ? a : b;
}

/**
 * What every aggregate instance shares: settings, reads and maintenance.
 * Settings apply to trees created from now on; a tree keeps the settings it was
 * created (or last cleared) with.
 */
abstract class AggregateBase {
  readonly name: string;
  readonly channels: number;
  maxNodeSize: number;
  rootLazy: boolean;
  readonly rebuildFactor: number;
  readonly buffered: boolean;

  constructor(options: AggregateOptions) {
    if (!options.name) throw new AggregateConfigError("an aggregate needs a name");
    this.name = options.name;
    this.channels = options.channels ?? 1;
    if (!Number.isInteger(this.channels) || this.channels < 1) {
      throw new AggregateConfigError(`channels must be a positive integer, got ${options.channels}`);
    }
    this.maxNodeSize = options.maxNodeSize ?? 16;
    checkNodeSize(this.maxNodeSize);
    this.rootLazy = options.rootLazy ?? true;
    this.rebuildFactor = options.rebuildFactor ?? 4;
    this.buffered = options.buffered ?? false;
    if (!Number.isInteger(this.rebuildFactor) || this.rebuildFactor < 0) {
      throw new AggregateConfigError(`rebuildFactor must be an integer, 0 or more, got ${options.rebuildFactor}`);
    }
  }

  get settings(): TreeSettings {
    return {
      aggregate: this.name,
      maxNodeSize: this.maxNodeSize,
      rootLazy: this.rootLazy,
      channels: this.channels,
      rebuildFactor: this.rebuildFactor,
    };
  }

  private sumsOf(sums: number[] | undefined): bigint[] {
    return this.checkedSums(sums).map(BigInt);
  }

  /** The sums of an item (zeros when none are given), checked against the channels. */
  protected checkedSums(sums: number[] | undefined): number[] {
    const values = sums ?? new Array<number>(this.channels).fill(0);
    if (values.length !== this.channels) {
      throw new AggregateConfigError(`${this.name} has ${this.channels} sum channels, got ${values.length} sums`);
    }
    for (const value of values) {
      if (!Number.isSafeInteger(value)) {
        throw new AggregateConfigError(`${this.name}: sums must be safe integers, got ${value}`);
      }
    }
    return values;
  }

  /** @internal Encodes one write op for the shared batch engine. */
  encode(op: WriteOp, options: BatchOptions = {}): StrictOp {
    const insert = op.op === "insert" || op.op === "insertIfDoesNotExist";
    const trusted = this.buffered && options.trusted === true;
    if (trusted && !insert && op.sums === undefined) {
      throw new AggregateConfigError(`${this.name}: a trusted delete must give the sums of the item it removes`);
    }
    return {
      settings: this.settings,
      namespace: op.namespace,
      kind: insert ? "insert" : "delete",
      item: encodeItem(op.key, op.id),
      sums: insert || trusted ? this.sumsOf(op.sums) : [],
      strict: op.op === "insert" || op.op === "delete",
      trusted,
      buffered: this.buffered,
      source: { namespace: op.namespace, key: op.key, id: op.id },
    };
  }

  /** Applies many item writes across many namespaces of this aggregate in one locking and one writing call. */
  async applyBatch(db: AggregateDb, ops: WriteOp[], options: BatchOptions = {}): Promise<void> {
    await runBatches(
      db,
      ops.map((op) => this.encode(op, options)),
    );
  }

  /**
   * Folds a namespace's buffered deltas into its tree (own transaction unless
   * given one). Null when another transaction is compacting or rebuilding it.
   */
  async compact(db: AggregateDb, namespace: string): Promise<CompactResult | null> {
    return compactTree(db, this.settings, namespace);
  }

  /** How many buffered deltas (item writes) wait to be compacted, in one namespace or all of this instance's. */
  async pendingCount(db: AggregateDb, namespace?: string): Promise<number> {
    const [row] = await query<{ n: string }>(
      db,
      sql`select coalesce(sum(cardinality(items)), 0) as n from aggregate_pending
          where aggregate = ${this.name} and (${namespace ?? null}::text is null or namespace = ${namespace ?? null}::text)`,
    );
    return Number(row.n);
  }

  async count(db: AggregateDb, q: RangeQuery): Promise<number> {
    const { lo, hi } = boundsToRange(q.bounds);
    return this.countRange(db, q.namespace, lo, hi);
  }

  private async countRange(db: AggregateDb, namespace: string, lo: Buffer | null, hi: Buffer | null) {
    const [row] = await query<{ value: string }>(
      db,
      sql`select aggregate_count(${this.name}, ${namespace}, ${bytes(lo)}::bytea, ${bytes(hi)}::bytea) as value`,
    );
    return Number(row.value);
  }

  async sum(db: AggregateDb, q: RangeQuery): Promise<number[]> {
    const { lo, hi } = boundsToRange(q.bounds);
    const [row] = await query<{ value: string[] | null }>(
      db,
      sql`select aggregate_sum(${this.name}, ${q.namespace}, ${bytes(lo)}::bytea, ${bytes(hi)}::bytea) as value`,
    );
    return this.sumsFrom(row.value);
  }

  private sumsFrom(value: string[] | null): number[] {
    return value ? value.map(Number) : new Array<number>(this.channels).fill(0);
  }

  async at(db: AggregateDb, q: RangeQuery & { offset: number }): Promise<Item | null> {
    const { lo, hi } = boundsToRange(q.bounds);
    const rows = await query<{ item_key: Buffer; item_sums: string[] }>(
      db,
      sql`select * from aggregate_at(${this.name}, ${q.namespace}, ${bytes(lo)}::bytea, ${bytes(hi)}::bytea, ${q.offset}::bigint, false)`,
    );
    return rows[0] ? toItem(rows[0]) : null;
  }

  /** How many items come before (key, id) in the given order; without id, before every item with that key. */
  async indexOf(
    db: AggregateDb,
    q: { namespace: string; key: Key; id?: string; order?: "asc" | "desc" },
  ): Promise<number> {
    if (q.order === "desc") {
      const lo = q.id === undefined ? afterKey(q.key) : justAfter(encodeItem(q.key, q.id));
      return this.countRange(db, q.namespace, lo, null);
    }
    const hi = q.id === undefined ? encodeKey(q.key) : encodeItem(q.key, q.id);
    return this.countRange(db, q.namespace, null, hi);
  }

  min(db: AggregateDb, q: RangeQuery): Promise<Item | null> {
    return this.at(db, { ...q, offset: 0 });
  }

  max(db: AggregateDb, q: RangeQuery): Promise<Item | null> {
    return this.at(db, { ...q, offset: -1 });
  }

  async random(db: AggregateDb, q: RangeQuery): Promise<Item | null> {
    const { lo, hi } = boundsToRange(q.bounds);
    const rows = await query<{ item_key: Buffer; item_sums: string[] }>(
      db,
      sql`select * from aggregate_at(${this.name}, ${q.namespace}, ${bytes(lo)}::bytea, ${bytes(hi)}::bytea, 0, true)`,
    );
    return rows[0] ? toItem(rows[0]) : null;
  }

  async paginate(
    db: AggregateDb,
    q: RangeQuery & { cursor?: string; pageSize?: number; order?: "asc" | "desc" },
  ): Promise<Page<Item>> {
    const pageSize = q.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new AggregateConfigError(`pageSize must be a positive integer`);
    const desc = q.order === "desc";
    let { lo, hi }: ByteRange = boundsToRange(q.bounds);
    if (q.cursor) {
      const last = Buffer.from(q.cursor, "hex");
      if (desc) hi = minBuffer(hi, last);
      else lo = maxBuffer(lo, justAfter(last));
    }
    const rows = await query<{ item_key: Buffer; item_sums: string[] }>(
      db,
      sql`select * from aggregate_scan(${this.name}, ${q.namespace}, ${bytes(lo)}::bytea, ${bytes(hi)}::bytea, ${pageSize + 1}::int, ${desc})`,
    );
    const page = rows.slice(0, pageSize);
    const cursor = page.length > 0 ? page[page.length - 1].item_key.toString("hex") : (q.cursor ?? "");
    return { page: page.map(toItem), cursor, isDone: rows.length <= pageSize };
  }

  async *iter(
    db: AggregateDb,
    q: RangeQuery & { order?: "asc" | "desc"; pageSize?: number },
  ): AsyncIterable<Item> {
    let cursor: string | undefined;
    for (;;) {
      const result = await this.paginate(db, { ...q, cursor });
      yield* result.page;
      if (result.isDone) return;
      cursor = result.cursor;
    }
  }

  private rangeArrays(qs: RangeQuery[]) {
    const ranges = qs.map((q) => boundsToRange(q.bounds));
    return {
      namespaces: sql.param(qs.map((q) => q.namespace)),
      los: sql.param(ranges.map((r) => hexOrNull(r.lo))),
      his: sql.param(ranges.map((r) => hexOrNull(r.hi))),
    };
  }

  /**
   * Grouped by namespace: one aggregate_count_ranges call per namespace, so a
   * namespace's buffered deltas are read once and its tree descended once
   * (all the bounds together), however many ranges ask.
   */
  async countBatch(db: AggregateDb, qs: RangeQuery[]): Promise<number[]> {
    if (qs.length === 0) return [];
    const groups = new Map<string, { indexes: number[]; los: (Buffer | null)[]; his: (Buffer | null)[] }>();
    for (const [index, q] of qs.entries()) {
      const range = boundsToRange(q.bounds);
      let group = groups.get(q.namespace);
      if (!group) {
        group = { indexes: [], los: [], his: [] };
        groups.set(q.namespace, group);
      }
      group.indexes.push(index);
      group.los.push(range.lo);
      group.his.push(range.hi);
    }
    const list = [...groups.entries()];
    const rows = await query<{ ord: string; value: string[] }>(
      db,
      sql`select u.ord, aggregate_count_ranges(${this.name}, u.namespace, u.los::bytea[], u.his::bytea[]) as value
          from unnest(${sql.param(list.map(([namespace]) => namespace))}::text[],
            ${sql.param(list.map(([, group]) => byteaArrayLiteral(group.los)))}::text[],
            ${sql.param(list.map(([, group]) => byteaArrayLiteral(group.his)))}::text[]) with ordinality as u(namespace, los, his, ord)`,
    );
    const counts = new Array<number>(qs.length);
    for (const row of rows) {
      const [, group] = list[Number(row.ord) - 1];
      group.indexes.forEach((index, i) => (counts[index] = Number(row.value[i])));
    }
    return counts;
  }

  async sumBatch(db: AggregateDb, qs: RangeQuery[]): Promise<number[][]> {
    if (qs.length === 0) return [];
    const { namespaces, los, his } = this.rangeArrays(qs);
    const rows = await query<{ value: string[] | null }>(
      db,
      sql`select aggregate_sum(${this.name}, u.namespace, u.lo::bytea, u.hi::bytea) as value
          from unnest(${namespaces}::text[], ${los}::text[], ${his}::text[]) with ordinality as u(namespace, lo, hi, ord)
          order by u.ord`,
    );
    return rows.map((row) => this.sumsFrom(row.value));
  }

  async atBatch(db: AggregateDb, qs: (RangeQuery & { offset: number })[]): Promise<(Item | null)[]> {
    if (qs.length === 0) return [];
    const { namespaces, los, his } = this.rangeArrays(qs);
    const rows = await query<{ item_key: Buffer | null; item_sums: string[] | null }>(
      db,
      sql`select a.item_key, a.item_sums
          from unnest(${namespaces}::text[], ${los}::text[], ${his}::text[], ${sql.param(qs.map((q) => q.offset))}::bigint[])
            with ordinality as u(namespace, lo, hi, "offset", ord)
          left join lateral aggregate_at(${this.name}, u.namespace, u.lo::bytea, u.hi::bytea, u."offset", false) a on true
          order by u.ord`,
    );
    return rows.map((row) =>
      row.item_key && row.item_sums ? toItem({ item_key: row.item_key, item_sums: row.item_sums }) : null,
    );
  }

  /** Namespaces that hold at least one item, in the database's text order. */
  async paginateNamespaces(db: AggregateDb, q: { cursor?: string; pageSize?: number } = {}): Promise<Page<string>> {
    const pageSize = q.pageSize ?? DEFAULT_PAGE_SIZE;
    // A namespace with deltas may have gained its first items or lost its last ones: count those.
    const rows = await query<{ namespace: string }>(
      db,
      sql`select s.namespace from (
            select t.namespace, cardinality(n.keys) > 0 as filled from aggregate_trees t join aggregate_nodes n on n.id = t.root_id
            where t.aggregate = ${this.name}
            union
            select distinct p.namespace, false from aggregate_pending p where p.aggregate = ${this.name}) s
          where (${q.cursor ?? null}::text is null or s.namespace > ${q.cursor ?? null}::text)
          group by s.namespace
          having case when exists (select 1 from aggregate_pending p where p.aggregate = ${this.name} and p.namespace = s.namespace)
            then aggregate_count(${this.name}, s.namespace, null, null) > 0 else bool_or(s.filled) end
          order by s.namespace limit ${pageSize + 1}`,
    );
    const page = rows.slice(0, pageSize).map((row) => row.namespace);
    return { page, cursor: page.at(-1) ?? q.cursor ?? "", isDone: rows.length <= pageSize };
  }

  /**
   * Empties one namespace (or, without one, every namespace of this aggregate).
   * maxNodeSize/rootLazy given here become the settings of the emptied tree(s);
   * clearing everything also makes them this instance's settings for new trees.
   */
  async clear(db: AggregateDb, options: { namespace?: string; maxNodeSize?: number; rootLazy?: boolean } = {}) {
    const maxNodeSize = options.maxNodeSize ?? this.maxNodeSize;
    checkNodeSize(maxNodeSize);
    const rootLazy = options.rootLazy ?? this.rootLazy;
    await inTransaction(db, async (tx) => {
      if (options.namespace === undefined) {
        this.maxNodeSize = maxNodeSize;
        this.rootLazy = rootLazy;
        await query(tx, sql`delete from aggregate_nodes where aggregate = ${this.name}`);
        await query(tx, sql`delete from aggregate_trees where aggregate = ${this.name}`);
        await query(tx, sql`delete from aggregate_pending where aggregate = ${this.name}`);
        return;
      }
      await resetTree(tx, this, options.namespace, { maxNodeSize, rootLazy });
    });
  }

  /** Stops storing the root's totals, so writers under different root children stop meeting at the root. */
  async makeRootLazy(db: AggregateDb, namespace: string): Promise<void> {
    await inTransaction(db, async (tx) => {
      await query(
        tx,
        sql`with tree as (
              update aggregate_trees set root_lazy = true where aggregate = ${this.name} and namespace = ${namespace}
              returning root_id)
            update aggregate_nodes n set count = null, totals = null from tree
            where n.id = tree.root_id`,
      );
    });
  }

  /** Replaces the namespace with the given items (sorted by key then id, ids unique) in O(n); returns their count. */
  async buildFromSorted(
    db: AggregateDb,
    namespace: string,
    items: Iterable<Item> | AsyncIterable<Item>,
  ): Promise<number> {
    const encoded: Buffer[] = [];
    const sums: bigint[][] = [];
    for await (const item of items) {
      const bytesOf = encodeItem(item.key, item.id);
      const previous = encoded[encoded.length - 1];
      if (previous) {
        const order = Buffer.compare(previous, bytesOf);
        if (order === 0) throw new AggregateDuplicateItemError(`${this.name}: duplicate item ${describe({ namespace, ...item })}`);
        if (order > 0) throw new AggregateConfigError(`${this.name}: items are not sorted at ${describe({ namespace, ...item })}`);
      }
      encoded.push(bytesOf);
      sums.push(this.sumsOf(item.sums));
    }
    await inTransaction(db, async (tx) => {
      const settings = await resetTree(tx, this, namespace, {});
      await buildTree(tx, { aggregate: this.name, namespace, ...settings }, encoded, sums);
    });
    return encoded.length;
  }

  async validate(db: AggregateDb, namespace: string): Promise<ValidationReport> {
    return validateTree(db, this.name, namespace, this.channels);
  }
}

/**
 * Empties a namespace's tree in place (the root keeps its id), creating it when
 * missing, and returns the settings it now has. Locks the root exclusively.
 */
async function resetTree(
  tx: AggregateDb,
  aggregate: AggregateBase,
  namespace: string,
  overrides: { maxNodeSize?: number; rootLazy?: boolean },
) {
  await lockTreeForMaintenance(tx, aggregate.name, namespace);
  await query(tx, sql`delete from aggregate_pending where aggregate = ${aggregate.name} and namespace = ${namespace}`);
  const [settings] = await query<{ o_id: string; o_max_node_size: number; o_root_lazy: boolean; o_channels: number }>(
    tx,
    sql`select o_id, o_max_node_size, o_root_lazy, o_channels from aggregate_lock_paths(
      array[${aggregate.name}]::text[], array[${namespace}]::text[], array[${overrides.maxNodeSize ?? aggregate.maxNodeSize}]::int[],
      array[${overrides.rootLazy ?? aggregate.rootLazy}]::boolean[], array[${aggregate.channels}]::int[], array[true]::boolean[],
      array[0]::int[], '{}'::int[], '{}'::bytea[]) where o_max_node_size is not null`,
  );
  const maxNodeSize = overrides.maxNodeSize ?? settings.o_max_node_size;
  const rootLazy = overrides.rootLazy ?? settings.o_root_lazy;
  const rootId = Number(settings.o_id);
  await query(
    tx,
    sql`delete from aggregate_nodes where aggregate = ${aggregate.name} and namespace = ${namespace} and id <> ${rootId}`,
  );
  await query(
    tx,
    sql`update aggregate_trees set max_node_size = ${maxNodeSize}, root_lazy = ${rootLazy}
        where aggregate = ${aggregate.name} and namespace = ${namespace}`,
  );
  await query(
    tx,
    sql`update aggregate_nodes set keys = '{}', sums = '{}', children = null,
          count = case when ${rootLazy} then null else 0 end,
          totals = case when ${rootLazy} then null else array_fill(0::bigint, array[${settings.o_channels}::int]) end
        where id = ${rootId}`,
  );
  return { rootId, maxNodeSize, rootLazy, channels: settings.o_channels };
}

/** A counted B-tree per namespace, with items given directly as (key, id, sums). */
export class DirectAggregate extends AggregateBase {
  async insert(db: AggregateDb, namespace: string, item: { key: Key; id: string; sums?: number[] }): Promise<void> {
    await this.applyBatch(db, [{ op: "insert", namespace, ...item }]);
  }

  async delete(db: AggregateDb, namespace: string, item: { key: Key; id: string }): Promise<void> {
    await this.applyBatch(db, [{ op: "delete", namespace, ...item }]);
  }

  async insertIfDoesNotExist(
    db: AggregateDb,
    namespace: string,
    item: { key: Key; id: string; sums?: number[] },
  ): Promise<boolean> {
    const [outcome] = await runBatches(db, [this.encode({ op: "insertIfDoesNotExist", namespace, ...item })]);
    return outcome === "done";
  }

  async deleteIfExists(db: AggregateDb, namespace: string, item: { key: Key; id: string }): Promise<boolean> {
    const [outcome] = await runBatches(db, [this.encode({ op: "deleteIfExists", namespace, ...item })]);
    return outcome === "done";
  }

  async replace(db: AggregateDb, from: ItemRef, to: ItemWithSums): Promise<void> {
    await this.applyBatch(db, [
      { op: "delete", ...from },
      { op: "insert", ...to },
    ]);
  }

  async replaceOrInsert(db: AggregateDb, from: ItemRef, to: ItemWithSums): Promise<void> {
    await this.applyBatch(db, [
      { op: "deleteIfExists", ...from },
      { op: "insert", ...to },
    ]);
  }


}

type RowFunctions<Row> = {
  namespace: (row: Row) => string;
  key: (row: Row) => Key;
  id: (row: Row) => string;
  sums?: (row: Row) => number[];
};

/** An aggregate over the rows of a table: namespace, key, id and sums are derived from each row. */
export class TableAggregate<Row> extends AggregateBase {
  private readonly rows: RowFunctions<Row>;

  constructor(options: AggregateOptions & RowFunctions<Row>) {
    super(options);
    this.rows = { namespace: options.namespace, key: options.key, id: options.id, sums: options.sums };
  }

  private ref(row: Row): ItemRef {
    return { namespace: this.rows.namespace(row), key: this.rows.key(row), id: this.rows.id(row) };
  }

  private full(row: Row): ItemWithSums {
    return { ...this.ref(row), sums: this.rows.sums?.(row) };
  }

  /** @internal One trusted delta of a row, for trustedDeltaArrays. */
  addDelta(builder: DeltaBuilder, row: Row, sign: 1 | -1) {
    const { namespace, key, id, sums } = this.rows;
    builder.add(this.name, namespace(row), encodeItem(key(row), id(row)), sign, this.checkedSums(sums?.(row)));
  }

  /** The write ops of a change set: the deleted rows' items go first, then the inserted rows'. */
  opsFor(changes: { deleted?: Row[]; inserted?: Row[] }): WriteOp[] {
    return [
      ...(changes.deleted ?? []).map((row): WriteOp => ({ op: "delete", ...this.full(row) })),
      ...(changes.inserted ?? []).map((row): WriteOp => ({ op: "insert", ...this.full(row) })),
    ];
  }

  async insert(db: AggregateDb, row: Row): Promise<void> {
    await this.applyBatch(db, [{ op: "insert", ...this.full(row) }]);
  }

  async delete(db: AggregateDb, row: Row): Promise<void> {
    await this.applyBatch(db, [{ op: "delete", ...this.ref(row) }]);
  }

  async insertIfDoesNotExist(db: AggregateDb, row: Row): Promise<boolean> {
    const [outcome] = await runBatches(db, [this.encode({ op: "insertIfDoesNotExist", ...this.full(row) })]);
    return outcome === "done";
  }

  async deleteIfExists(db: AggregateDb, row: Row): Promise<boolean> {
    const [outcome] = await runBatches(db, [this.encode({ op: "deleteIfExists", ...this.ref(row) })]);
    return outcome === "done";
  }

  async replace(db: AggregateDb, oldRow: Row, newRow: Row): Promise<void> {
    await this.applyBatch(db, [
      { op: "delete", ...this.ref(oldRow) },
      { op: "insert", ...this.full(newRow) },
    ]);
  }

  async replaceOrInsert(db: AggregateDb, oldRow: Row, newRow: Row): Promise<void> {
    await this.applyBatch(db, [
      { op: "deleteIfExists", ...this.ref(oldRow) },
      { op: "insert", ...this.full(newRow) },
    ]);
  }

  async applyChanges(
    db: AggregateDb,
    changes: { deleted?: Row[]; inserted?: Row[] },
    options: BatchOptions = {},
  ): Promise<void> {
    await this.applyBatch(db, this.opsFor(changes), options);
  }
}

function refusal(ops: StrictOp[], outcomes: OpOutcome[]): Error | null {
  const failed = outcomes.findIndex((outcome, i) => outcome !== "done" && ops[i].strict);
  if (failed < 0) return null;
  const op = ops[failed];
  return outcomes[failed] === "duplicate"
    ? new AggregateDuplicateItemError(`${op.settings.aggregate}: item ${describe(op.source)} already exists`)
    : new AggregateItemMissingError(`${op.settings.aggregate}: item ${describe(op.source)} does not exist`);
}

/**
 * Buffered ops are planned first (their presence check), then direct ops run
 * with both sets of outcomes in view, and only when nothing is refused are the
 * buffered deltas written: a refused batch writes nothing.
 */
async function runBatches(db: AggregateDb, ops: StrictOp[]): Promise<OpOutcome[]> {
  if (ops.length === 0) return [];
  const buffered = ops.filter((op) => op.buffered);
  const direct = ops.filter((op) => !op.buffered);
  return inTransaction(db, async (tx) => {
    const plan = buffered.length > 0 ? await planBuffered(tx, buffered) : null;
    if (plan) {
      const refused = refusal(buffered, plan.outcomes);
      if (refused) throw refused;
    }
    const directOutcomes = await applyEncodedOps(tx, direct, (outcomes) => refusal(direct, outcomes));
    if (plan) await plan.write();
    const byOp = new Map<StrictOp, OpOutcome>();
    buffered.forEach((op, i) => byOp.set(op, plan!.outcomes[i]));
    direct.forEach((op, i) => byOp.set(op, directOutcomes[i]));
    return ops.map((op) => byOp.get(op)!);
  });
}

/**
 * Compacts the buffered deltas of the given instances, the trees with the most
 * deltas first, `treesPerTransaction` trees per transaction (one fixed set of
 * statements for all of them); trees another transaction is compacting are
 * skipped. For a worker to call on a schedule.
 *
 * `pauseRatio` spreads a pass out: after each transaction but the last it
 * waits that many times as long as the transaction took. A pass is a burst of
 * CPU in this process and in Postgres, and the writers whose deltas it folds
 * are waiting behind it; in small transactions with pauses their statements
 * run in between.
 */
export async function compactPending(
  db: AggregateDb,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  aggregates: (DirectAggregate | TableAggregate<any>)[],
  options: { maxTrees?: number; treesPerTransaction?: number; pauseRatio?: number } = {},
): Promise<{ trees: number; skipped: number; deltas: number; anomalies: number }> {
  const byName = new Map(aggregates.map((aggregate) => [aggregate.name, aggregate]));
  const trees = await query<{ aggregate: string; namespace: string }>(
    db,
    sql`select aggregate, namespace from aggregate_pending where aggregate = any(${sql.param([...byName.keys()])}::text[])
        group by aggregate, namespace order by sum(cardinality(items)) desc, aggregate, namespace
        limit ${options.maxTrees ?? 10_000}`,
  );
  const total = { trees: 0, skipped: 0, deltas: 0, anomalies: 0 };
  const perTransaction = options.treesPerTransaction ?? 64;
  for (let i = 0; i < trees.length; i += perTransaction) {
    const group = trees.slice(i, i + perTransaction);
    const started = performance.now();
    const results = await compactTrees(
      db,
      group.map((tree) => ({ settings: byName.get(tree.aggregate)!.settings, namespace: tree.namespace })),
    );
    if (options.pauseRatio && i + perTransaction < trees.length) {
      await setTimeout(options.pauseRatio * (performance.now() - started));
    }
    for (const result of results) {
      if (result === null) {
        total.skipped++;
        continue;
      }
      total.trees++;
      total.deltas += result.deltas;
      total.anomalies += result.anomalies;
    }
  }
  return total;
}

/**
 * The deltas of row changes of buffered table aggregates as the arguments of
 * the SQL function aggregate_append(aggregates, namespaces, items, signs,
 * sums), for a caller that writes its own rows and these deltas in one
 * database function (one statement, one round trip). The contract is that of
 * applyBatches with `trusted: true` (each deleted row's item is in the tree
 * with its sums, no inserted one is); nothing is written here. Each row goes
 * straight into the arrays: no op object per item, since a save sends dozens.
 */
export function trustedDeltaArrays(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  batches: { aggregate: TableAggregate<any>; deleted?: unknown[]; inserted?: unknown[] }[],
): DeltaArrays {
  const builder = new DeltaBuilder();
  for (const { aggregate, deleted = [], inserted = [] } of batches) {
    if (!aggregate.buffered) throw new AggregateConfigError(`${aggregate.name}: deltas are for buffered aggregates only`);
    for (const row of deleted) aggregate.addDelta(builder, row, -1);
    for (const row of inserted) aggregate.addDelta(builder, row, 1);
  }
  return builder.arrays();
}

/** Applies the write batches of several aggregates in one locking call and one writing call. */
export async function applyBatches(
  db: AggregateDb,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  batches: { aggregate: DirectAggregate | TableAggregate<any>; ops: WriteOp[]; trusted?: boolean }[],
): Promise<void> {
  await runBatches(
    db,
    batches.flatMap((batch) => batch.ops.map((op) => batch.aggregate.encode(op, { trusted: batch.trusted }))),
  );
}

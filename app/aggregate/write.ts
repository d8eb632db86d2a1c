import { sql } from "drizzle-orm";
import { isRetryableError, pgErrorCode } from "../db.server";
import { query, type AggregateDb } from "./db";
import { AggregateConfigError } from "./errors";
import { layoutTree } from "./build";
import { byteaArrayLiteral } from "./keys";

/** Settings a tree is created with when its namespace receives its first write. */
export type TreeSettings = {
  aggregate: string;
  maxNodeSize: number;
  rootLazy: boolean;
  channels: number;
  /** A batch with at least one op per this many items of a tree rewrites the tree in one pass; 0: never. */
  rebuildFactor: number;
};

/** One item-level write, already encoded; results line up with the input order. */
export type EncodedOp = {
  settings: TreeSettings;
  namespace: string;
  kind: "insert" | "delete";
  item: Buffer;
  sums: bigint[];
};

export type OpOutcome = "done" | "duplicate" | "missing";

/**
 * A node as the batch sees it. `original` keeps the items and children it was
 * read with, so the write call can send a node whose children did not change
 * as the items it gained and lost (the server edits the stored arrays) instead
 * of shipping every item back; null for nodes created or laid out anew.
 */
class MemNode {
  children: number[] | null;
  count: bigint;
  totals: bigint[];
  private parsedSums: bigint[][] | null = null;

  constructor(
    readonly id: number,
    public keys: Buffer[],
    private sumsText: string | bigint[][],
    private readonly channels: number,
    children: number[] | null,
    count: bigint,
    totals: bigint[],
    readonly original: { keys: Buffer[]; children: string | null } | null,
  ) {
    this.children = children;
    this.count = count;
    this.totals = totals;
  }

  /** Parsed on first use: most nodes of a batch only have their totals adjusted. */
  get sums(): bigint[][] {
    if (this.parsedSums === null) {
      this.parsedSums = typeof this.sumsText === "string" ? splitSums(this.sumsText, this.channels) : this.sumsText;
    }
    return this.parsedSums;
  }

  set sums(value: bigint[][]) {
    this.parsedSums = value;
  }
}

type NodeRow = {
  o_tree: number;
  o_id: string;
  o_keys: Buffer;
  o_sums: string;
  o_children: string | null;
  o_count: string | null;
  o_totals: string | null;
  o_max_node_size: number | null;
  o_root_lazy: boolean | null;
  o_channels: number | null;
  o_exclusive: boolean | null;
  o_whole: boolean | null;
};

/**
 * After an upgrade of a lazy root failed, the next attempts on that tree take
 * the root exclusively from the start instead of failing the same way again.
 */
const exclusiveHints = new Map<string, number>();
const HINT_MS = 2_000;

function treeId(aggregate: string, namespace: string) {
  return `${aggregate}\u0000${namespace}`;
}

/** postgres.js sends a JS boolean array as a scalar boolean; text elements cast cleanly. */
function flag(value: boolean) {
  return value ? "t" : "f";
}

function lowerBound(keys: Buffer[], item: Buffer): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Buffer.compare(keys[mid], item) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function addInto(target: bigint[], source: bigint[], sign: 1n | -1n) {
  for (let c = 0; c < target.length; c++) target[c] += sign * source[c];
}

function splitSums(text: string, channels: number): bigint[][] {
  const flat = text === "" ? [] : text.split(",");
  const out: bigint[][] = [];
  for (let i = 0; i < flat.length; i += channels) out.push(flat.slice(i, i + channels).map(BigInt));
  return out;
}

/** Inverse of aggregate_pack_keys: keys, each after its 4-byte big-endian length. */
function unpackKeys(packed: Buffer): Buffer[] {
  const keys: Buffer[] = [];
  for (let offset = 0; offset < packed.length; ) {
    const length = packed.readInt32BE(offset);
    keys.push(packed.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return keys;
}

function rowToNode(row: NodeRow, channels: number): MemNode {
  const keys = unpackKeys(row.o_keys);
  return new MemNode(
    Number(row.o_id),
    keys.slice(),
    row.o_sums,
    channels,
    row.o_children === null ? null : row.o_children === "" ? [] : row.o_children.split(",").map(Number),
    row.o_count === null ? 0n : BigInt(row.o_count),
    row.o_totals ? row.o_totals.split(",").map(BigInt) : new Array<bigint>(channels).fill(0n),
    { keys, children: row.o_children },
  );
}

/** Collects requests made while every tree worker is waiting, and answers them with one statement. */
class Batcher<K, V> {
  private pending: { key: K; resolve: (value: V) => void; reject: (error: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly run: (keys: K[]) => Promise<V[]>) {}

  request(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush() {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      const values = await this.run(batch.map((entry) => entry.key));
      batch.forEach((entry, i) => entry.resolve(values[i]));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }
}

class Session {
  readonly loads: Batcher<number, NodeRow>;
  readonly ids: Batcher<null, number>;
  readonly upgrades: Batcher<Tree, boolean>;

  constructor(readonly db: AggregateDb) {
    this.loads = new Batcher(async (ids) => {
      const rows = await query<NodeRow>(
        db,
        sql`select n.id as o_id, aggregate_pack_keys(n.keys) as o_keys, array_to_string(n.sums, ',') as o_sums,
              array_to_string(n.children, ',') as o_children, n.count as o_count, array_to_string(n.totals, ',') as o_totals
            from aggregate_nodes n where n.id = any(${sql.param(ids)}::bigint[])`,
      );
      const byId = new Map(rows.map((row) => [Number(row.o_id), row]));
      return ids.map((id) => {
        const row = byId.get(id);
        if (!row) throw new Error(`aggregate: node ${id} is missing`);
        return row;
      });
    });
    this.ids = new Batcher(async (keys) => {
      const rows = await query<{ id: string }>(
        db,
        sql`select nextval('aggregate_nodes_id_seq') as id from generate_series(1, ${keys.length}::int)`,
      );
      return rows.map((row) => Number(row.id));
    });
    this.upgrades = new Batcher(async (trees) => {
      try {
        await query(db, sql`select aggregate_lock_roots_exclusive(${sql.param(trees.map((t) => t.rootId))}::bigint[])`);
      } catch (error) {
        const now = Date.now();
        for (const [key, until] of exclusiveHints) if (until < now) exclusiveHints.delete(key);
        for (const tree of trees) exclusiveHints.set(tree.key, now + HINT_MS);
        throw error;
      }
      return trees.map(() => true);
    });
  }
}

class Tree {
  readonly key: string;
  rootId = 0;
  maxNodeSize = 16;
  rootLazy = true;
  channels = 1;
  exclusive = false;
  whole = false;
  readonly nodes = new Map<number, MemNode>();
  readonly dirty = new Set<number>();
  readonly created = new Set<number>();
  readonly deleted = new Set<number>();

  constructor(
    readonly session: Session,
    readonly settings: TreeSettings,
    readonly namespace: string,
  ) {
    this.key = treeId(settings.aggregate, namespace);
  }

  get minNodeSize() {
    return this.maxNodeSize / 2;
  }

  root(): MemNode {
    return this.nodes.get(this.rootId)!;
  }

  async get(id: number): Promise<MemNode> {
    const cached = this.nodes.get(id);
    if (cached) return cached;
    const row = await this.session.loads.request(id);
    const node = this.nodes.get(id) ?? rowToNode(row, this.channels);
    this.nodes.set(id, node);
    return node;
  }

  async newNode(): Promise<MemNode> {
    const id = await this.session.ids.request(null);
    const node = new MemNode(id, [], [], this.channels, null, 0n, this.zeros(), null);
    this.nodes.set(id, node);
    this.created.add(id);
    this.dirty.add(id);
    return node;
  }

  drop(node: MemNode) {
    this.nodes.delete(node.id);
    this.dirty.delete(node.id);
    if (this.created.has(node.id)) this.created.delete(node.id);
    else this.deleted.add(node.id);
  }

  zeros(): bigint[] {
    return new Array<bigint>(this.channels).fill(0n);
  }

  touch(node: MemNode) {
    this.dirty.add(node.id);
  }

  /** Lazy roots are shared by writers under different children; changing one needs the lock for itself. */
  async claimRoot() {
    if (this.exclusive) return;
    await this.session.upgrades.request(this);
    this.exclusive = true;
  }

  isLazyRoot(node: MemNode) {
    return node.id === this.rootId && this.rootLazy;
  }

  /** Count and sums of a node from its items and its children's stored totals. */
  async recount(node: MemNode) {
    let count = BigInt(node.keys.length);
    const totals = this.zeros();
    for (const sums of node.sums) addInto(totals, sums, 1n);
    if (node.children) {
      const children = await Promise.all(node.children.map((id) => this.get(id)));
      for (const child of children) {
        count += child.count;
        addInto(totals, child.totals, 1n);
      }
    }
    node.count = count;
    node.totals = totals;
  }

  /**
   * When a batch rewrites a large share of a tree (a student reordering their
   * own ranking), applying it to the sorted items and laying the tree out again
   * writes each node once instead of splitting and merging item by item.
   * Node ids are reused so the rewrite is mostly updates. The locking call
   * chose this, took the root exclusively and returned every node.
   */
  async rebuild(ops: EncodedOp[]): Promise<OpOutcome[]> {
    const keys: Buffer[] = [];
    const sums: bigint[][] = [];
    const collect = (id: number) => {
      const node = this.nodes.get(id)!;
      for (let i = 0; i <= node.keys.length; i++) {
        if (node.children) collect(node.children[i]);
        if (i < node.keys.length) {
          keys.push(node.keys[i]);
          sums.push(node.sums[i]);
        }
      }
    };
    collect(this.rootId);
    const outcomes = ops.map((op): OpOutcome => {
      const slot = lowerBound(keys, op.item);
      const exists = slot < keys.length && keys[slot].equals(op.item);
      if (op.kind === "insert") {
        if (exists) return "duplicate";
        keys.splice(slot, 0, op.item);
        sums.splice(slot, 0, op.sums);
      } else {
        if (!exists) return "missing";
        keys.splice(slot, 1);
        sums.splice(slot, 1);
      }
      return "done";
    });

    const { root, others } = layoutTree(keys.length, sums, this.maxNodeSize, this.channels);
    const reusable = [...this.nodes.keys()].filter((id) => id !== this.rootId);
    const extra = await Promise.all(
      others.slice(reusable.length).map(() => this.session.ids.request(null)),
    );
    others.forEach((built, i) => (built.id = i < reusable.length ? reusable[i] : extra[i - reusable.length]));
    for (const id of reusable.slice(others.length)) this.drop(this.nodes.get(id)!);
    root.id = this.rootId;
    for (const built of [root, ...others]) {
      this.nodes.set(
        built.id,
        new MemNode(
          built.id,
          built.items.map((i) => keys[i]),
          built.items.map((i) => sums[i]),
          this.channels,
          built.children ? built.children.map((child) => child.id) : null,
          built.count,
          built.totals,
          null,
        ),
      );
      this.touch(this.nodes.get(built.id)!);
    }
    for (const id of extra) this.created.add(id);
    return outcomes;
  }

  async insert(item: Buffer, sums: bigint[]): Promise<OpOutcome> {
    const path: { node: MemNode; slot: number }[] = [];
    let node = this.root();
    for (;;) {
      const slot = lowerBound(node.keys, item);
      if (slot < node.keys.length && node.keys[slot].equals(item)) return "duplicate";
      if (!node.children) {
        if (node.id === this.rootId) await this.claimRoot();
        node.keys.splice(slot, 0, item);
        node.sums.splice(slot, 0, sums);
        break;
      }
      path.push({ node, slot });
      node = await this.get(node.children[slot]);
    }
    for (const visited of [...path.map((entry) => entry.node), node]) {
      if (this.isLazyRoot(visited)) continue;
      visited.count += 1n;
      addInto(visited.totals, sums, 1n);
      this.touch(visited);
    }
    this.touch(node);

    let level = path.length;
    let current = node;
    while (current.keys.length > this.maxNodeSize) {
      if (current.id === this.rootId) {
        await this.claimRoot();
        await this.splitRoot(current);
        break;
      }
      const { node: parent, slot } = path[--level];
      if (parent.id === this.rootId) await this.claimRoot();
      await this.splitChild(parent, slot, current);
      current = parent;
    }
    return "done";
  }

  private async splitChild(parent: MemNode, slot: number, node: MemNode) {
    const right = await this.newNode();
    const mid = node.keys.length >> 1;
    const medianKey = node.keys[mid];
    const medianSums = node.sums[mid];
    right.keys = node.keys.slice(mid + 1);
    right.sums = node.sums.slice(mid + 1);
    right.children = node.children ? node.children.slice(mid + 1) : null;
    node.keys = node.keys.slice(0, mid);
    node.sums = node.sums.slice(0, mid);
    if (node.children) node.children = node.children.slice(0, mid + 1);
    await this.recount(right);
    node.count -= right.count + 1n;
    addInto(node.totals, right.totals, -1n);
    addInto(node.totals, medianSums, -1n);
    parent.keys.splice(slot, 0, medianKey);
    parent.sums.splice(slot, 0, medianSums);
    parent.children!.splice(slot + 1, 0, right.id);
    this.touch(node);
    this.touch(parent);
  }

  /** The root keeps its id (trees point at it); its halves move into two new nodes. */
  private async splitRoot(root: MemNode) {
    const [left, right] = await Promise.all([this.newNode(), this.newNode()]);
    const mid = root.keys.length >> 1;
    left.keys = root.keys.slice(0, mid);
    left.sums = root.sums.slice(0, mid);
    left.children = root.children ? root.children.slice(0, mid + 1) : null;
    right.keys = root.keys.slice(mid + 1);
    right.sums = root.sums.slice(mid + 1);
    right.children = root.children ? root.children.slice(mid + 1) : null;
    root.keys = [root.keys[mid]];
    root.sums = [root.sums[mid]];
    root.children = [left.id, right.id];
    await Promise.all([this.recount(left), this.recount(right)]);
    this.touch(root);
  }

  async delete(item: Buffer): Promise<OpOutcome> {
    const path: { node: MemNode; slot: number }[] = [];
    let node = this.root();
    let slot: number;
    for (;;) {
      slot = lowerBound(node.keys, item);
      if (slot < node.keys.length && node.keys[slot].equals(item)) break;
      if (!node.children) return "missing";
      path.push({ node, slot });
      node = await this.get(node.children[slot]);
    }
    if (node.id === this.rootId) await this.claimRoot();
    const removedSums = node.sums[slot];
    const holder = node;
    const abovePath = path.length;
    let leaf = node;
    let movedSums = removedSums;
    if (!node.children) {
      node.keys.splice(slot, 1);
      node.sums.splice(slot, 1);
    } else {
      // Replace the item by its predecessor, the last item of the subtree on its left.
      path.push({ node, slot });
      leaf = await this.get(node.children[slot]);
      while (leaf.children) {
        path.push({ node: leaf, slot: leaf.children.length - 1 });
        leaf = await this.get(leaf.children[leaf.children.length - 1]);
      }
      const predecessorKey = leaf.keys.pop()!;
      movedSums = leaf.sums.pop()!;
      node.keys[slot] = predecessorKey;
      node.sums[slot] = movedSums;
    }
    const visited = [...path.map((entry) => entry.node), ...(leaf === holder ? [holder] : [leaf])];
    visited.forEach((each, depth) => {
      if (this.isLazyRoot(each)) {
        if (each === holder) this.touch(each);
        return;
      }
      this.touch(each);
      each.count -= 1n;
      // Nodes below the holder lose the predecessor, which moved up; the holder and above lose the item.
      addInto(each.totals, depth > abovePath ? movedSums : removedSums, -1n);
    });

    let level = path.length;
    let current = leaf;
    while (current.id !== this.rootId && current.keys.length < this.minNodeSize) {
      const { node: parent, slot: childSlot } = path[--level];
      if (parent.id === this.rootId) await this.claimRoot();
      const merged = await this.rebalance(parent, childSlot, current);
      if (!merged) break;
      current = parent;
    }
    const root = this.root();
    if (root.keys.length === 0 && root.children) {
      await this.claimRoot();
      const only = await this.get(root.children[0]);
      root.keys = only.keys;
      root.sums = only.sums;
      root.children = only.children;
      this.touch(root);
      this.drop(only);
    }
    return "done";
  }

  /** Fixes an underfull child by borrowing through the parent or merging with a sibling; true when merged. */
  private async rebalance(parent: MemNode, slot: number, node: MemNode): Promise<boolean> {
    const siblings = parent.children!;
    const [left, right] = await Promise.all([
      slot > 0 ? this.get(siblings[slot - 1]) : null,
      slot < siblings.length - 1 ? this.get(siblings[slot + 1]) : null,
    ]);
    this.touch(parent);
    this.touch(node);
    if (left && left.keys.length > this.minNodeSize) {
      const moved = left.children ? await this.get(left.children[left.children.length - 1]) : null;
      const separatorKey = parent.keys[slot - 1];
      const separatorSums = parent.sums[slot - 1];
      const lentKey = left.keys.pop()!;
      const lentSums = left.sums.pop()!;
      parent.keys[slot - 1] = lentKey;
      parent.sums[slot - 1] = lentSums;
      node.keys.unshift(separatorKey);
      node.sums.unshift(separatorSums);
      if (moved) node.children!.unshift(left.children!.pop()!);
      this.shift(left, node, lentSums, separatorSums, moved);
      this.touch(left);
      return false;
    }
    if (right && right.keys.length > this.minNodeSize) {
      const moved = right.children ? await this.get(right.children[0]) : null;
      const separatorKey = parent.keys[slot];
      const separatorSums = parent.sums[slot];
      const lentKey = right.keys.shift()!;
      const lentSums = right.sums.shift()!;
      parent.keys[slot] = lentKey;
      parent.sums[slot] = lentSums;
      node.keys.push(separatorKey);
      node.sums.push(separatorSums);
      if (moved) node.children!.push(right.children!.shift()!);
      this.shift(right, node, lentSums, separatorSums, moved);
      this.touch(right);
      return false;
    }
    const [into, from, separatorSlot] = left ? [left, node, slot - 1] : [node, right!, slot];
    into.keys.push(parent.keys[separatorSlot], ...from.keys);
    into.sums.push(parent.sums[separatorSlot], ...from.sums);
    if (into.children) into.children.push(...from.children!);
    into.count += 1n + from.count;
    addInto(into.totals, parent.sums[separatorSlot], 1n);
    addInto(into.totals, from.totals, 1n);
    parent.keys.splice(separatorSlot, 1);
    parent.sums.splice(separatorSlot, 1);
    parent.children!.splice(separatorSlot + 1, 1);
    this.touch(into);
    this.drop(from);
    return true;
  }

  /** Totals after a rotation: `donor` gave one item up and maybe a child; `node` got the separator and that child. */
  private shift(donor: MemNode, node: MemNode, lentSums: bigint[], separatorSums: bigint[], moved: MemNode | null) {
    const movedCount = moved ? moved.count : 0n;
    donor.count -= 1n + movedCount;
    addInto(donor.totals, lentSums, -1n);
    node.count += 1n + movedCount;
    addInto(node.totals, separatorSums, 1n);
    if (moved) {
      addInto(donor.totals, moved.totals, -1n);
      addInto(node.totals, moved.totals, 1n);
    }
  }
}

/**
 * How a changed node travels to the write call. A node whose children are as
 * read ("edit") is sent as the items it lost and gained; the server applies
 * them to the stored arrays (keys are memcomparable, so sorting there keeps
 * the order). A whole node is sent only when it is new, laid out again, its
 * children changed, or most of its items did. Nodes whose items are as read
 * only get their totals ("counts").
 */
function nodeWrite(tree: Tree, node: MemNode, isNew: boolean) {
  const lazyRoot = tree.isLazyRoot(node);
  const totals = {
    count: lazyRoot ? null : node.count.toString(),
    totals: lazyRoot ? null : `{${node.totals.join(",")}}`,
  };
  const original = node.original;
  const children = node.children === null ? null : node.children.join(",");
  if (!isNew && original !== null && original.children === children) {
    // The new items as runs: [0, a, b] the stored items a..b, [1, a, b] the sent items a..b (1-based).
    const plan: number[] = [];
    const added: number[] = [];
    let changes = 0;
    const run = (kind: 0 | 1, index: number) => {
      const last = plan.length - 3;
      if (last >= 0 && plan[last] === kind && plan[last + 2] === index - 1) plan[last + 2] = index;
      else plan.push(kind, index, index);
    };
    let i = 0;
    let j = 0;
    while (i < original.keys.length || j < node.keys.length) {
      const order =
        i === original.keys.length ? 1 : j === node.keys.length ? -1 : Buffer.compare(original.keys[i], node.keys[j]);
      if (order < 0) {
        i++;
        changes++;
      } else if (order > 0 || node.keys[j] !== original.keys[i]) {
        // An equal item held as another object came from an insert of this batch (deleted and
        // inserted again, maybe with other sums); items that only moved between nodes keep their object.
        if (order === 0) i++;
        added.push(j++);
        run(1, added.length);
        changes += order === 0 ? 2 : 1;
      } else {
        run(0, ++i);
        j++;
      }
    }
    if (changes === 0) {
      return { mode: "c", keys: null, sums: null, plan: null, children: null, ...totals };
    }
    if (changes < node.keys.length) {
      return {
        mode: "e",
        keys: byteaArrayLiteral(added.map((k) => node.keys[k])),
        sums: `{${added.map((k) => node.sums[k].join(",")).join(",")}}`,
        plan: `{${plan.join(",")}}`,
        children: null,
        ...totals,
      };
    }
  }
  return {
    mode: "f",
    keys: byteaArrayLiteral(node.keys),
    sums: `{${node.sums.flat().join(",")}}`,
    plan: null,
    children: children === null ? null : `{${children}}`,
    ...totals,
  };
}

/**
 * Applies item writes across any number of trees: one locking call, node reads
 * only when a rebalance needs a node off the locked paths, and one writing
 * call. Duplicates and missing items are outcomes; `refuse` turns them into an
 * error before anything is written.
 */
export async function applyEncodedOps(
  db: AggregateDb,
  ops: EncodedOp[],
  refuse: (outcomes: OpOutcome[]) => Error | null = () => null,
): Promise<OpOutcome[]> {
  if (ops.length === 0) return [];
  const session = new Session(db);
  const trees = new Map<string, Tree>();
  for (const op of ops) {
    const key = treeId(op.settings.aggregate, op.namespace);
    if (!trees.has(key)) trees.set(key, new Tree(session, op.settings, op.namespace));
  }
  const ordered = [...trees.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const indexOf = new Map(ordered.map((tree, i) => [tree, i + 1]));
  const opOrder = ops
    .map((op, i) => ({ op, i, tree: indexOf.get(trees.get(treeId(op.settings.aggregate, op.namespace))!)! }))
    .sort((a, b) => a.tree - b.tree || a.i - b.i);
  const now = Date.now();

  const rows = await query<NodeRow>(
    db,
    sql`select * from aggregate_lock_paths(
      ${sql.param(ordered.map((t) => t.settings.aggregate))}::text[],
      ${sql.param(ordered.map((t) => t.namespace))}::text[],
      ${sql.param(ordered.map((t) => t.settings.maxNodeSize))}::int[],
      ${sql.param(ordered.map((t) => flag(t.settings.rootLazy)))}::text[]::boolean[],
      ${sql.param(ordered.map((t) => t.settings.channels))}::int[],
      ${sql.param(ordered.map((t) => flag((exclusiveHints.get(t.key) ?? 0) > now)))}::text[]::boolean[],
      ${sql.param(ordered.map((t) => t.settings.rebuildFactor))}::int[],
      ${`{${opOrder.map((entry) => entry.tree).join(",")}}`}::int[],
      ${byteaArrayLiteral(opOrder.map((entry) => entry.op.item))}::bytea[])`,
  );
  for (const row of rows) {
    const tree = ordered[row.o_tree - 1];
    if (row.o_max_node_size !== null) {
      tree.rootId = Number(row.o_id);
      tree.maxNodeSize = row.o_max_node_size;
      tree.rootLazy = row.o_root_lazy!;
      tree.channels = row.o_channels!;
      tree.exclusive = row.o_exclusive!;
      tree.whole = row.o_whole!;
    }
    tree.nodes.set(Number(row.o_id), rowToNode(row, tree.channels));
  }

  const outcomes: OpOutcome[] = new Array(ops.length);
  const byTree = new Map<Tree, { op: EncodedOp; i: number }[]>();
  for (const entry of opOrder) {
    const tree = ordered[entry.tree - 1];
    const list = byTree.get(tree) ?? [];
    list.push(entry);
    byTree.set(tree, list);
  }
  // Settle every tree before going on, so no worker still uses the transaction after a failure.
  const settled = await Promise.allSettled(
    [...byTree].map(async ([tree, list]) => {
      for (const { op } of list) {
        if (op.kind === "insert" && op.sums.length !== tree.channels) {
          throw new AggregateConfigError(
            `aggregate ${tree.settings.aggregate}: ${op.sums.length} sums given, the tree of "${tree.namespace}" has ${tree.channels} channels`,
          );
        }
      }
      if (tree.whole) {
        const results = await tree.rebuild(list.map((entry) => entry.op));
        list.forEach((entry, k) => (outcomes[entry.i] = results[k]));
        return;
      }
      for (const { op, i } of list) {
        outcomes[i] = op.kind === "insert" ? await tree.insert(op.item, op.sums) : await tree.delete(op.item);
      }
    }),
  );
  const failures = settled.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
  // Once one statement fails, the others in the transaction fail with 25P02; surface the cause, retryable first,
  // so a deadlock in one tree is retried by withTransaction instead of reaching the caller as "transaction aborted".
  if (failures.length > 0) {
    throw failures.find(isRetryableError) ?? failures.find((error) => pgErrorCode(error) !== "25P02") ?? failures[0];
  }
  // Refused before anything is written: a failed strict op leaves the trees untouched.
  const refusal = refuse(outcomes);
  if (refusal) throw refusal;

  const written: { tree: Tree; node: MemNode; isNew: boolean }[] = [];
  const deleted: number[] = [];
  for (const tree of ordered) {
    for (const id of tree.dirty) written.push({ tree, node: tree.nodes.get(id)!, isNew: tree.created.has(id) });
    deleted.push(...tree.deleted);
  }
  if (written.length > 0 || deleted.length > 0) {
    const literals = written.map((w) => nodeWrite(w.tree, w.node, w.isNew));
    await query(
      db,
      sql`select aggregate_write_nodes(
        ${sql.param(written.map((w) => w.node.id))}::bigint[],
        ${sql.param(written.map((w) => w.tree.settings.aggregate))}::text[],
        ${sql.param(written.map((w) => w.tree.namespace))}::text[],
        ${sql.param(literals.map((l) => l.mode))}::text[],
        ${sql.param(literals.map((l) => l.keys))}::text[],
        ${sql.param(literals.map((l) => l.sums))}::text[],
        ${sql.param(literals.map((l) => l.plan))}::text[],
        ${sql.param(literals.map((l) => l.children))}::text[],
        ${sql.param(literals.map((l) => l.count))}::bigint[],
        ${sql.param(literals.map((l) => l.totals))}::text[],
        ${sql.param(written.map((w) => w.tree.channels))}::int[],
        ${sql.param(written.map((w) => flag(w.isNew)))}::text[]::boolean[],
        ${sql.param(deleted)}::bigint[])`,
    );
  }
  return outcomes;
}

import { sql } from "drizzle-orm";
import { query, type AggregateDb } from "./db";

export type ValidationReport = { ok: boolean; problems: string[]; count: number; sums: number[] };

type StoredNode = {
  id: string;
  keys: Buffer[];
  sums: string[];
  children: string[] | null;
  count: string | null;
  totals: string[] | null;
};

/** Reads every node of one tree and checks each invariant of app/aggregate/README.md. */
export async function validateTree(
  db: AggregateDb,
  aggregate: string,
  namespace: string,
  defaultChannels: number,
): Promise<ValidationReport> {
  const [tree] = await query<{ root_id: string; max_node_size: number; root_lazy: boolean; channels: number }>(
    db,
    sql`select root_id, max_node_size, root_lazy, channels from aggregate_trees
        where aggregate = ${aggregate} and namespace = ${namespace}`,
  );
  if (!tree) {
    const empty = { count: 0n, sums: new Array<bigint>(defaultChannels).fill(0n) };
    return withPending(db, aggregate, namespace, defaultChannels, empty, new Set(), []);
  }
  const rows = await query<StoredNode>(
    db,
    sql`select id, keys, sums, children, count, totals from aggregate_nodes
        where aggregate = ${aggregate} and namespace = ${namespace}`,
  );
  const nodes = new Map(rows.map((row) => [row.id, row]));
  const problems: string[] = [];
  const channels = tree.channels;
  const max = tree.max_node_size;
  const seen = new Set<string>();
  const leafDepths = new Set<number>();
  let previous: Buffer | null = null;
  const inTree = new Set<string>();

  const visit = (id: string, depth: number, isRoot: boolean): { count: bigint; sums: bigint[] } => {
    const totals = new Array<bigint>(channels).fill(0n);
    const node = nodes.get(id);
    if (!node) {
      problems.push(`node ${id} is referenced but missing`);
      return { count: 0n, sums: totals };
    }
    if (seen.has(id)) {
      problems.push(`node ${id} is reachable twice`);
      return { count: 0n, sums: totals };
    }
    seen.add(id);
    const size = node.keys.length;
    if (size > max) problems.push(`node ${id} holds ${size} items, more than ${max}`);
    if (!isRoot && size < max / 2) problems.push(`node ${id} holds ${size} items, fewer than ${max / 2}`);
    if (node.sums.length !== size * channels) {
      problems.push(`node ${id} stores ${node.sums.length} sums for ${size} items × ${channels} channels`);
    }
    if (node.children && node.children.length !== size + 1) {
      problems.push(`node ${id} has ${size} items but ${node.children.length} children`);
    }
    if (isRoot && node.children && size === 0) problems.push(`root ${id} is internal with no items`);
    let count = BigInt(size);
    node.sums.forEach((value, i) => (totals[i % channels] += BigInt(value)));
    const children = node.children ?? [];
    if (children.length === 0) leafDepths.add(depth);
    for (let i = 0; i <= size; i++) {
      if (i < children.length) {
        const child = visit(children[i], depth + 1, false);
        count += child.count;
        child.sums.forEach((value, c) => (totals[c] += value));
      }
      if (i < size) {
        const key = node.keys[i];
        inTree.add(key.toString("hex"));
        if (previous && Buffer.compare(previous, key) >= 0) {
          problems.push(`node ${id} item ${i} is not after the item before it in tree order`);
        }
        previous = key;
      }
    }
    const lazy = isRoot && tree.root_lazy;
    if (node.count === null || node.totals === null) {
      if (!lazy) problems.push(`node ${id} has no stored totals but is not a lazy root`);
    } else {
      if (BigInt(node.count) !== count) problems.push(`node ${id} stores count ${node.count}, actual ${count}`);
      const stored = node.totals.map(BigInt);
      if (stored.length !== channels || stored.some((value, c) => value !== totals[c])) {
        problems.push(`node ${id} stores sums [${node.totals.join(", ")}], actual [${totals.join(", ")}]`);
      }
    }
    return { count, sums: totals };
  };

  const total = visit(tree.root_id, 0, true);
  if (leafDepths.size > 1) problems.push(`leaves at different depths: ${[...leafDepths].sort().join(", ")}`);
  for (const id of nodes.keys()) if (!seen.has(id)) problems.push(`node ${id} is not reachable from the root`);
  return withPending(db, aggregate, namespace, channels, total, inTree, problems);
}

/**
 * Buffered deltas: per item, presence before them (present after minus the
 * net change) must be 0 or 1 and match the tree; the totals include them.
 */
async function withPending(
  db: AggregateDb,
  aggregate: string,
  namespace: string,
  channels: number,
  total: { count: bigint; sums: bigint[] },
  inTree: Set<string>,
  problems: string[],
): Promise<ValidationReport> {
  const rows = await query<{ item: Buffer; net: number; present: boolean; item_sums: string[] }>(
    db,
    sql`select item, net, present, item_sums from aggregate_pending_items(${aggregate}, ${namespace}, null, null, ${channels}::int)`,
  );
  let count = total.count;
  for (const row of rows) {
    const before = (row.present ? 1 : 0) - row.net;
    const hex = row.item.toString("hex");
    if (before !== 0 && before !== 1) {
      problems.push(`buffered deltas of item ${hex} change its presence by ${row.net} (present after: ${row.present})`);
    } else if ((before === 1) !== inTree.has(hex)) {
      problems.push(`buffered deltas of item ${hex} assume it ${before === 1 ? "is" : "is not"} in the tree`);
    }
    count += BigInt(row.net);
  }
  const sums = [...total.sums];
  if (rows.length > 0) {
    const [pending] = await query<{ sums: string[] | null }>(
      db,
      sql`select aggregate_pending_sums(${aggregate}, ${namespace}, null, null, ${channels}::int) as sums`,
    );
    (pending.sums ?? []).forEach((value, c) => (sums[c] += BigInt(value)));
  }
  return { ok: problems.length === 0, problems, count: Number(count), sums: sums.map(Number) };
}

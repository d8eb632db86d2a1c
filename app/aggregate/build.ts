import { sql } from "drizzle-orm";
import { query, type AggregateDb } from "./db";
import { byteaArrayLiteral } from "./keys";

type TreeTarget = {
  aggregate: string;
  namespace: string;
  rootId: number;
  maxNodeSize: number;
  rootLazy: boolean;
  channels: number;
};

const INSERT_CHUNK = 4_000;

/**
 * Sizes of the nodes one level is cut into: n entries become k nodes with one
 * separator between neighbours going up, each node between max/2 and max
 * items, aiming at three quarters full so the next inserts do not split at once.
 */
export function partitionLevel(n: number, maxNodeSize: number): number[] {
  if (n <= maxNodeSize) return [n];
  const min = maxNodeSize / 2;
  const target = Math.floor((maxNodeSize * 3) / 4);
  let k = Math.max(2, Math.round((n + 1) / (target + 1)));
  const sizes = () => {
    const total = n - (k - 1);
    return { base: Math.floor(total / k), extra: total % k };
  };
  while (sizes().base < min && k > 2) k--;
  while (sizes().base + (sizes().extra > 0 ? 1 : 0) > maxNodeSize) k++;
  const { base, extra } = sizes();
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}

export type BuiltNode = { id: number; items: number[]; children: BuiltNode[] | null; count: bigint; totals: bigint[] };

/**
 * Lays out sorted items (referred to by index) as a B-tree bottom up in O(n):
 * the root, and every other node listed leaves first.
 */
export function layoutTree(
  itemCount: number,
  sums: bigint[][],
  maxNodeSize: number,
  channels: number,
): { root: BuiltNode; others: BuiltNode[] } {
  let entries = Array.from({ length: itemCount }, (_, i) => i);
  let below: BuiltNode[] | null = null;
  const others: BuiltNode[] = [];
  for (;;) {
    const sizes = partitionLevel(entries.length, maxNodeSize);
    const level: BuiltNode[] = [];
    const separators: number[] = [];
    let position = 0;
    let child = 0;
    for (const [j, size] of sizes.entries()) {
      const items = entries.slice(position, position + size);
      position += size;
      const children = below ? below.slice(child, child + size + 1) : null;
      child += size + 1;
      let count = BigInt(size);
      const totals = new Array<bigint>(channels).fill(0n);
      for (const item of items) sums[item].forEach((value, c) => (totals[c] += value));
      for (const each of children ?? []) {
        count += each.count;
        each.totals.forEach((value, c) => (totals[c] += value));
      }
      level.push({ id: 0, items, children, count, totals });
      if (j < sizes.length - 1) separators.push(entries[position++]);
    }
    if (level.length === 1) return { root: level[0], others };
    others.push(...level);
    entries = separators;
    below = level;
  }
}

/** Writes a laid-out tree under the existing (empty) root of the target. */
export async function buildTree(tx: AggregateDb, target: TreeTarget, keys: Buffer[], sums: bigint[][]) {
  const { root, others: all } = layoutTree(keys.length, sums, target.maxNodeSize, target.channels);
  if (all.length > 0) {
    const ids = await query<{ id: string }>(
      tx,
      sql`select nextval('aggregate_nodes_id_seq') as id from generate_series(1, ${all.length}::int)`,
    );
    all.forEach((node, i) => (node.id = Number(ids[i].id)));
  }
  root.id = target.rootId;
  const literal = (node: BuiltNode) => ({
    keys: byteaArrayLiteral(node.items.map((i) => keys[i])),
    sums: `{${node.items.map((i) => sums[i].join(",")).join(",")}}`,
    children: node.children ? `{${node.children.map((each) => each.id).join(",")}}` : null,
  });

  for (let start = 0; start < all.length; start += INSERT_CHUNK) {
    const chunk = all.slice(start, start + INSERT_CHUNK);
    const literals = chunk.map(literal);
    await query(
      tx,
      sql`insert into aggregate_nodes (id, aggregate, namespace, keys, sums, children, count, totals)
          select t.id, ${target.aggregate}, ${target.namespace}, t.keys::bytea[], t.sums::bigint[], t.children::bigint[],
            t.count, t.totals::bigint[]
          from unnest(${sql.param(chunk.map((n) => n.id))}::bigint[], ${sql.param(literals.map((l) => l.keys))}::text[],
            ${sql.param(literals.map((l) => l.sums))}::text[], ${sql.param(literals.map((l) => l.children))}::text[],
            ${sql.param(chunk.map((n) => n.count.toString()))}::bigint[],
            ${sql.param(chunk.map((n) => `{${n.totals.join(",")}}`))}::text[])
            as t(id, keys, sums, children, count, totals)`,
    );
  }
  const rootLiteral = literal(root);
  await query(
    tx,
    sql`update aggregate_nodes set keys = ${rootLiteral.keys}::bytea[], sums = ${rootLiteral.sums}::bigint[],
          children = ${rootLiteral.children}::bigint[],
          count = ${target.rootLazy ? null : root.count.toString()}::bigint,
          totals = ${target.rootLazy ? null : `{${root.totals.join(",")}}`}::bigint[]
        where id = ${target.rootId}`,
  );
}

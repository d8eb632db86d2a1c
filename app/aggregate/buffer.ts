import { sql } from "drizzle-orm";
import { inTransaction, query, type AggregateDb } from "./db";
import { AggregateConfigError } from "./errors";
import { byteaLiteral } from "./keys";
import { applyEncodedOps, type EncodedOp, type OpOutcome, type TreeSettings } from "./write";

/**
 * A write op for the buffer. `trusted` ops skip the presence check: the caller
 * vouches that a delete removes an item that exists with exactly these sums
 * and that an insert adds one that does not (a TableAggregate whose rows the
 * caller holds locked). Other ops are checked under per-item locks.
 */
export type BufferedOp = EncodedOp & { strict: boolean; trusted: boolean };

type Delta = { aggregate: string; namespace: string; item: Buffer; sign: 1 | -1; sums: bigint[] };

const itemId = (op: { settings: TreeSettings; namespace: string; item: Buffer }) =>
  `${op.settings.aggregate}\u0000${op.namespace}\u0000${op.item.toString("hex")}`;

/**
 * Plans a batch as deltas: at most one presence lookup (only for ops that are
 * not trusted), then `write` is one INSERT of one row per tree. No node row is
 * locked or written, so concurrent writers of one tree do not wait for each
 * other. Nothing is written until `write` is called.
 */
export async function planBuffered(
  db: AggregateDb,
  ops: BufferedOp[],
): Promise<{ outcomes: OpOutcome[]; write: () => Promise<void> }> {
  for (const op of ops) {
    // A checked delete takes the sums of the item it finds; every other op carries its own.
    if ((op.kind === "insert" || op.trusted) && op.sums.length !== op.settings.channels) {
      throw new AggregateConfigError(
        `aggregate ${op.settings.aggregate}: ${op.sums.length} sums given, it has ${op.settings.channels} channels`,
      );
    }
  }
  const state = new Map<string, { present: boolean; sums: bigint[] }>();
  const checked = ops.filter((op) => !op.trusted);
  if (checked.length > 0) {
    const distinct = [...new Map(checked.map((op) => [itemId(op), op])).values()];
    const rows = await query<{ o_index: number; o_present: boolean; o_sums: string[] | null }>(
      db,
      sql`select o_index, o_present, o_sums from aggregate_buffer_lookup(
        ${sql.param(distinct.map((op) => op.settings.aggregate))}::text[],
        ${sql.param(distinct.map((op) => op.namespace))}::text[],
        ${sql.param(distinct.map((op) => byteaLiteral(op.item)))}::text[])`,
    );
    for (const row of rows) {
      state.set(itemId(distinct[row.o_index - 1]), {
        present: row.o_present,
        sums: (row.o_sums ?? []).map(BigInt),
      });
    }
  }

  const outcomes: OpOutcome[] = [];
  const deltas: Delta[] = [];
  if (checked.length === 0) {
    // All vouched for by the caller: every op is one delta, in order.
    return { outcomes: ops.map(() => "done"), write: () => insertDeltas(db, trustedDeltas(ops)) };
  }
  for (const op of ops) {
    const { aggregate } = op.settings;
    const id = itemId(op);
    const known = state.get(id);
    if (op.trusted && !known) {
      deltas.push({ aggregate, namespace: op.namespace, item: op.item, sign: op.kind === "insert" ? 1 : -1, sums: op.sums });
      state.set(id, { present: op.kind === "insert", sums: op.sums });
      outcomes.push("done");
      continue;
    }
    const current = known ?? { present: false, sums: [] };
    if (op.kind === "insert") {
      if (current.present) {
        outcomes.push("duplicate");
        continue;
      }
      deltas.push({ aggregate, namespace: op.namespace, item: op.item, sign: 1, sums: op.sums });
      state.set(id, { present: true, sums: op.sums });
    } else {
      if (!current.present) {
        outcomes.push("missing");
        continue;
      }
      deltas.push({ aggregate, namespace: op.namespace, item: op.item, sign: -1, sums: current.sums });
      state.set(id, { present: false, sums: [] });
    }
    outcomes.push("done");
  }
  return { outcomes, write: () => insertDeltas(db, deltas) };
}

/** The deltas as the five array arguments of aggregate_append: one element per tree. */
export type DeltaArrays = { aggregates: string[]; namespaces: string[]; items: string[]; signs: string[]; sums: string[] };

/**
 * Collects deltas by tree and writes each tree's items, signs and sums as
 * array literals, so the server only parses them (grouping and concatenating
 * arrays server-side cost more).
 */
type TreeDeltas = { aggregate: string; namespace: string; items: string[]; signs: string[]; sums: string[] };

export class DeltaBuilder {
  /** In order of first delta; the map finds a tree by aggregate, then namespace. */
  private readonly list: TreeDeltas[] = [];
  private readonly trees = new Map<string, Map<string, TreeDeltas>>();

  add(aggregate: string, namespace: string, item: Buffer, sign: 1 | -1, sums: readonly (bigint | number)[]) {
    let byNamespace = this.trees.get(aggregate);
    if (!byNamespace) {
      byNamespace = new Map();
      this.trees.set(aggregate, byNamespace);
    }
    let tree = byNamespace.get(namespace);
    if (!tree) {
      tree = { aggregate, namespace, items: [], signs: [], sums: [] };
      byNamespace.set(namespace, tree);
      this.list.push(tree);
    }
    // Hex bytea inside an array literal: the backslash is escaped and the element quoted.
    tree.items.push(`"\\\\x${item.toString("hex")}"`);
    tree.signs.push(sign === 1 ? "1" : "-1");
    for (const value of sums) tree.sums.push(String(value));
  }

  arrays(): DeltaArrays {
    const list = this.list;
    return {
      aggregates: list.map((t) => t.aggregate),
      namespaces: list.map((t) => t.namespace),
      items: list.map((t) => `{${t.items.join(",")}}`),
      signs: list.map((t) => `{${t.signs.join(",")}}`),
      sums: list.map((t) => `{${t.sums.join(",")}}`),
    };
  }
}

export function deltaArrays(deltas: Delta[]): DeltaArrays {
  const builder = new DeltaBuilder();
  for (const delta of deltas) builder.add(delta.aggregate, delta.namespace, delta.item, delta.sign, delta.sums);
  return builder.arrays();
}

/** The deltas of trusted ops, one per op in order (the caller vouches for them: see BufferedOp). */
export function trustedDeltas(ops: BufferedOp[]): Delta[] {
  return ops.map((op) => {
    if (op.sums.length !== op.settings.channels) {
      throw new AggregateConfigError(
        `aggregate ${op.settings.aggregate}: ${op.sums.length} sums given, it has ${op.settings.channels} channels`,
      );
    }
    return { aggregate: op.settings.aggregate, namespace: op.namespace, item: op.item, sign: op.kind === "insert" ? 1 : -1, sums: op.sums };
  });
}

/** One statement: aggregate_append takes the trees' write locks (shared) and inserts one row per tree. */
async function insertDeltas(db: AggregateDb, deltas: Delta[]) {
  if (deltas.length === 0) return;
  const a = deltaArrays(deltas);
  await query(
    db,
    sql`select aggregate_append(${sql.param(a.aggregates)}::text[], ${sql.param(a.namespaces)}::text[],
          ${sql.param(a.items)}::text[], ${sql.param(a.signs)}::text[], ${sql.param(a.sums)}::text[])`,
  );
}

/**
 * For clear and rebuild: waits for the tree's writers in flight (their shared
 * write lock) and its compactor, and keeps both out until the transaction ends.
 */
export async function lockTreeForMaintenance(tx: AggregateDb, aggregate: string, namespace: string) {
  await query(
    tx,
    sql`select pg_advisory_xact_lock(aggregate_tree_lock('write', ${aggregate}::text, ${namespace}::text)),
          pg_advisory_xact_lock(aggregate_tree_lock('compact', ${aggregate}::text, ${namespace}::text))`,
  );
}

export type CompactResult = { deltas: number; items: number; anomalies: number };

type TreeRef = { settings: TreeSettings; namespace: string };

/**
 * Folds the buffered deltas of one tree into its nodes; null without waiting
 * when another transaction is compacting, clearing or rebuilding it.
 */
export async function compactTree(
  db: AggregateDb,
  settings: TreeSettings,
  namespace: string,
): Promise<CompactResult | null> {
  const [result] = await compactTrees(db, [{ settings, namespace }]);
  return result;
}

/**
 * Folds the deltas of several trees that are committed (or written by this
 * transaction) into their nodes and deletes them, in one transaction and a
 * fixed number of statements whatever the number of trees: one net op per
 * item through the ordinary write engine (which rewrites a tree in one pass
 * when its ops are many for its size). A tree another transaction is
 * compacting, clearing or rebuilding is skipped without waiting (null in its
 * place). Deltas committed meanwhile stay for the next compaction; readers see
 * the trees and deltas before or after, never a mix.
 */
export async function compactTrees(db: AggregateDb, trees: TreeRef[]): Promise<(CompactResult | null)[]> {
  if (trees.length === 0) return [];
  // In its own transaction a compaction need not wait for the disk at commit: it moves data that is already
  // durable (the deltas) into the trees, and a crash loses all of it or none of it.
  return inTransaction(db, async (tx) => {
    const locks = await query<{ ok: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(aggregate_tree_lock('compact', u.a, u.n)) as ok
          from unnest(${sql.param(trees.map((t) => t.settings.aggregate))}::text[], ${sql.param(trees.map((t) => t.namespace))}::text[])
            with ordinality as u(a, n, o)
          order by u.o`,
    );
    const locked = trees.filter((_, i) => locks[i].ok);
    const results: (CompactResult | null)[] = trees.map((_, i) => (locks[i].ok ? { deltas: 0, items: 0, anomalies: 0 } : null));
    if (locked.length === 0) return results;
    // One statement takes the locked trees' visible deltas out and nets them per item server-side,
    // so only one row per item travels: its net change, whether its last delta is an insert, and those sums.
    const nets = await query<{ t: number; item: Buffer; net: number; present: boolean; sums: string; deltas: number }>(
      tx,
      sql`with gone as (
            delete from aggregate_pending p
            using unnest(${sql.param(locked.map((t) => t.settings.aggregate))}::text[], ${sql.param(locked.map((t) => t.namespace))}::text[])
              with ordinality as u(a, n, t)
            where p.aggregate = u.a and p.namespace = u.n
            returning u.t, p.seq, p.items, p.signs, p.sums, cardinality(p.sums) / nullif(cardinality(p.items), 0) as w),
          d as (
            select g.t, x.item, x.sign, g.seq, x.k, g.sums[(x.k - 1) * g.w + 1 : x.k * g.w] as s
            from gone g cross join lateral unnest(g.items, g.signs) with ordinality as x(item, sign, k))
          select distinct on (d.t, d.item) d.t::int as t, d.item, (sum(d.sign) over (partition by d.t, d.item))::int as net,
            d.sign = 1 as present, d.s::text as sums, (count(*) over (partition by d.t))::int as deltas
          from d order by d.t, d.item, d.seq desc, d.k desc`,
    );
    if (nets.length === 0) return results;
    const lockedIndex = trees.flatMap((_, i) => (locks[i].ok ? [i] : []));
    const ops: EncodedOp[] = [];
    const opTree: number[] = [];
    for (const row of nets) {
      const index = lockedIndex[row.t - 1];
      const { settings, namespace } = trees[index];
      const result = results[index]!;
      result.deltas = row.deltas;
      result.items++;
      const present = row.present ? 1 : 0;
      const inTree = present - row.net;
      if (inTree !== 0 && inTree !== 1) result.anomalies++;
      if (inTree !== 0) {
        ops.push({ settings, namespace, kind: "delete", item: row.item, sums: [] });
        opTree.push(index);
      }
      if (present === 1) {
        const sums = row.sums.slice(1, -1);
        ops.push({ settings, namespace, kind: "insert", item: row.item, sums: sums === "" ? [] : sums.split(",").map(BigInt) });
        opTree.push(index);
      }
    }
    const outcomes = await applyEncodedOps(tx, ops);
    outcomes.forEach((outcome, i) => {
      if (outcome !== "done") results[opTree[i]]!.anomalies++;
    });
    return results;
  }, { durable: false });
}

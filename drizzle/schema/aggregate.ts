import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, customType, index, integer, pgTable, primaryKey, smallint, text } from "drizzle-orm/pg-core";

// Node keys are memcomparable byte strings (app/aggregate/keys.ts), so
// Postgres orders them natively with bytea comparison.
const byteaArray = customType<{ data: Buffer[] }>({ dataType: () => "bytea[]" });

/** One counted B-tree per (aggregate instance, namespace); the root row never changes id. */
export const aggregateTrees = pgTable(
  "aggregate_trees",
  {
    aggregate: text("aggregate").notNull(),
    namespace: text("namespace").notNull(),
    rootId: bigint("root_id", { mode: "number" }).notNull(),
    maxNodeSize: integer("max_node_size").notNull(),
    rootLazy: boolean("root_lazy").notNull(),
    channels: integer("channels").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.aggregate, t.namespace] }),
    check("aggregate_trees_max_node_size", sql`${t.maxNodeSize} >= 4 and ${t.maxNodeSize} % 2 = 0`),
    check("aggregate_trees_channels", sql`${t.channels} >= 1`),
  ],
);

/**
 * A node: its items (encoded key+id, sums flattened item by item), its
 * children (null for a leaf) and the count and per-channel sums of its whole
 * subtree (null only for a lazy root, whose totals are its children's).
 */
export const aggregateNodes = pgTable(
  "aggregate_nodes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    aggregate: text("aggregate").notNull(),
    namespace: text("namespace").notNull(),
    keys: byteaArray("keys").notNull(),
    sums: bigint("sums", { mode: "number" }).array().notNull(),
    children: bigint("children", { mode: "number" }).array(),
    count: bigint("count", { mode: "number" }),
    totals: bigint("totals", { mode: "number" }).array(),
  },
  (t) => [index("aggregate_nodes_tree_idx").on(t.aggregate, t.namespace)],
);

/**
 * Buffered writes: the item deltas of one write batch for one tree, appended
 * in the writer's transaction (no node row is touched, so writers never wait
 * for each other) and folded into the tree later by a compaction. Readers add
 * the deltas of their snapshot to what the tree answers. `signs` are +1
 * (insert) and −1 (delete); `sums` holds the items' sums item by item (for a
 * delete, the sums of the item removed).
 */
export const aggregatePending = pgTable(
  "aggregate_pending",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    aggregate: text("aggregate").notNull(),
    namespace: text("namespace").notNull(),
    items: byteaArray("items").notNull(),
    signs: smallint("signs").array().notNull(),
    sums: bigint("sums", { mode: "number" }).array().notNull(),
  },
  (t) => [index("aggregate_pending_tree_idx").on(t.aggregate, t.namespace, t.seq)],
);

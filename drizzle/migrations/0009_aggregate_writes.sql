-- Cheaper locking call for write batches (app/aggregate/README.md, "Writes").
-- A lazy root's subtree size (only wanted to choose a rewrite) is no longer
-- summed over its children when a lower bound already rules a rewrite out: every
-- root child holds at least maxNodeSize/2 items. Keys are packed inline instead
-- of through aggregate_pack_keys, which as an SQL function with an aggregate is
-- never inlined and started an executor per returned node.
CREATE OR REPLACE FUNCTION aggregate_lock_paths(
  p_aggregates text[], p_namespaces text[], p_max_node_sizes int[], p_root_lazy boolean[], p_channels int[],
  p_exclusive boolean[], p_rebuild_factors int[], p_op_trees int[], p_op_keys bytea[])
  RETURNS TABLE (o_tree int, o_id bigint, o_keys bytea, o_sums text, o_children text, o_count bigint,
    o_totals text, o_max_node_size int, o_root_lazy boolean, o_channels int, o_exclusive boolean, o_whole boolean)
  LANGUAGE plpgsql VOLATILE
  -- The planner cannot know that each path step is one row; without these it
  -- hash-joins whole node tables where a few primary-key lookups do (and the
  -- inflated costs would then switch JIT compilation on).
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
  SET plan_cache_mode = force_generic_plan
  AS $$
DECLARE
  v_roots bigint[];
  v_exclusive boolean[];
  v_max int[];
  v_lazy boolean[];
  v_channels int[];
  v_whole boolean[];
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(p_aggregates, p_namespaces) AS w(a, n)
             WHERE NOT EXISTS (SELECT 1 FROM aggregate_trees t WHERE t.aggregate = w.a AND t.namespace = w.n)) THEN
    -- A concurrent creator of the same tree wins; this insert waits for it and then skips the row.
    WITH created AS (
      INSERT INTO aggregate_trees (aggregate, namespace, root_id, max_node_size, root_lazy, channels)
      SELECT w.a, w.n, nextval('aggregate_nodes_id_seq'), w.m, w.l, w.c
        FROM unnest(p_aggregates, p_namespaces, p_max_node_sizes, p_root_lazy, p_channels) WITH ORDINALITY AS w(a, n, m, l, c, ord)
        WHERE NOT EXISTS (SELECT 1 FROM aggregate_trees t WHERE t.aggregate = w.a AND t.namespace = w.n)
        ORDER BY w.ord
      ON CONFLICT DO NOTHING
      RETURNING aggregate, namespace, root_id, root_lazy, channels)
    INSERT INTO aggregate_nodes (id, aggregate, namespace, keys, sums, children, count, totals)
    SELECT c.root_id, c.aggregate, c.namespace, '{}', '{}', NULL, CASE WHEN c.root_lazy THEN NULL ELSE 0 END,
      CASE WHEN c.root_lazy THEN NULL ELSE array_fill(0::bigint, ARRAY[c.channels]) END
    FROM created c;
  END IF;

  -- Every write to a leaf root changes the root, so such roots are taken exclusively from the start.
  -- Totals are read before locking: they only steer the choice of a rewrite.
  SELECT array_agg(q.root_id), array_agg(q.max_node_size), array_agg(q.root_lazy), array_agg(q.channels),
         array_agg(q.whole), array_agg(NOT q.root_lazy OR q.x OR q.leaf OR q.whole)
    INTO v_roots, v_max, v_lazy, v_channels, v_whole, v_exclusive
    FROM (
      SELECT w.x, t.root_id, t.max_node_size, t.root_lazy, t.channels, r.leaf,
        w.f > 0 AND coalesce(o.ops, 0) > 1 AND coalesce(o.ops, 0) * w.f >= r.total AS whole
      FROM unnest(p_aggregates, p_namespaces, p_exclusive, p_rebuild_factors) WITH ORDINALITY AS w(a, n, x, f, ord)
      JOIN aggregate_trees t ON t.aggregate = w.a AND t.namespace = w.n
      LEFT JOIN (SELECT ot AS tree, count(*) AS ops FROM unnest(p_op_trees) AS ot GROUP BY ot) o ON o.tree = w.ord
      CROSS JOIN LATERAL (
        SELECT n.children IS NULL AS leaf, CASE
          WHEN n.count IS NOT NULL THEN n.count
          WHEN coalesce(o.ops, 0) * w.f < cardinality(n.keys) + coalesce(cardinality(n.children), 0) * (t.max_node_size / 2)
            THEN cardinality(n.keys) + coalesce(cardinality(n.children), 0) * (t.max_node_size / 2)
          ELSE cardinality(n.keys) + (SELECT coalesce(sum(c.count), 0) FROM aggregate_nodes c WHERE c.id = ANY (n.children))
          END::bigint AS total
        FROM aggregate_nodes n WHERE n.id = t.root_id OFFSET 0) r
      ORDER BY w.ord
    ) q;

  -- One pass in tree order, each root with its own strength. Whether a root is
  -- taken shared or exclusively differs between transactions (leaf roots,
  -- rewrites, the exclusive hint), so locking all shared roots before all
  -- exclusive ones would let two batches wait on each other in a cycle.
  FOR i IN 1 .. coalesce(cardinality(v_roots), 0) LOOP
    IF v_exclusive[i] THEN
      PERFORM 1 FROM aggregate_nodes n WHERE n.id = v_roots[i] FOR UPDATE;
    ELSE
      PERFORM 1 FROM aggregate_nodes n WHERE n.id = v_roots[i] FOR SHARE;
    END IF;
  END LOOP;
  PERFORM 1 FROM (
      SELECT DISTINCT o.tree, s.slot, n.children[s.slot] AS child
      FROM unnest(p_op_trees, p_op_keys) AS o(tree, key)
      JOIN aggregate_nodes n ON n.id = v_roots[o.tree]
      CROSS JOIN LATERAL (SELECT aggregate_slot(n.keys, o.key) + 1 AS slot) s
      WHERE NOT v_exclusive[o.tree] AND n.children IS NOT NULL) c
    JOIN aggregate_nodes cn ON cn.id = c.child
    ORDER BY c.tree, c.slot FOR UPDATE OF cn;

  RETURN QUERY
  WITH RECURSIVE walk(tree, key, node) AS (
    SELECT o.tree, o.key, v_roots[o.tree] FROM unnest(p_op_trees, p_op_keys) AS o(tree, key) WHERE NOT v_whole[o.tree]
    UNION ALL
    SELECT w.tree, w.key, n.children[aggregate_slot(n.keys, w.key) + 1]
    FROM walk w JOIN aggregate_nodes n ON n.id = w.node
    WHERE n.children IS NOT NULL
  ), visited AS (
    SELECT DISTINCT w.tree, w.node FROM walk w
    UNION
    SELECT r.ord::int, r.id FROM unnest(v_roots) WITH ORDINALITY AS r(id, ord)
    UNION
    SELECT w.ord::int, n.id FROM unnest(p_aggregates, p_namespaces, v_whole) WITH ORDINALITY AS w(a, ns, whole, ord)
      JOIN aggregate_nodes n ON n.aggregate = w.a AND n.namespace = w.ns
      WHERE w.whole
  )
  SELECT v.tree, n.id,
    (SELECT coalesce(string_agg(int4send(length(k)) || k, ''::bytea ORDER BY o), ''::bytea)
      FROM unnest(n.keys) WITH ORDINALITY AS u(k, o)), array_to_string(n.sums, ','), array_to_string(n.children, ','),
    n.count, array_to_string(n.totals, ','),
    CASE WHEN n.id = v_roots[v.tree] THEN v_max[v.tree] END,
    CASE WHEN n.id = v_roots[v.tree] THEN v_lazy[v.tree] END,
    CASE WHEN n.id = v_roots[v.tree] THEN v_channels[v.tree] END,
    CASE WHEN n.id = v_roots[v.tree] THEN v_exclusive[v.tree] END,
    CASE WHEN n.id = v_roots[v.tree] THEN v_whole[v.tree] END
  FROM visited v JOIN aggregate_nodes n ON n.id = v.node
  ORDER BY v.tree, n.id = v_roots[v.tree] DESC;
END;
$$;
--> statement-breakpoint
DROP FUNCTION aggregate_write_nodes(bigint[], text[], text[], text[], text[], text[], bigint[], text[], boolean[], boolean[], bigint[]);
--> statement-breakpoint
-- Concatenates arrays in input order (array_cat as an aggregate).
CREATE AGGREGATE aggregate_concat(anycompatiblearray) (SFUNC = array_cat, STYPE = anycompatiblearray);
--> statement-breakpoint
-- Writes the nodes a batch changed, in one call. Per node, p_modes says how it
-- travels: 'f' whole (keys, sums and children as array literals; inserted when
-- p_new), 'e' as an edit of the stored row: p_keys/p_sums hold only the items
-- it gained and p_plans its new items as runs (kind, from, to), kind 0 a slice
-- of the stored items, kind 1 a slice of the sent ones, concatenated in order;
-- 'c' only its count and totals. Unchanged items never leave the server.
CREATE FUNCTION aggregate_write_nodes(p_ids bigint[], p_aggregates text[], p_namespaces text[], p_modes text[],
  p_keys text[], p_sums text[], p_plans text[], p_children text[], p_counts bigint[], p_totals text[],
  p_channels int[], p_new boolean[], p_deleted bigint[])
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
  SET plan_cache_mode = force_generic_plan
  AS $$
BEGIN
  UPDATE aggregate_nodes n SET keys = i.keys::bytea[], sums = i.sums::bigint[], children = i.children::bigint[],
    count = i.count, totals = i.totals::bigint[]
  FROM unnest(p_ids, p_modes, p_keys, p_sums, p_children, p_counts, p_totals, p_new)
    AS i(id, mode, keys, sums, children, count, totals, is_new)
  WHERE i.mode = 'f' AND NOT i.is_new AND n.id = i.id;
  WITH e AS MATERIALIZED (
    SELECT i.id, i.added::bytea[] AS added, i.added_sums::bigint[] AS added_sums, i.plan::int[] AS plan,
      i.channels AS w, i.count, i.totals::bigint[] AS totals
    FROM unnest(p_ids, p_modes, p_keys, p_sums, p_plans, p_channels, p_counts, p_totals)
      AS i(id, mode, added, added_sums, plan, channels, count, totals)
    WHERE i.mode = 'e')
  UPDATE aggregate_nodes n SET (keys, sums) = (
      SELECT coalesce(aggregate_concat(CASE WHEN e.plan[3 * r - 2] = 0 THEN n.keys[e.plan[3 * r - 1]:e.plan[3 * r]]
          ELSE e.added[e.plan[3 * r - 1]:e.plan[3 * r]] END ORDER BY r), '{}'),
        coalesce(aggregate_concat(CASE WHEN e.plan[3 * r - 2] = 0
          THEN n.sums[(e.plan[3 * r - 1] - 1) * e.w + 1:e.plan[3 * r] * e.w]
          ELSE e.added_sums[(e.plan[3 * r - 1] - 1) * e.w + 1:e.plan[3 * r] * e.w] END ORDER BY r), '{}')
      FROM generate_series(1, cardinality(e.plan) / 3) AS r),
    count = e.count, totals = e.totals
  FROM e WHERE n.id = e.id;
  UPDATE aggregate_nodes n SET count = i.count, totals = i.totals::bigint[]
  FROM unnest(p_ids, p_modes, p_counts, p_totals) AS i(id, mode, count, totals)
  WHERE i.mode = 'c' AND n.id = i.id;
  INSERT INTO aggregate_nodes (id, aggregate, namespace, keys, sums, children, count, totals)
  SELECT i.id, i.aggregate, i.namespace, i.keys::bytea[], i.sums::bigint[], i.children::bigint[], i.count, i.totals::bigint[]
  FROM unnest(p_ids, p_aggregates, p_namespaces, p_keys, p_sums, p_children, p_counts, p_totals, p_new)
    AS i(id, aggregate, namespace, keys, sums, children, count, totals, is_new)
  WHERE i.is_new;
  IF cardinality(p_deleted) > 0 THEN
    DELETE FROM aggregate_nodes WHERE id = ANY (p_deleted);
  END IF;
END;
$$;
--> statement-breakpoint
-- Every write batch rewrites the same leaves again; with more free space per
-- page the old versions are pruned before HOT chains grow, which is where the
-- server spent most of a batch (heap_hot_search_buffer, page pruning under
-- perf). 50 measured 15-25% less server CPU per batch than 70; 30 no better.
ALTER TABLE "aggregate_nodes" SET (fillfactor = 50);

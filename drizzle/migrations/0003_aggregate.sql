CREATE TABLE "aggregate_nodes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"aggregate" text NOT NULL,
	"namespace" text NOT NULL,
	"keys" "bytea"[] NOT NULL,
	"sums" bigint[] NOT NULL,
	"children" bigint[],
	"count" bigint,
	"totals" bigint[]
);
--> statement-breakpoint
CREATE TABLE "aggregate_trees" (
	"aggregate" text NOT NULL,
	"namespace" text NOT NULL,
	"root_id" bigint NOT NULL,
	"max_node_size" integer NOT NULL,
	"root_lazy" boolean NOT NULL,
	"channels" integer NOT NULL,
	CONSTRAINT "aggregate_trees_aggregate_namespace_pk" PRIMARY KEY("aggregate","namespace"),
	CONSTRAINT "aggregate_trees_max_node_size" CHECK ("aggregate_trees"."max_node_size" >= 4 and "aggregate_trees"."max_node_size" % 2 = 0),
	CONSTRAINT "aggregate_trees_channels" CHECK ("aggregate_trees"."channels" >= 1)
);
--> statement-breakpoint
CREATE INDEX "aggregate_nodes_tree_idx" ON "aggregate_nodes" USING btree ("aggregate","namespace");--> statement-breakpoint
-- Nodes are rewritten in place on every write; free space in each page keeps those updates HOT.
ALTER TABLE "aggregate_nodes" SET (fillfactor = 70);
--> statement-breakpoint
-- How many of a node's sorted item keys are below p_x: width_bucket is a binary
-- search in C that counts keys <= p_x, so an equal key is taken back off.
CREATE FUNCTION aggregate_slot(p_keys bytea[], p_x bytea) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT width_bucket(p_x, p_keys) - CASE WHEN p_keys[width_bucket(p_x, p_keys)] = p_x THEN 1 ELSE 0 END
$$;
--> statement-breakpoint
-- Number of items below p_x in the tree under p_root (all items when p_x is null),
-- and with p_with_sums their per-channel sums. One node row per level, plus
-- one indexed read of the left siblings' counts.
CREATE FUNCTION aggregate_rank(p_root bigint, p_x bytea, p_channels int, p_with_sums boolean,
  OUT r_count bigint, OUT r_sums bigint[]) LANGUAGE plpgsql STABLE
  -- Statements here take array parameters, for which Postgres would otherwise
  -- plan every execution afresh; the generic plan (primary-key lookups) is the right one.
  SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_node bigint := p_root;
  v_keys bytea[];
  v_sums bigint[];
  v_children bigint[];
  v_count bigint;
  v_totals bigint[];
  v_n int;
  v_lo int;
  v_k int;
  v_child record;
BEGIN
  r_count := 0;
  IF p_with_sums THEN r_sums := array_fill(0::bigint, ARRAY[p_channels]); END IF;
  LOOP
    SELECT n.keys, n.sums, n.children, n.count, n.totals INTO v_keys, v_sums, v_children, v_count, v_totals
      FROM aggregate_nodes n WHERE n.id = v_node;
    IF NOT FOUND THEN RETURN; END IF;
    IF p_x IS NULL AND v_count IS NOT NULL THEN
      r_count := r_count + v_count;
      IF p_with_sums THEN
        FOR v_k IN 1..p_channels LOOP r_sums[v_k] := r_sums[v_k] + v_totals[v_k]; END LOOP;
      END IF;
      RETURN;
    END IF;
    v_n := coalesce(array_length(v_keys, 1), 0);
    v_lo := CASE WHEN p_x IS NULL THEN v_n ELSE aggregate_slot(v_keys, p_x) END;
    r_count := r_count + v_lo;
    IF p_with_sums THEN
      FOR v_k IN 1..v_lo * p_channels LOOP
        r_sums[(v_k - 1) % p_channels + 1] := r_sums[(v_k - 1) % p_channels + 1] + v_sums[v_k];
      END LOOP;
    END IF;
    IF v_children IS NULL THEN RETURN; END IF;
    IF p_x IS NULL THEN
      v_lo := v_n + 1;
    END IF;
    IF v_lo > 0 THEN
      IF p_with_sums THEN
        FOR v_child IN SELECT n.count, n.totals FROM aggregate_nodes n WHERE n.id = ANY (v_children[1:v_lo]) LOOP
          r_count := r_count + v_child.count;
          FOR v_k IN 1..p_channels LOOP r_sums[v_k] := r_sums[v_k] + v_child.totals[v_k]; END LOOP;
        END LOOP;
      ELSE
        SELECT r_count + coalesce(sum(n.count), 0) INTO r_count FROM aggregate_nodes n WHERE n.id = ANY (v_children[1:v_lo]);
      END IF;
    END IF;
    IF p_x IS NULL THEN RETURN; END IF;
    v_node := v_children[v_lo + 1];
  END LOOP;
END;
$$;
--> statement-breakpoint
-- The item at 0-based position p_index of the tree under p_root (no row when out of range).
CREATE FUNCTION aggregate_select(p_root bigint, p_index bigint, p_channels int)
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE
  -- Statements here take array parameters, for which Postgres would otherwise
  -- plan every execution afresh; the generic plan (primary-key lookups) is the right one.
  SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_node bigint := p_root;
  v_k bigint := p_index;
  v_keys bytea[];
  v_sums bigint[];
  v_children bigint[];
  v_counts bigint[];
  v_j int;
  v_next bigint;
BEGIN
  IF v_k < 0 THEN RETURN; END IF;
  LOOP
    SELECT n.keys, n.sums, n.children INTO v_keys, v_sums, v_children FROM aggregate_nodes n WHERE n.id = v_node;
    IF NOT FOUND THEN RETURN; END IF;
    IF v_children IS NULL THEN
      IF v_k < coalesce(array_length(v_keys, 1), 0) THEN
        item_key := v_keys[v_k + 1];
        item_sums := v_sums[v_k * p_channels + 1 : (v_k + 1) * p_channels];
        RETURN NEXT;
      END IF;
      RETURN;
    END IF;
    SELECT array_agg(n.count ORDER BY u.ord) INTO v_counts
      FROM unnest(v_children) WITH ORDINALITY u(child_id, ord) JOIN aggregate_nodes n ON n.id = u.child_id;
    v_next := NULL;
    FOR v_j IN 1..array_length(v_children, 1) LOOP
      IF v_k < v_counts[v_j] THEN
        v_next := v_children[v_j];
        EXIT;
      END IF;
      v_k := v_k - v_counts[v_j];
      IF v_j <= array_length(v_keys, 1) THEN
        IF v_k = 0 THEN
          item_key := v_keys[v_j];
          item_sums := v_sums[(v_j - 1) * p_channels + 1 : v_j * p_channels];
          RETURN NEXT;
          RETURN;
        END IF;
        v_k := v_k - 1;
      END IF;
    END LOOP;
    IF v_next IS NULL THEN RETURN; END IF;
    v_node := v_next;
  END LOOP;
END;
$$;
--> statement-breakpoint
-- Items of the subtree under p_node within [p_lo, p_hi) in order, at most p_limit of them.
CREATE FUNCTION aggregate_scan_node(p_node bigint, p_lo bytea, p_hi bytea, p_limit int, p_desc boolean, p_channels int)
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE
  -- Statements here take array parameters, for which Postgres would otherwise
  -- plan every execution afresh; the generic plan (primary-key lookups) is the right one.
  SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_keys bytea[];
  v_sums bigint[];
  v_children bigint[];
  v_n int;
  v_i int;
  v_pos int;
  v_emitted int := 0;
  v_rows int;
BEGIN
  IF p_limit <= 0 THEN RETURN; END IF;
  SELECT n.keys, n.sums, n.children INTO v_keys, v_sums, v_children FROM aggregate_nodes n WHERE n.id = p_node;
  IF NOT FOUND THEN RETURN; END IF;
  v_n := coalesce(array_length(v_keys, 1), 0);
  -- Ascending, slot v_i (0..v_n) is child v_i then item v_i + 1; descending, child v_i then item v_i.
  FOR v_pos IN 0..v_n LOOP
    v_i := CASE WHEN p_desc THEN v_n - v_pos ELSE v_pos END;
    IF v_children IS NOT NULL
      AND (v_i = v_n OR p_lo IS NULL OR v_keys[v_i + 1] > p_lo)
      AND (v_i = 0 OR p_hi IS NULL OR v_keys[v_i] < p_hi) THEN
      RETURN QUERY SELECT * FROM aggregate_scan_node(v_children[v_i + 1], p_lo, p_hi, p_limit - v_emitted, p_desc, p_channels);
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      v_emitted := v_emitted + v_rows;
      IF v_emitted >= p_limit THEN RETURN; END IF;
    END IF;
    IF p_desc THEN
      CONTINUE WHEN v_i = 0;
      IF p_lo IS NOT NULL AND v_keys[v_i] < p_lo THEN RETURN; END IF;
      CONTINUE WHEN p_hi IS NOT NULL AND v_keys[v_i] >= p_hi;
      item_key := v_keys[v_i];
      item_sums := v_sums[(v_i - 1) * p_channels + 1 : v_i * p_channels];
    ELSE
      CONTINUE WHEN v_i = v_n;
      IF p_hi IS NOT NULL AND v_keys[v_i + 1] >= p_hi THEN RETURN; END IF;
      CONTINUE WHEN p_lo IS NOT NULL AND v_keys[v_i + 1] < p_lo;
      item_key := v_keys[v_i + 1];
      item_sums := v_sums[v_i * p_channels + 1 : (v_i + 1) * p_channels];
    END IF;
    RETURN NEXT;
    v_emitted := v_emitted + 1;
    IF v_emitted >= p_limit THEN RETURN; END IF;
  END LOOP;
END;
$$;
--> statement-breakpoint
-- Number of items in [p_lo, p_hi) of one namespace (a null bound is open).
CREATE FUNCTION aggregate_count(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea)
  RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_hi bigint;
BEGIN
  SELECT t.root_id INTO v_root FROM aggregate_trees t WHERE t.aggregate = p_aggregate AND t.namespace = p_namespace;
  IF NOT FOUND OR (p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi) THEN RETURN 0; END IF;
  v_hi := (aggregate_rank(v_root, p_hi, 1, false)).r_count;
  IF p_lo IS NULL THEN RETURN v_hi; END IF;
  RETURN v_hi - (aggregate_rank(v_root, p_lo, 1, false)).r_count;
END;
$$;
--> statement-breakpoint
-- Per-channel sums of the items in [p_lo, p_hi); null when the namespace has no tree.
CREATE FUNCTION aggregate_sum(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea)
  RETURNS bigint[] LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_channels int;
  v_hi bigint[];
  v_lo bigint[];
  v_k int;
BEGIN
  SELECT t.root_id, t.channels INTO v_root, v_channels FROM aggregate_trees t
    WHERE t.aggregate = p_aggregate AND t.namespace = p_namespace;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi THEN
    RETURN array_fill(0::bigint, ARRAY[v_channels]);
  END IF;
  v_hi := (aggregate_rank(v_root, p_hi, v_channels, true)).r_sums;
  IF p_lo IS NULL THEN RETURN v_hi; END IF;
  v_lo := (aggregate_rank(v_root, p_lo, v_channels, true)).r_sums;
  FOR v_k IN 1..v_channels LOOP v_hi[v_k] := v_hi[v_k] - v_lo[v_k]; END LOOP;
  RETURN v_hi;
END;
$$;
--> statement-breakpoint
-- The item at p_offset within [p_lo, p_hi) (negative: from the end); p_random picks one uniformly instead.
CREATE FUNCTION aggregate_at(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea, p_offset bigint, p_random boolean)
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_channels int;
  v_start bigint := 0;
  v_end bigint;
  v_offset bigint := p_offset;
BEGIN
  SELECT t.root_id, t.channels INTO v_root, v_channels FROM aggregate_trees t
    WHERE t.aggregate = p_aggregate AND t.namespace = p_namespace;
  IF NOT FOUND OR (p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi) THEN RETURN; END IF;
  v_end := (aggregate_rank(v_root, p_hi, 1, false)).r_count;
  IF p_lo IS NOT NULL THEN v_start := (aggregate_rank(v_root, p_lo, 1, false)).r_count; END IF;
  IF p_random THEN v_offset := floor(random() * (v_end - v_start))::bigint; END IF;
  IF v_offset < 0 THEN v_offset := v_offset + (v_end - v_start); END IF;
  IF v_offset < 0 OR v_offset >= v_end - v_start THEN RETURN; END IF;
  RETURN QUERY SELECT * FROM aggregate_select(v_root, v_start + v_offset, v_channels);
END;
$$;
--> statement-breakpoint
-- Up to p_limit items of [p_lo, p_hi) in order.
CREATE FUNCTION aggregate_scan(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea, p_limit int, p_desc boolean)
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_channels int;
BEGIN
  SELECT t.root_id, t.channels INTO v_root, v_channels FROM aggregate_trees t
    WHERE t.aggregate = p_aggregate AND t.namespace = p_namespace;
  IF NOT FOUND OR (p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi) THEN RETURN; END IF;
  RETURN QUERY SELECT * FROM aggregate_scan_node(v_root, p_lo, p_hi, p_limit, p_desc, v_channels);
END;
$$;
--> statement-breakpoint
-- Node keys for the client as one byte string (each key prefixed by its 4-byte
-- length) and numbers as comma-separated text: decoding arrays of bytea and
-- bigint on the client cost more than the locking call itself.
CREATE FUNCTION aggregate_pack_keys(p_keys bytea[]) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(int4send(length(k)) || k, ''::bytea ORDER BY o), ''::bytea)
  FROM unnest(p_keys) WITH ORDINALITY AS u(k, o)
$$;
--> statement-breakpoint
-- The write protocol's single locking round trip, in a handful of set-based
-- statements. For the trees given (sorted by the caller) it creates missing
-- trees, locks the roots in that order (FOR SHARE when the root is lazy and
-- internal, else FOR UPDATE; shared ones first), then the root children the op
-- keys fall into FOR UPDATE in (tree, child) order, and returns every node on
-- the paths from the roots to the leaves of those keys. Nodes below a root
-- child are covered by that child's lock; see app/aggregate/README.md.
-- A tree that gets at least one op per p_rebuild_factors[t] items is taken
-- exclusively and returned whole: the caller rewrites it in one pass.
CREATE FUNCTION aggregate_lock_paths(
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
        SELECT n.children IS NULL AS leaf, coalesce(n.count, cardinality(n.keys)
          + (SELECT coalesce(sum(c.count), 0) FROM aggregate_nodes c WHERE c.id = ANY (n.children)))::bigint AS total
        FROM aggregate_nodes n WHERE n.id = t.root_id OFFSET 0) r
      ORDER BY w.ord
    ) q;

  PERFORM 1 FROM unnest(v_roots, v_exclusive) WITH ORDINALITY AS r(id, x, ord) JOIN aggregate_nodes n ON n.id = r.id
    WHERE NOT r.x ORDER BY r.ord FOR SHARE OF n;
  PERFORM 1 FROM unnest(v_roots, v_exclusive) WITH ORDINALITY AS r(id, x, ord) JOIN aggregate_nodes n ON n.id = r.id
    WHERE r.x ORDER BY r.ord FOR UPDATE OF n;
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
  SELECT v.tree, n.id, aggregate_pack_keys(n.keys), array_to_string(n.sums, ','), array_to_string(n.children, ','),
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
-- Upgrades lazy roots to exclusive locks without waiting: another writer holding
-- the root shared means this transaction must retry (the caller's retry helper
-- handles serialization_failure), which avoids an upgrade deadlock.
CREATE FUNCTION aggregate_lock_roots_exclusive(p_ids bigint[]) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM aggregate_nodes n WHERE n.id = ANY (p_ids) ORDER BY n.id FOR UPDATE NOWAIT;
EXCEPTION WHEN lock_not_available THEN
  RAISE EXCEPTION 'aggregate root is being written by another transaction' USING ERRCODE = 'serialization_failure';
END;
$$;
--> statement-breakpoint
-- Writes the nodes a batch changed: updates, inserts of new nodes and deletes of
-- merged-away ones, in one call. Keys, sums, children and totals arrive as
-- array literals, one per node; nodes whose items did not change (p_items
-- false: only their subtree totals moved) get their totals written alone.
CREATE FUNCTION aggregate_write_nodes(p_ids bigint[], p_aggregates text[], p_namespaces text[], p_keys text[],
  p_sums text[], p_children text[], p_counts bigint[], p_totals text[], p_new boolean[], p_items boolean[],
  p_deleted bigint[])
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
  SET plan_cache_mode = force_generic_plan
  AS $$
BEGIN
  UPDATE aggregate_nodes n SET keys = i.keys::bytea[], sums = i.sums::bigint[], children = i.children::bigint[],
    count = i.count, totals = i.totals::bigint[]
  FROM unnest(p_ids, p_keys, p_sums, p_children, p_counts, p_totals, p_new, p_items)
    AS i(id, keys, sums, children, count, totals, is_new, items)
  WHERE NOT i.is_new AND i.items AND n.id = i.id;
  UPDATE aggregate_nodes n SET count = i.count, totals = i.totals::bigint[]
  FROM unnest(p_ids, p_counts, p_totals, p_new, p_items) AS i(id, count, totals, is_new, items)
  WHERE NOT i.is_new AND NOT i.items AND n.id = i.id;
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

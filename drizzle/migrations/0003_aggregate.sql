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
-- Number of items below p_x in the tree under p_root (all items when p_x is null),
-- and with p_with_sums their per-channel sums. One node row per level, plus
-- one indexed read of the left siblings' counts.
CREATE FUNCTION aggregate_rank(p_root bigint, p_x bytea, p_channels int, p_with_sums boolean,
  OUT r_count bigint, OUT r_sums bigint[]) LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_node bigint := p_root;
  v_keys bytea[];
  v_sums bigint[];
  v_children bigint[];
  v_count bigint;
  v_totals bigint[];
  v_n int;
  v_lo int;
  v_hi int;
  v_mid int;
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
    IF p_x IS NULL THEN
      v_lo := v_n;
    ELSE
      v_lo := 0;
      v_hi := v_n;
      WHILE v_lo < v_hi LOOP
        v_mid := (v_lo + v_hi) / 2;
        IF v_keys[v_mid + 1] < p_x THEN v_lo := v_mid + 1; ELSE v_hi := v_mid; END IF;
      END LOOP;
    END IF;
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
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE AS $$
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
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE AS $$
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
-- The write protocol's single locking round trip. For each tree (in the caller's
-- sorted order) it creates the tree when missing, locks the root (FOR SHARE when
-- the root is lazy and internal, else FOR UPDATE), locks the root children that
-- the op keys fall into FOR UPDATE in child order, and returns every node on the
-- paths from the root to the leaves of those keys. Nodes below a root child are
-- covered by that child's lock; see app/aggregate/README.md.
CREATE FUNCTION aggregate_lock_paths(
  p_aggregates text[], p_namespaces text[], p_max_node_sizes int[], p_root_lazy boolean[], p_channels int[],
  p_exclusive boolean[], p_op_trees int[], p_op_keys bytea[])
  RETURNS TABLE (o_tree int, o_id bigint, o_keys bytea[], o_sums bigint[], o_children bigint[], o_count bigint,
    o_totals bigint[], o_max_node_size int, o_root_lazy boolean, o_channels int, o_exclusive boolean)
  LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_t int;
  v_root bigint;
  v_op int := 1;
  v_op_end int;
  v_ops int := coalesce(array_length(p_op_trees, 1), 0);
  v_root_keys bytea[];
  v_root_children bigint[];
  v_child_slots int[];
  v_slot int;
  v_seen bigint[];
  v_node bigint;
  v_lo int;
  v_hi int;
  v_mid int;
  v_leaf boolean;
BEGIN
  FOR v_t IN 1..coalesce(array_length(p_aggregates, 1), 0) LOOP
    o_tree := v_t;
    SELECT t.root_id, t.max_node_size, t.root_lazy, t.channels INTO v_root, o_max_node_size, o_root_lazy, o_channels
      FROM aggregate_trees t WHERE t.aggregate = p_aggregates[v_t] AND t.namespace = p_namespaces[v_t];
    IF NOT FOUND THEN
      v_root := nextval('aggregate_nodes_id_seq');
      INSERT INTO aggregate_trees (aggregate, namespace, root_id, max_node_size, root_lazy, channels)
        VALUES (p_aggregates[v_t], p_namespaces[v_t], v_root, p_max_node_sizes[v_t], p_root_lazy[v_t], p_channels[v_t])
        ON CONFLICT DO NOTHING;
      IF FOUND THEN
        INSERT INTO aggregate_nodes (id, aggregate, namespace, keys, sums, children, count, totals)
          VALUES (v_root, p_aggregates[v_t], p_namespaces[v_t], '{}', '{}', NULL,
            CASE WHEN p_root_lazy[v_t] THEN NULL ELSE 0 END,
            CASE WHEN p_root_lazy[v_t] THEN NULL ELSE array_fill(0::bigint, ARRAY[p_channels[v_t]]) END);
      END IF;
      SELECT t.root_id, t.max_node_size, t.root_lazy, t.channels INTO v_root, o_max_node_size, o_root_lazy, o_channels
        FROM aggregate_trees t WHERE t.aggregate = p_aggregates[v_t] AND t.namespace = p_namespaces[v_t];
    END IF;

    o_exclusive := NOT o_root_lazy OR p_exclusive[v_t];
    IF NOT o_exclusive THEN
      -- Every write to a leaf root changes the root: take it exclusively from the start.
      SELECT n.children IS NULL INTO v_leaf FROM aggregate_nodes n WHERE n.id = v_root;
      o_exclusive := v_leaf;
    END IF;
    IF o_exclusive THEN
      SELECT n.id, n.keys, n.sums, n.children, n.count, n.totals
        INTO o_id, o_keys, o_sums, o_children, o_count, o_totals FROM aggregate_nodes n WHERE n.id = v_root FOR UPDATE;
    ELSE
      SELECT n.id, n.keys, n.sums, n.children, n.count, n.totals
        INTO o_id, o_keys, o_sums, o_children, o_count, o_totals FROM aggregate_nodes n WHERE n.id = v_root FOR SHARE;
    END IF;
    RETURN NEXT;
    v_root_keys := o_keys;
    v_root_children := o_children;
    o_max_node_size := NULL;
    o_root_lazy := NULL;
    o_channels := NULL;

    v_op_end := v_op;
    WHILE v_op_end <= v_ops AND p_op_trees[v_op_end] = v_t LOOP v_op_end := v_op_end + 1; END LOOP;
    IF v_root_children IS NOT NULL AND v_op_end > v_op THEN
      v_child_slots := '{}';
      FOR v_mid IN v_op..v_op_end - 1 LOOP
        v_lo := 0;
        v_hi := coalesce(array_length(v_root_keys, 1), 0);
        WHILE v_lo < v_hi LOOP
          v_slot := (v_lo + v_hi) / 2;
          IF v_root_keys[v_slot + 1] < p_op_keys[v_mid] THEN v_lo := v_slot + 1; ELSE v_hi := v_slot; END IF;
        END LOOP;
        v_child_slots := v_child_slots || (v_lo + 1);
      END LOOP;
      v_seen := ARRAY[v_root];
      FOR v_slot IN SELECT DISTINCT s FROM unnest(v_child_slots) s ORDER BY s LOOP
        IF NOT o_exclusive THEN
          PERFORM 1 FROM aggregate_nodes n WHERE n.id = v_root_children[v_slot] FOR UPDATE;
        END IF;
      END LOOP;
      FOR v_mid IN v_op..v_op_end - 1 LOOP
        v_node := v_root_children[v_child_slots[v_mid - v_op + 1]];
        LOOP
          SELECT n.id, n.keys, n.sums, n.children, n.count, n.totals
            INTO o_id, o_keys, o_sums, o_children, o_count, o_totals FROM aggregate_nodes n WHERE n.id = v_node;
          IF NOT (v_node = ANY (v_seen)) THEN
            v_seen := v_seen || v_node;
            RETURN NEXT;
          END IF;
          EXIT WHEN o_children IS NULL;
          v_lo := 0;
          v_hi := coalesce(array_length(o_keys, 1), 0);
          WHILE v_lo < v_hi LOOP
            v_slot := (v_lo + v_hi) / 2;
            IF o_keys[v_slot + 1] < p_op_keys[v_mid] THEN v_lo := v_slot + 1; ELSE v_hi := v_slot; END IF;
          END LOOP;
          v_node := o_children[v_lo + 1];
        END LOOP;
      END LOOP;
    END IF;
    v_op := v_op_end;
  END LOOP;
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

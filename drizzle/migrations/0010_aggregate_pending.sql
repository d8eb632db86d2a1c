CREATE TABLE "aggregate_pending" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"aggregate" text NOT NULL,
	"namespace" text NOT NULL,
	"items" "bytea"[] NOT NULL,
	"signs" smallint[] NOT NULL,
	"sums" bigint[] NOT NULL
);
--> statement-breakpoint
CREATE INDEX "aggregate_pending_tree_idx" ON "aggregate_pending" USING btree ("aggregate","namespace","seq");--> statement-breakpoint
-- Buffered writes (app/aggregate/README.md, "Buffered writes"): readers answer
-- from the tree plus the deltas their snapshot sees.
-- Net count of a namespace's buffered deltas within [p_lo, p_hi).
CREATE FUNCTION aggregate_pending_count(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea)
  RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(u.sign), 0)::bigint
  FROM aggregate_pending p, unnest(p.items, p.signs) AS u(item, sign)
  WHERE p.aggregate = p_aggregate AND p.namespace = p_namespace
    AND (p_lo IS NULL OR u.item >= p_lo) AND (p_hi IS NULL OR u.item < p_hi)
$$;
--> statement-breakpoint
-- Net per-channel sums of the buffered deltas within [p_lo, p_hi); null when there are none.
CREATE FUNCTION aggregate_pending_sums(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea, p_channels int)
  RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT array_agg(x.s ORDER BY x.c) FROM (
    SELECT c.c, sum(u.sign * p.sums[(u.ord - 1) * p_channels + c.c])::bigint AS s
    FROM aggregate_pending p, unnest(p.items, p.signs) WITH ORDINALITY AS u(item, sign, ord),
      generate_series(1, p_channels) AS c(c)
    WHERE p.aggregate = p_aggregate AND p.namespace = p_namespace
      AND (p_lo IS NULL OR u.item >= p_lo) AND (p_hi IS NULL OR u.item < p_hi)
    GROUP BY c.c) x
$$;
--> statement-breakpoint
-- Per item with buffered deltas in [p_lo, p_hi): the net change (+1 inserted,
-- −1 deleted, 0 unchanged or replaced in place), whether it is present after
-- them (its last delta is an insert) and its sums then.
CREATE FUNCTION aggregate_pending_items(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea, p_channels int)
  RETURNS TABLE (item bytea, net int, present boolean, item_sums bigint[]) LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (d.item) d.item, (sum(d.sign) OVER (PARTITION BY d.item))::int, d.sign = 1, d.s
  FROM (SELECT u.item, u.sign, p.seq, u.ord, p.sums[(u.ord - 1) * p_channels + 1 : u.ord * p_channels] AS s
        FROM aggregate_pending p, unnest(p.items, p.signs) WITH ORDINALITY AS u(item, sign, ord)
        WHERE p.aggregate = p_aggregate AND p.namespace = p_namespace
          AND (p_lo IS NULL OR u.item >= p_lo) AND (p_hi IS NULL OR u.item < p_hi)) d
  ORDER BY d.item, d.seq DESC, d.ord DESC
$$;
--> statement-breakpoint
-- Sum channels of a namespace that has deltas but no tree yet.
CREATE FUNCTION aggregate_pending_channels(p_aggregate text, p_namespace text) RETURNS int LANGUAGE sql STABLE AS $$
  SELECT cardinality(p.sums) / cardinality(p.items) FROM aggregate_pending p
  WHERE p.aggregate = p_aggregate AND p.namespace = p_namespace AND cardinality(p.items) > 0 LIMIT 1
$$;
--> statement-breakpoint
-- What every read starts with, in one statement: the tree's root and channels and whether the namespace has
-- deltas (most reads find none and skip their scan). Without a tree the channels come from the deltas.
-- A plain SQL function, so the planner inlines it into the caller's statement.
CREATE FUNCTION aggregate_tree_state(p_aggregate text, p_namespace text)
  RETURNS TABLE (root_id bigint, channels int, has_pending boolean) LANGUAGE sql STABLE AS $$
  SELECT t.root_id, coalesce(t.channels, CASE WHEN d.has THEN aggregate_pending_channels(p_aggregate, p_namespace) END), d.has
  FROM (SELECT EXISTS (SELECT 1 FROM aggregate_pending p WHERE p.aggregate = p_aggregate AND p.namespace = p_namespace) AS has) d
  LEFT JOIN aggregate_trees t ON t.aggregate = p_aggregate AND t.namespace = p_namespace
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aggregate_count(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea)
  RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_pending boolean;
  v_n bigint := 0;
BEGIN
  IF p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi THEN RETURN 0; END IF;
  SELECT s.root_id, s.has_pending INTO v_root, v_pending FROM aggregate_tree_state(p_aggregate, p_namespace) s;
  IF v_root IS NOT NULL THEN
    v_n := (aggregate_rank(v_root, p_hi, 1, false)).r_count;
    IF p_lo IS NOT NULL THEN v_n := v_n - (aggregate_rank(v_root, p_lo, 1, false)).r_count; END IF;
  END IF;
  IF v_pending THEN v_n := v_n + aggregate_pending_count(p_aggregate, p_namespace, p_lo, p_hi); END IF;
  RETURN v_n;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aggregate_sum(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea)
  RETURNS bigint[] LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_channels int;
  v_result bigint[];
  v_lo bigint[];
  v_pending bigint[];
  v_k int;
  v_has_pending boolean;
BEGIN
  SELECT s.root_id, s.channels, s.has_pending INTO v_root, v_channels, v_has_pending
    FROM aggregate_tree_state(p_aggregate, p_namespace) s;
  IF v_channels IS NULL THEN RETURN NULL; END IF;
  v_result := array_fill(0::bigint, ARRAY[v_channels]);
  IF p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi THEN RETURN v_result; END IF;
  IF v_root IS NOT NULL THEN
    v_result := (aggregate_rank(v_root, p_hi, v_channels, true)).r_sums;
    IF p_lo IS NOT NULL THEN
      v_lo := (aggregate_rank(v_root, p_lo, v_channels, true)).r_sums;
      FOR v_k IN 1..v_channels LOOP v_result[v_k] := v_result[v_k] - v_lo[v_k]; END LOOP;
    END IF;
  END IF;
  IF v_has_pending THEN v_pending := aggregate_pending_sums(p_aggregate, p_namespace, p_lo, p_hi, v_channels); END IF;
  IF v_pending IS NOT NULL THEN
    FOR v_k IN 1..v_channels LOOP v_result[v_k] := v_result[v_k] + v_pending[v_k]; END LOOP;
  END IF;
  RETURN v_result;
END;
$$;
--> statement-breakpoint
-- The item at p_offset of [p_lo, p_hi) in the tree plus its buffered deltas.
-- The items whose deltas change the count (net +1 or −1) are few and sorted;
-- the merged position of the k-th of them (tree items below it plus the net
-- change of the ones before it) grows with k, so a binary search over them
-- (one tree rank each) finds the last one at or before the offset, and the
-- answer is either that item or the tree item the offset then lands on.
CREATE OR REPLACE FUNCTION aggregate_at(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea, p_offset bigint, p_random boolean)
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_channels int;
  v_start bigint := 0;
  v_end bigint := 0;
  v_total bigint;
  v_offset bigint := p_offset;
  v_all bytea[];
  v_all_nets int[];
  v_all_present boolean[];
  v_all_sums bigint[];
  v_items bytea[] := '{}';
  v_nets int[] := '{}';
  v_where int[] := '{}';
  v_shift bigint[];
  v_m int;
  v_k int;
  v_a int;
  v_b int;
  v_mid int;
  v_merged bigint;
  v_key bytea;
  v_sums bigint[];
  v_has_pending boolean;
BEGIN
  IF p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi THEN RETURN; END IF;
  SELECT s.root_id, s.channels, s.has_pending INTO v_root, v_channels, v_has_pending
    FROM aggregate_tree_state(p_aggregate, p_namespace) s;
  IF NOT v_has_pending THEN
    -- No deltas: the tree alone, as before buffering.
    IF v_root IS NULL THEN RETURN; END IF;
    v_end := (aggregate_rank(v_root, p_hi, 1, false)).r_count;
    IF p_lo IS NOT NULL THEN v_start := (aggregate_rank(v_root, p_lo, 1, false)).r_count; END IF;
    IF p_random THEN v_offset := floor(random() * (v_end - v_start))::bigint; END IF;
    IF v_offset < 0 THEN v_offset := v_offset + (v_end - v_start); END IF;
    IF v_offset < 0 OR v_offset >= v_end - v_start THEN RETURN; END IF;
    RETURN QUERY SELECT * FROM aggregate_select(v_root, v_start + v_offset, v_channels);
    RETURN;
  END IF;
  IF v_channels IS NULL THEN RETURN; END IF;
  IF v_root IS NOT NULL THEN
    v_end := (aggregate_rank(v_root, p_hi, 1, false)).r_count;
    IF p_lo IS NOT NULL THEN v_start := (aggregate_rank(v_root, p_lo, 1, false)).r_count; END IF;
  END IF;
  -- Every item with deltas in range, once, in order (sums flattened item by item).
  SELECT array_agg(x.item ORDER BY x.item), array_agg(x.net ORDER BY x.item), array_agg(x.present ORDER BY x.item),
      aggregate_concat(x.item_sums ORDER BY x.item)
    INTO v_all, v_all_nets, v_all_present, v_all_sums
    FROM aggregate_pending_items(p_aggregate, p_namespace, p_lo, p_hi, v_channels) x;
  FOR v_k IN 1..coalesce(cardinality(v_all), 0) LOOP
    IF v_all_nets[v_k] <> 0 THEN
      v_items := v_items || v_all[v_k];
      v_nets := v_nets || v_all_nets[v_k];
      v_where := v_where || v_k;
    END IF;
  END LOOP;
  v_m := cardinality(v_items);
  -- v_shift[k + 1]: net change of the first k of them
  v_shift := array_fill(0::bigint, ARRAY[v_m + 1]);
  FOR v_k IN 1..v_m LOOP v_shift[v_k + 1] := v_shift[v_k] + v_nets[v_k]; END LOOP;
  v_total := v_end - v_start + v_shift[v_m + 1];
  IF p_random THEN v_offset := floor(random() * v_total)::bigint; END IF;
  IF v_offset < 0 THEN v_offset := v_offset + v_total; END IF;
  IF v_offset < 0 OR v_offset >= v_total THEN RETURN; END IF;
  v_a := 0;
  v_b := v_m;
  WHILE v_a < v_b LOOP
    v_mid := (v_a + v_b + 1) / 2;
    v_merged := v_shift[v_mid];
    IF v_root IS NOT NULL THEN
      v_merged := v_merged + (aggregate_rank(v_root, v_items[v_mid], 1, false)).r_count - v_start;
    END IF;
    IF v_merged <= v_offset THEN v_a := v_mid; ELSE v_b := v_mid - 1; END IF;
  END LOOP;
  IF v_a > 0 AND v_nets[v_a] = 1 THEN
    v_merged := v_shift[v_a];
    IF v_root IS NOT NULL THEN
      v_merged := v_merged + (aggregate_rank(v_root, v_items[v_a], 1, false)).r_count - v_start;
    END IF;
    IF v_merged = v_offset THEN
      v_k := v_where[v_a];
      item_key := v_all[v_k];
      item_sums := v_all_sums[(v_k - 1) * v_channels + 1 : v_k * v_channels];
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;
  -- A tree item; when it was replaced in place its sums are the buffered ones.
  SELECT s.item_key, s.item_sums INTO v_key, v_sums
    FROM aggregate_select(v_root, v_start + v_offset - v_shift[v_a + 1], v_channels) s;
  IF NOT FOUND THEN RETURN; END IF;
  v_k := array_position(v_all, v_key);
  item_key := v_key;
  item_sums := CASE WHEN v_k IS NOT NULL AND v_all_present[v_k]
    THEN v_all_sums[(v_k - 1) * v_channels + 1 : v_k * v_channels] ELSE v_sums END;
  RETURN NEXT;
END;
$$;
--> statement-breakpoint
-- Up to p_limit items of [p_lo, p_hi) in order, tree and buffered deltas merged:
-- the tree is read past the items the deltas took out, those are dropped, and
-- the items present after the deltas are added.
CREATE OR REPLACE FUNCTION aggregate_scan(p_aggregate text, p_namespace text, p_lo bytea, p_hi bytea, p_limit int, p_desc boolean)
  RETURNS TABLE (item_key bytea, item_sums bigint[]) LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_channels int;
  v_has_pending boolean;
BEGIN
  IF p_lo IS NOT NULL AND p_hi IS NOT NULL AND p_lo >= p_hi THEN RETURN; END IF;
  SELECT s.root_id, s.channels, s.has_pending INTO v_root, v_channels, v_has_pending
    FROM aggregate_tree_state(p_aggregate, p_namespace) s;
  IF NOT v_has_pending THEN
    IF v_root IS NULL THEN RETURN; END IF;
    RETURN QUERY SELECT * FROM aggregate_scan_node(v_root, p_lo, p_hi, p_limit, p_desc, v_channels);
    RETURN;
  END IF;
  IF v_channels IS NULL THEN RETURN; END IF;
  RETURN QUERY
    WITH p AS MATERIALIZED (SELECT * FROM aggregate_pending_items(p_aggregate, p_namespace, p_lo, p_hi, v_channels)),
    t AS MATERIALIZED (
      SELECT s.item_key AS k, s.item_sums AS s FROM aggregate_scan_node(v_root, p_lo, p_hi,
        p_limit + (SELECT count(*)::int FROM p WHERE p.present::int - p.net = 1), p_desc, v_channels) s)
    SELECT m.k, m.s FROM (
      SELECT t.k, t.s FROM t WHERE NOT EXISTS (SELECT 1 FROM p WHERE p.item = t.k)
      UNION ALL
      SELECT p.item, p.item_sums FROM p WHERE p.present) m
    ORDER BY CASE WHEN p_desc THEN NULL ELSE m.k END, m.k DESC
    LIMIT p_limit;
END;
$$;
--> statement-breakpoint
-- The sums of item p_x in the tree under p_root, null when it is absent: one node row per level.
CREATE FUNCTION aggregate_find(p_root bigint, p_x bytea, p_channels int) RETURNS bigint[] LANGUAGE plpgsql STABLE
  SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_node bigint := p_root;
  v_keys bytea[];
  v_sums bigint[];
  v_children bigint[];
  v_slot int;
BEGIN
  LOOP
    SELECT n.keys, n.sums, n.children INTO v_keys, v_sums, v_children FROM aggregate_nodes n WHERE n.id = v_node;
    IF NOT FOUND OR cardinality(v_keys) = 0 THEN RETURN NULL; END IF;
    v_slot := aggregate_slot(v_keys, p_x);
    IF v_slot < cardinality(v_keys) AND v_keys[v_slot + 1] = p_x THEN
      RETURN v_sums[v_slot * p_channels + 1 : (v_slot + 1) * p_channels];
    END IF;
    IF v_children IS NULL THEN RETURN NULL; END IF;
    v_node := v_children[v_slot + 1];
  END LOOP;
END;
$$;
--> statement-breakpoint
-- The advisory lock keys of a tree, one definition for every taker: 'write' is held shared by buffered
-- writers until they commit and exclusively by clear and rebuild; 'compact' by one compactor (tried, never
-- waited for) and by clear and rebuild.
CREATE FUNCTION aggregate_tree_lock(p_kind text, p_aggregate text, p_namespace text) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT hashtextextended(p_kind || chr(1) || p_aggregate || chr(1) || p_namespace, 0)
$$;
--> statement-breakpoint
-- Strict checks of buffered writes: takes one transaction-scoped advisory lock
-- per item (in a single global order, so two checkers cannot wait on each
-- other in a cycle), then, in a snapshot taken after the locks, says for each
-- item whether it is present (its last delta, else the tree) and with which sums.
CREATE FUNCTION aggregate_buffer_lookup(p_aggregates text[], p_namespaces text[], p_items text[])
  RETURNS TABLE (o_index int, o_present boolean, o_sums bigint[]) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_lock bigint;
BEGIN
  -- The trees' write locks first (shared; clear and rebuild take them exclusively), as the delta insert does.
  FOR v_lock IN
    SELECT DISTINCT aggregate_tree_lock('write', u.a, u.n) AS k
    FROM unnest(p_aggregates, p_namespaces) AS u(a, n) ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock_shared(v_lock);
  END LOOP;
  FOR v_lock IN
    SELECT DISTINCT hashtextextended(u.a || chr(1) || u.n || chr(1) || u.i, 0) AS k
    FROM unnest(p_aggregates, p_namespaces, p_items) AS u(a, n, i) ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_lock);
  END LOOP;
  -- Each tree's deltas are unnested once and joined to the items asked for.
  RETURN QUERY
    WITH req AS MATERIALIZED (
      SELECT u.a, u.n, u.i::bytea AS item, u.ord FROM unnest(p_aggregates, p_namespaces, p_items) WITH ORDINALITY AS u(a, n, i, ord)),
    d AS (
      SELECT DISTINCT ON (r.ord) r.ord, x.sign = 1 AS present,
        p.sums[(x.k - 1) * (cardinality(p.sums) / cardinality(p.items)) + 1 : x.k * (cardinality(p.sums) / cardinality(p.items))] AS s
      FROM (SELECT DISTINCT req.a, req.n FROM req) t
      JOIN aggregate_pending p ON p.aggregate = t.a AND p.namespace = t.n
      CROSS JOIN LATERAL unnest(p.items, p.signs) WITH ORDINALITY AS x(item, sign, k)
      JOIN req r ON r.a = t.a AND r.n = t.n AND r.item = x.item
      ORDER BY r.ord, p.seq DESC, x.k DESC)
    SELECT r.ord::int,
      CASE WHEN d.ord IS NOT NULL THEN d.present ELSE f.sums IS NOT NULL END,
      CASE WHEN d.ord IS NOT NULL THEN CASE WHEN d.present THEN d.s END ELSE f.sums END
    FROM req r
    LEFT JOIN d ON d.ord = r.ord
    LEFT JOIN aggregate_trees t ON t.aggregate = r.a AND t.namespace = r.n
    LEFT JOIN LATERAL (SELECT CASE WHEN d.ord IS NULL AND t.root_id IS NOT NULL
      THEN aggregate_find(t.root_id, r.item, t.channels) END AS sums) f ON true
    ORDER BY r.ord;
END;
$$;
--> statement-breakpoint
-- A student's whole reorder is one row of ~100 items (~4 KB): keep rows up to a
-- page inline instead of compressing them into TOAST on every insert.
-- Compaction empties the table over and over; vacuum would then truncate the empty tail pages under an
-- ACCESS EXCLUSIVE lock that every saver's insert waits for, so it keeps them instead.
ALTER TABLE "aggregate_pending" SET (autovacuum_vacuum_scale_factor = 0.05, toast_tuple_target = 8160, vacuum_truncate = false);

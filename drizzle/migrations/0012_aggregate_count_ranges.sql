-- Ranks of many bounds in one descent. p_xs must be sorted ascending without
-- nulls; element i of the result is the number of items below p_xs[i] in the
-- tree under p_root, as aggregate_rank(p_root, p_xs[i], 1, false) counts it.
-- Each node on the way is read once for all the bounds that pass through it,
-- instead of once per bound.
CREATE FUNCTION aggregate_rank_many(p_root bigint, p_xs bytea[]) RETURNS bigint[] LANGUAGE plpgsql STABLE
  SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_result bigint[] := array_fill(0::bigint, ARRAY[coalesce(cardinality(p_xs), 0)]);
  -- The nodes still to visit, each with the count of items left of it and the bounds p_xs[from..to] it holds.
  v_nodes bigint[] := ARRAY[p_root];
  v_bases bigint[] := ARRAY[0::bigint];
  v_froms int[] := ARRAY[1];
  v_tos int[] := ARRAY[coalesce(cardinality(p_xs), 0)];
  v_top int := 1;
  v_node bigint;
  v_base bigint;
  v_from int;
  v_to int;
  v_keys bytea[];
  v_children bigint[];
  v_counts bigint[];
  v_left bigint[];
  v_slot int;
  v_next int;
  v_start int;
  v_i int;
BEGIN
  IF coalesce(cardinality(p_xs), 0) = 0 THEN RETURN v_result; END IF;
  WHILE v_top > 0 LOOP
    v_node := v_nodes[v_top];
    v_base := v_bases[v_top];
    v_from := v_froms[v_top];
    v_to := v_tos[v_top];
    v_top := v_top - 1;
    SELECT n.keys, n.children INTO v_keys, v_children FROM aggregate_nodes n WHERE n.id = v_node;
    IF NOT FOUND THEN
      FOR v_i IN v_from .. v_to LOOP v_result[v_i] := v_base; END LOOP;
      CONTINUE;
    END IF;
    IF v_children IS NULL THEN
      FOR v_i IN v_from .. v_to LOOP v_result[v_i] := v_base + aggregate_slot(v_keys, p_xs[v_i]); END LOOP;
      CONTINUE;
    END IF;
    SELECT array_agg(n.count ORDER BY u.o) INTO v_counts
      FROM unnest(v_children) WITH ORDINALITY AS u(id, o) JOIN aggregate_nodes n ON n.id = u.id;
    -- v_left[s + 1]: the items left of child s + 1, i.e. s separators and the first s children.
    v_left := ARRAY[0::bigint];
    FOR v_i IN 1 .. cardinality(v_children) - 1 LOOP
      v_left := v_left || (v_left[v_i] + 1 + coalesce(v_counts[v_i], 0));
    END LOOP;
    -- The bounds are sorted, so those that descend into one child are consecutive; each slot is found once.
    v_i := v_from;
    v_slot := aggregate_slot(v_keys, p_xs[v_i]);
    WHILE v_i <= v_to LOOP
      v_start := v_i;
      LOOP
        v_i := v_i + 1;
        EXIT WHEN v_i > v_to;
        v_next := aggregate_slot(v_keys, p_xs[v_i]);
        EXIT WHEN v_next <> v_slot;
      END LOOP;
      v_top := v_top + 1;
      v_nodes[v_top] := v_children[v_slot + 1];
      v_bases[v_top] := v_base + v_left[v_slot + 1];
      v_froms[v_top] := v_start;
      v_tos[v_top] := v_i - 1;
      v_slot := v_next;
    END LOOP;
  END LOOP;
  RETURN v_result;
END;
$$;
--> statement-breakpoint
-- As before (0011), the count of items in each range [p_los[i], p_his[i]), the
-- namespace's buffered deltas included, but with one descent for all the
-- ranges' bounds (aggregate_rank_many) and one statement for the deltas of all
-- ranges, instead of two descents and one statement per range.
CREATE OR REPLACE FUNCTION aggregate_count_ranges(p_aggregate text, p_namespace text, p_los bytea[], p_his bytea[])
  RETURNS bigint[] LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_pending boolean;
  v_bounds bytea[];
  v_ranks bigint[];
  v_total bigint := 0;
  v_deltas bigint[];
  v_lo bytea;
  v_hi bytea;
  v_n bigint;
  v_result bigint[] := '{}';
BEGIN
  SELECT s.root_id, s.has_pending INTO v_root, v_pending FROM aggregate_tree_state(p_aggregate, p_namespace) s;
  IF v_root IS NOT NULL THEN
    v_bounds := ARRAY(SELECT DISTINCT b FROM unnest(p_los || p_his) AS b WHERE b IS NOT NULL ORDER BY b);
    v_ranks := aggregate_rank_many(v_root, v_bounds);
    IF array_position(p_his, NULL) IS NOT NULL THEN v_total := (aggregate_rank(v_root, NULL, 1, false)).r_count; END IF;
  END IF;
  IF v_pending THEN
    WITH d AS MATERIALIZED (
      SELECT u.item, u.sign FROM aggregate_pending p, unnest(p.items, p.signs) AS u(item, sign)
      WHERE p.aggregate = p_aggregate AND p.namespace = p_namespace)
    SELECT array_agg(coalesce(s.n, 0) ORDER BY r.o) INTO v_deltas
    FROM unnest(p_los, p_his) WITH ORDINALITY AS r(lo, hi, o)
    LEFT JOIN LATERAL (SELECT sum(d.sign) AS n FROM d
                       WHERE (r.lo IS NULL OR d.item >= r.lo) AND (r.hi IS NULL OR d.item < r.hi)) s ON true;
  END IF;
  FOR i IN 1 .. coalesce(cardinality(p_los), 0) LOOP
    v_lo := p_los[i];
    v_hi := p_his[i];
    v_n := 0;
    IF v_lo IS NULL OR v_hi IS NULL OR v_lo < v_hi THEN
      IF v_root IS NOT NULL THEN
        v_n := CASE WHEN v_hi IS NULL THEN v_total ELSE v_ranks[array_position(v_bounds, v_hi)] END
             - CASE WHEN v_lo IS NULL THEN 0 ELSE v_ranks[array_position(v_bounds, v_lo)] END;
      END IF;
      IF v_pending THEN v_n := v_n + v_deltas[i]; END IF;
    END IF;
    v_result := v_result || v_n;
  END LOOP;
  RETURN v_result;
END;
$$;

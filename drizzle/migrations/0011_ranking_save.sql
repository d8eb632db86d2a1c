-- A buffered write: appends deltas to aggregate_pending, one row per tree, each tree's items, signs and sums
-- as array literals (app/aggregate/buffer.ts builds them). The trees' write locks are taken shared, in one
-- global order, before the rows go in: clear and buildFromSorted take them exclusively, so they wait for
-- writers in flight and writers wait for them (compactors use another key). PL/pgSQL so the plan is kept.
CREATE FUNCTION aggregate_append(p_aggregates text[], p_namespaces text[], p_items text[], p_signs text[], p_sums text[])
  RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  WITH locks AS MATERIALIZED (
    SELECT count(pg_advisory_xact_lock_shared(k.k)) AS n FROM (
      SELECT DISTINCT aggregate_tree_lock('write', w.a, w.n) AS k
      FROM unnest(p_aggregates, p_namespaces) AS w(a, n)
      ORDER BY 1) k)
  INSERT INTO aggregate_pending (aggregate, namespace, items, signs, sums)
  SELECT u.a, u.n, u.i::bytea[], u.s::smallint[], u.m::bigint[]
  FROM locks, unnest(p_aggregates, p_namespaces, p_items, p_signs, p_sums) AS u(a, n, i, s, m);
END;
$$;
--> statement-breakpoint
-- The writing half of a ranking save or undo (app/models/ranking.server.ts): the caller read the student's
-- ranking at p_read_version without locks and computed the changes, the event and the aggregate deltas from
-- it. Here, in one statement (so one transaction and one round trip), the period is locked against a close
-- (KEY SHARE; closing takes FOR UPDATE) and the student's ranking_states row against their other saves;
-- then, only if that version is still current, everything is written. Every change to a student's rankings
-- rows bumps the version, so an unchanged version means the rows are as read and the deltas are exact.
-- Outcomes: 'committed' (o_version is the new version), 'moved' (another save committed since the read:
-- read again), 'replay' (this batch id committed meanwhile), 'period-not-found', 'period-not-open'
-- (o_status says which state).
CREATE FUNCTION ranking_commit(
  p_student uuid, p_period uuid, p_batch uuid, p_kind text, p_read_version int, p_session text,
  p_changes jsonb, p_result_order jsonb,
  p_removed uuid[], p_placed uuid[], p_positions int[], p_previous int[],
  p_event jsonb, p_undoes uuid,
  p_aggregates text[], p_namespaces text[], p_items text[], p_signs text[], p_sums text[])
  RETURNS TABLE (o_outcome text, o_version int, o_status text) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_status text;
  v_version int;
BEGIN
  SELECT p.status::text INTO v_status FROM selection_periods p WHERE p.id = p_period FOR KEY SHARE;
  IF v_status IS NULL THEN
    RETURN QUERY SELECT 'period-not-found'::text, NULL::int, NULL::text;
    RETURN;
  END IF;
  IF v_status <> 'open' THEN
    RETURN QUERY SELECT 'period-not-open'::text, NULL::int, v_status;
    RETURN;
  END IF;
  -- The no-op update takes the row lock; the insert makes the row at version 0 for a first save.
  INSERT INTO ranking_states AS s (student_id, period_id) VALUES (p_student, p_period)
    ON CONFLICT (student_id, period_id) DO UPDATE SET version = s.version
    RETURNING s.version INTO v_version;
  IF EXISTS (SELECT 1 FROM ranking_batches b WHERE b.batch_id = p_batch) THEN
    RETURN QUERY SELECT 'replay'::text, v_version, v_status;
    RETURN;
  END IF;
  IF v_version <> p_read_version THEN
    RETURN QUERY SELECT 'moved'::text, v_version, v_status;
    RETURN;
  END IF;
  IF jsonb_array_length(p_changes) > 0 THEN
    v_version := v_version + 1;
    IF cardinality(p_removed) > 0 THEN
      DELETE FROM rankings r WHERE r.student_id = p_student AND r.topic_id = ANY (p_removed);
    END IF;
    IF cardinality(p_placed) > 0 THEN
      INSERT INTO rankings AS r (student_id, topic_id, period_id, position, previous_position, session_id)
        SELECT p_student, u.topic_id, p_period, u.position, u.previous_position, p_session
        FROM unnest(p_placed, p_positions, p_previous) AS u(topic_id, position, previous_position)
        ON CONFLICT (student_id, topic_id) DO UPDATE SET position = excluded.position,
          previous_position = r.position, session_id = excluded.session_id, updated_at = now();
    END IF;
    UPDATE ranking_states s SET version = v_version WHERE s.student_id = p_student AND s.period_id = p_period;
    IF p_undoes IS NOT NULL THEN
      UPDATE ranking_batches b SET undone_by = p_batch WHERE b.batch_id = p_undoes;
    END IF;
    INSERT INTO events (type, actor_id, actor_type, session_id, period_id, payload)
      SELECT e.type, e.actor_id, e.actor_type, e.session_id, e.period_id, e.payload
      FROM jsonb_populate_record(NULL::events, p_event) e;
  END IF;
  INSERT INTO ranking_batches (batch_id, student_id, period_id, kind, version, changes, result_order)
    VALUES (p_batch, p_student, p_period, p_kind, v_version, p_changes, p_result_order);
  -- Last: the trees' write locks (shared) are then held only until the commit right after.
  IF cardinality(p_aggregates) > 0 THEN
    PERFORM aggregate_append(p_aggregates, p_namespaces, p_items, p_signs, p_sums);
  END IF;
  RETURN QUERY SELECT 'committed'::text, v_version, v_status;
END;
$$;
--> statement-breakpoint
-- Many counts over one namespace in one call (countBatch groups its queries by namespace): the tree is
-- descended per range as in aggregate_count, but the namespace's buffered deltas are read once, not once
-- per range (a topic's metrics count eleven ranges of it).
CREATE FUNCTION aggregate_count_ranges(p_aggregate text, p_namespace text, p_los bytea[], p_his bytea[])
  RETURNS bigint[] LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_root bigint;
  v_pending boolean;
  v_items bytea[];
  v_signs smallint[];
  v_lo bytea;
  v_hi bytea;
  v_n bigint;
  v_result bigint[] := '{}';
BEGIN
  SELECT s.root_id, s.has_pending INTO v_root, v_pending FROM aggregate_tree_state(p_aggregate, p_namespace) s;
  IF v_pending THEN
    SELECT array_agg(u.item), array_agg(u.sign) INTO v_items, v_signs
    FROM aggregate_pending p, unnest(p.items, p.signs) AS u(item, sign)
    WHERE p.aggregate = p_aggregate AND p.namespace = p_namespace;
  END IF;
  FOR i IN 1 .. coalesce(cardinality(p_los), 0) LOOP
    v_lo := p_los[i];
    v_hi := p_his[i];
    v_n := 0;
    IF v_lo IS NULL OR v_hi IS NULL OR v_lo < v_hi THEN
      IF v_root IS NOT NULL THEN
        v_n := (aggregate_rank(v_root, v_hi, 1, false)).r_count;
        IF v_lo IS NOT NULL THEN v_n := v_n - (aggregate_rank(v_root, v_lo, 1, false)).r_count; END IF;
      END IF;
      IF v_pending THEN
        v_n := v_n + (SELECT coalesce(sum(d.sign), 0) FROM unnest(v_items, v_signs) AS d(item, sign)
                      WHERE (v_lo IS NULL OR d.item >= v_lo) AND (v_hi IS NULL OR d.item < v_hi));
      END IF;
    END IF;
    v_result := v_result || v_n;
  END LOOP;
  RETURN v_result;
END;
$$;

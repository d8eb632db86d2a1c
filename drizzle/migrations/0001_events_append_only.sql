-- Events are an append-only log: the database itself refuses to change or remove one.
CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
--> statement-breakpoint
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
--> statement-breakpoint
-- A student's positions within a period are distinct; checked at commit so a
-- batch may move topics through transient duplicates.
ALTER TABLE rankings ADD CONSTRAINT rankings_student_period_position_key
  UNIQUE (student_id, period_id, position) DEFERRABLE INITIALLY DEFERRED;

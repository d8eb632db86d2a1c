import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { selectionPeriods, users } from "./index";

/**
 * The backfill's checkpoint: one row per legacy preference it has carried
 * over, with the preference's last_updated at that time. A row whose
 * checkpoint matches is done, so a resumed or repeated run skips it, and a
 * student who changed their ranking since is never overwritten by the same
 * legacy row again.
 */
export const preferenceBackfills = pgTable(
  "preference_backfills",
  {
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    periodId: uuid("period_id")
      .notNull()
      .references(() => selectionPeriods.id, { onDelete: "cascade" }),
    lastUpdated: timestamp("last_updated", { withTimezone: true, precision: 6, mode: "string" }).notNull(),
    outcome: text("outcome", { enum: ["applied", "unchanged"] }).notNull(),
    /** The ranking batch that carried the preference over (null when it already matched). */
    batchId: uuid("batch_id"),
    processedAt: timestamp("processed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.studentId, t.periodId] })]
);

export type ConsistencyRunReport = {
  verify: unknown;
  repaired: string[];
  after: unknown;
  staleTopicIds: string[];
  recomputeRequested: boolean;
};

/** What each consistency check found and did, for the admin page and for audits. */
export const consistencyRuns = pgTable(
  "consistency_runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    periodId: uuid("period_id"),
    trigger: text("trigger", { enum: ["job", "cli", "admin", "test"] }).notNull(),
    differences: integer("differences").notNull(),
    invalidTrees: integer("invalid_trees").notNull(),
    repaired: integer("repaired").notNull(),
    remaining: integer("remaining").notNull(),
    staleTopics: integer("stale_topics").notNull(),
    report: jsonb("report").$type<ConsistencyRunReport>().notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (t) => [index("consistency_runs_finished_idx").on(t.finishedAt)]
);

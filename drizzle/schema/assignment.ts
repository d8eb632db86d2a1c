import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { selectionPeriods, topics, users } from "./index";

export const assignmentObjective = pgEnum("assignment_objective", ["linear", "generous", "rank-maximal"]);
export const unassignedPolicy = pgEnum("unassigned_policy", ["leave", "any-free-seat"]);
export const assignmentRunStatus = pgEnum("assignment_run_status", ["queued", "running", "succeeded", "failed"]);

/**
 * One execution of the solver for a period. `profile` and `objectiveValue`
 * are the solver's own answer; overrides change the assignment rows, not these.
 * A partial unique index allows at most one published run per period.
 */
export const assignmentRuns = pgTable(
  "assignment_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    periodId: uuid("period_id")
      .notNull()
      .references(() => selectionPeriods.id, { onDelete: "cascade" }),
    objective: assignmentObjective("objective").notNull(),
    seed: integer("seed").notNull(),
    unassignedPolicy: unassignedPolicy("unassigned_policy").notNull(),
    inputHash: text("input_hash"),
    status: assignmentRunStatus("status").notNull().default("queued"),
    stage: text("stage", { enum: ["queued", "loading", "solving", "saving", "done"] })
      .notNull()
      .default("queued"),
    progress: integer("progress").notNull().default(0),
    profile: jsonb("profile").$type<number[]>(),
    objectiveValue: text("objective_value"),
    studentCount: integer("student_count"),
    unassignedCount: integer("unassigned_count"),
    error: text("error"),
    requestedBy: uuid("requested_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    publishedAt: timestamp("published_at", { withTimezone: true }),
  },
  (t) => [
    index("assignment_runs_period_idx").on(t.periodId, t.createdAt),
    uniqueIndex("assignment_runs_one_published_key").on(t.periodId).where(sql`${t.publishedAt} is not null`),
    check("assignment_runs_progress_range", sql`${t.progress} between 0 and 100`),
  ],
);

/** Every student of a run: the topic they got (null when unassigned) and its place in their list (null when unranked). */
export const assignments = pgTable(
  "assignments",
  {
    runId: uuid("run_id")
      .notNull()
      .references(() => assignmentRuns.id, { onDelete: "cascade" }),
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    topicId: uuid("topic_id").references(() => topics.id, { onDelete: "cascade" }),
    rank: integer("rank"),
    overridden: boolean("overridden").notNull().default(false),
    overrideReason: text("override_reason"),
    overriddenBy: uuid("overridden_by").references(() => users.id, { onDelete: "set null" }),
    overriddenAt: timestamp("overridden_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.studentId] }),
    index("assignments_run_topic_idx").on(t.runId, t.topicId),
    index("assignments_student_idx").on(t.studentId),
    check("assignments_rank_positive", sql`${t.rank} is null or ${t.rank} >= 1`),
    check("assignments_rank_needs_topic", sql`${t.rank} is null or ${t.topicId} is not null`),
    check("assignments_override_has_reason", sql`not ${t.overridden} or ${t.overrideReason} is not null`),
  ],
);

import { sql } from "drizzle-orm";
import {
  bigserial,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const userRole = pgEnum("user_role", ["student", "admin"]);
export const periodStatus = pgEnum("period_status", ["draft", "open", "closed", "assigned", "published"]);
export const actorType = pgEnum("actor_type", ["student", "admin", "system"]);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    role: userRole("role").notNull().default("student"),
    passwordHash: text("password_hash"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/** Failed sign-ins, counted per email and per client address to rate-limit guessing. */
export const loginAttempts = pgTable(
  "login_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    email: text("email").notNull(),
    clientAddress: text("client_address").notNull(),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("login_attempts_email_idx").on(t.email, t.attemptedAt),
    index("login_attempts_address_idx").on(t.clientAddress, t.attemptedAt),
  ],
);

export const selectionPeriods = pgTable("selection_periods", {
  id: uuid("id").primaryKey().defaultRandom(),
  title: text("title").notNull(),
  description: text("description").notNull().default(""),
  status: periodStatus("status").notNull().default("draft"),
  opensAt: timestamp("opens_at", { withTimezone: true }),
  closesAt: timestamp("closes_at", { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const topics = pgTable(
  "topics",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    periodId: uuid("period_id")
      .notNull()
      .references(() => selectionPeriods.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    supervisor: text("supervisor").notNull().default(""),
    capacity: integer("capacity").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("topics_period_idx").on(t.periodId), check("topics_capacity_positive", sql`${t.capacity} >= 1`)],
);

export const rankings = pgTable(
  "rankings",
  {
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    topicId: uuid("topic_id")
      .notNull()
      .references(() => topics.id, { onDelete: "cascade" }),
    periodId: uuid("period_id")
      .notNull()
      .references(() => selectionPeriods.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    previousPosition: integer("previous_position"),
    sessionId: text("session_id"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.studentId, t.topicId] }),
    index("rankings_period_student_idx").on(t.periodId, t.studentId, t.position),
    index("rankings_topic_position_idx").on(t.topicId, t.position),
    check("rankings_position_positive", sql`${t.position} >= 1`),
  ],
);

export const topicMetrics = pgTable("topic_metrics", {
  topicId: uuid("topic_id")
    .primaryKey()
    .references(() => topics.id, { onDelete: "cascade" }),
  periodId: uuid("period_id")
    .notNull()
    .references(() => selectionPeriods.id, { onDelete: "cascade" }),
  studentCount: integer("student_count").notNull().default(0),
  sumOfPositions: integer("sum_of_positions").notNull().default(0),
  sumOfSquares: integer("sum_of_squares").notNull().default(0),
  averagePosition: doublePrecision("average_position"),
  standardDeviation: doublePrecision("standard_deviation"),
  distribution: integer("distribution").array().notNull().default(sql`'{0,0,0,0,0,0,0,0,0,0}'`),
  percentile: doublePrecision("percentile"),
  competitionCategory: text("competition_category"),
  topThreeCount: integer("top_three_count").notNull().default(0),
  demandRatio: doublePrecision("demand_ratio").notNull().default(0),
  lastCalculated: timestamp("last_calculated", { withTimezone: true }).notNull().defaultNow(),
  /** The job that wrote these values: a retried job recognises its own work and adds no second trend point or event. */
  lastRecomputeId: text("last_recompute_id"),
});

/** Append-only: the database refuses UPDATE, DELETE and TRUNCATE (see the events_append_only migration). */
export const events = pgTable(
  "events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    type: text("type").notNull(),
    actorId: uuid("actor_id"),
    actorType: actorType("actor_type").notNull(),
    sessionId: text("session_id"),
    periodId: uuid("period_id"),
    payload: jsonb("payload").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("events_type_idx").on(t.type, t.id),
    index("events_actor_idx").on(t.actorId, t.id),
    index("events_period_idx").on(t.periodId, t.id),
    index("events_created_idx").on(t.createdAt),
  ],
);

/** Legacy store: one row per student and period with the ordered topic ids. */
export const preferences = pgTable(
  "preferences",
  {
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    periodId: uuid("period_id")
      .notNull()
      .references(() => selectionPeriods.id, { onDelete: "cascade" }),
    topicIds: uuid("topic_ids").array().notNull(),
    lastUpdated: timestamp("last_updated", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.studentId, t.periodId] })],
);

/**
 * One row per student and period: the version of their ranking. Every batch
 * locks this row, so one student's batches apply one at a time, and a batch
 * made against an older version is refused instead of mixed in.
 */
export const rankingStates = pgTable(
  "ranking_states",
  {
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    periodId: uuid("period_id")
      .notNull()
      .references(() => selectionPeriods.id, { onDelete: "cascade" }),
    version: integer("version").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.studentId, t.periodId] })],
);

export type RankingChange = { topicId: string; oldPos: number | null; newPos: number | null };

/** Applied batches (and undos): the idempotency record and the undo stack. */
export const rankingBatches = pgTable(
  "ranking_batches",
  {
    batchId: uuid("batch_id").primaryKey(),
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    periodId: uuid("period_id")
      .notNull()
      .references(() => selectionPeriods.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["batch", "undo"] }).notNull(),
    version: integer("version").notNull(),
    changes: jsonb("changes").$type<RankingChange[]>().notNull(),
    /** The order this batch left, answered again when the same batch id is replayed (null for rows older than the column). */
    resultOrder: jsonb("result_order").$type<string[]>(),
    undoneBy: uuid("undone_by"),
    createdAt: createdAt(),
  },
  (t) => [index("ranking_batches_student_idx").on(t.studentId, t.periodId, t.version)],
);
export * from "./aggregate";
export * from "./admin";
export * from "./assignment";
export * from "./consistency";

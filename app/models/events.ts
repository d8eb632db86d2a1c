import { z } from "zod";

/**
 * The typed, append-only event log (PRODUCT.md "Events"). One zod schema per
 * event type; `recordEvent` validates against `EventSchema` before writing.
 */
const id = z.uuid();
const position = z.number().int().min(1);

const envelope = {
  actorId: id.nullable(),
  actorType: z.enum(["student", "admin", "system"]),
  sessionId: z.string().min(1).max(200).nullable(),
  periodId: id.nullable().optional(),
};

const rankingChange = z.object({
  topicId: id,
  oldPos: position.nullable(),
  newPos: position.nullable(),
});

export const EventSchemas = {
  STUDENT_REGISTERED: z.object({
    ...envelope,
    type: z.literal("STUDENT_REGISTERED"),
    payload: z.object({ studentId: id, email: z.email(), via: z.enum(["self", "import", "seed"]) }),
  }),
  TOPIC_CREATED: z.object({
    ...envelope,
    type: z.literal("TOPIC_CREATED"),
    payload: z.object({ topicId: id, title: z.string().min(1), capacity: z.number().int().min(1) }),
  }),
  SELECTION_PERIOD_OPENED: z.object({
    ...envelope,
    type: z.literal("SELECTION_PERIOD_OPENED"),
    payload: z.object({ periodId: id, topicCount: z.number().int().min(1) }),
  }),
  SELECTION_PERIOD_CLOSED: z.object({
    ...envelope,
    type: z.literal("SELECTION_PERIOD_CLOSED"),
    payload: z.object({ periodId: id, automatic: z.boolean() }),
  }),
  SELECTION_PERIOD_PUBLISHED: z.object({
    ...envelope,
    type: z.literal("SELECTION_PERIOD_PUBLISHED"),
    payload: z.object({ periodId: id, runId: id }),
  }),
  RANKINGS_BATCH_UPDATED: z.object({
    ...envelope,
    type: z.literal("RANKINGS_BATCH_UPDATED"),
    payload: z.object({
      studentId: id,
      batchId: id,
      sessionId: z.string().min(1).max(200),
      updates: z.array(rankingChange).min(1),
    }),
  }),
  RANKINGS_UNDONE: z.object({
    ...envelope,
    type: z.literal("RANKINGS_UNDONE"),
    payload: z.object({ studentId: id, undoneBatchId: id, updates: z.array(rankingChange).min(1) }),
  }),
  METRICS_CALCULATED: z.object({
    ...envelope,
    type: z.literal("METRICS_CALCULATED"),
    payload: z.object({
      topicId: id,
      studentCount: z.number().int().min(0),
      averagePosition: z.number().positive().nullable(),
      competitionCategory: z.enum(["very-high", "high", "medium", "low"]).nullable(),
    }),
  }),
  ALGORITHM_EXECUTED: z.object({
    ...envelope,
    type: z.literal("ALGORITHM_EXECUTED"),
    payload: z.object({
      runId: id,
      objective: z.enum(["linear", "generous", "rank-maximal"]),
      seed: z.number().int(),
      inputHash: z.string().regex(/^[0-9a-f]{64}$/),
      assignments: z.number().int().min(0),
      profile: z.array(z.number().int().min(0)),
    }),
  }),
  ASSIGNMENT_OVERRIDDEN: z.object({
    ...envelope,
    type: z.literal("ASSIGNMENT_OVERRIDDEN"),
    payload: z.object({
      runId: id,
      studentId: id,
      fromTopicId: id.nullable(),
      toTopicId: id.nullable(),
      reason: z.string().trim().min(3).max(1000),
    }),
  }),
  PREFERENCES_BACKFILLED: z.object({
    ...envelope,
    type: z.literal("PREFERENCES_BACKFILLED"),
    payload: z.object({ studentId: id, topicCount: z.number().int().min(0) }),
  }),
} as const;

export type EventType = keyof typeof EventSchemas;
export const EVENT_TYPES = Object.keys(EventSchemas) as EventType[];

export const EventSchema = z.discriminatedUnion("type", [
  EventSchemas.STUDENT_REGISTERED,
  EventSchemas.TOPIC_CREATED,
  EventSchemas.SELECTION_PERIOD_OPENED,
  EventSchemas.SELECTION_PERIOD_CLOSED,
  EventSchemas.SELECTION_PERIOD_PUBLISHED,
  EventSchemas.RANKINGS_BATCH_UPDATED,
  EventSchemas.RANKINGS_UNDONE,
  EventSchemas.METRICS_CALCULATED,
  EventSchemas.ALGORITHM_EXECUTED,
  EventSchemas.ASSIGNMENT_OVERRIDDEN,
  EventSchemas.PREFERENCES_BACKFILLED,
]);

export type DomainEvent = z.infer<typeof EventSchema>;
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

export function isEventOfType<T extends EventType>(event: DomainEvent, type: T): event is EventOf<T> {
  return event.type === type;
}
export const isRankingsBatchUpdated = (event: DomainEvent): event is EventOf<"RANKINGS_BATCH_UPDATED"> =>
  event.type === "RANKINGS_BATCH_UPDATED";
export const isRankingsUndone = (event: DomainEvent): event is EventOf<"RANKINGS_UNDONE"> =>
  event.type === "RANKINGS_UNDONE";

export class InvalidEventError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid event: ${issues.join("; ")}`);
    this.name = "InvalidEventError";
  }
}

/** Validates an event; throws InvalidEventError listing every problem with its path. */
export function parseEvent(input: unknown): DomainEvent {
  const result = EventSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidEventError(result.error.issues.map((issue) => `${issue.path.join(".") || "event"}: ${issue.message}`));
}

import { events } from "../../drizzle/schema";
import type { Executor } from "../db.server";
import { parseEvent, type DomainEvent } from "./events";

/** The row of an event, validated: for writers that insert it themselves (ranking_commit). */
export function eventRow(input: DomainEvent): typeof events.$inferInsert {
  const event = parseEvent(input);
  return {
    type: event.type,
    actorId: event.actorId,
    actorType: event.actorType,
    sessionId: event.sessionId,
    periodId: event.periodId ?? null,
    payload: event.payload,
  };
}

/**
 * Validates and appends one event inside the caller's transaction, so the
 * event and the change it describes commit or roll back together.
 */
export async function recordEvent(tx: Executor, input: DomainEvent): Promise<number> {
  const [row] = await tx.insert(events).values(eventRow(input)).returning({ id: events.id });
  return row.id;
}

/** Validates every event first, then appends them all with one statement. */
export async function recordEvents(tx: Executor, inputs: DomainEvent[]): Promise<void> {
  if (inputs.length === 0) return;
  await tx.insert(events).values(inputs.map(eventRow));
}

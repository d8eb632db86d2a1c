import { events } from "../../drizzle/schema";
import type { Executor } from "../db.server";
import { parseEvent, type DomainEvent } from "./events";

/**
 * Validates and appends one event inside the caller's transaction, so the
 * event and the change it describes commit or roll back together.
 */
export async function recordEvent(tx: Executor, input: DomainEvent): Promise<number> {
  const event = parseEvent(input);
  const [row] = await tx
    .insert(events)
    .values({
      type: event.type,
      actorId: event.actorId,
      actorType: event.actorType,
      sessionId: event.sessionId,
      periodId: event.periodId ?? null,
      payload: event.payload,
    })
    .returning({ id: events.id });
  return row.id;
}

/** Appends many validated events with one statement. */
export async function recordEvents(tx: Executor, inputs: DomainEvent[]): Promise<void> {
  if (inputs.length === 0) return;
  const parsed = inputs.map(parseEvent);
  await tx.insert(events).values(
    parsed.map((event) => ({
      type: event.type,
      actorId: event.actorId,
      actorType: event.actorType,
      sessionId: event.sessionId,
      periodId: event.periodId ?? null,
      payload: event.payload,
    })),
  );
}

import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { events } from "../../drizzle/schema";
import { getDb, pgErrorCode } from "~/db.server";
import { recordEvent } from "~/models/event.server";
import { InvalidEventError } from "~/models/events";

async function eventCount() {
  const [row] = await getDb().select({ n: sql<number>`count(*)::int` }).from(events);
  return row.n;
}

describe("the event log", () => {
  it("stores a validated event", async () => {
    const before = await eventCount();
    const id = await recordEvent(getDb(), {
      type: "SELECTION_PERIOD_CLOSED",
      actorId: null,
      actorType: "system",
      sessionId: null,
      periodId: "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c",
      payload: { periodId: "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", automatic: true },
    });
    expect(await eventCount()).toBe(before + 1);
    const [row] = await getDb().select().from(events).where(sql`${events.id} = ${id}`);
    expect(row.type).toBe("SELECTION_PERIOD_CLOSED");
    expect(row.payload).toEqual({ periodId: "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", automatic: true });
  });

  it("refuses a bad payload and writes nothing, not even the rest of the transaction", async () => {
    const before = await eventCount();
    await expect(
      getDb().transaction(async (tx) => {
        await recordEvent(tx, {
          type: "SELECTION_PERIOD_CLOSED",
          actorId: null,
          actorType: "system",
          sessionId: null,
          payload: { periodId: "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", automatic: false },
        });
        await recordEvent(tx, {
          type: "TOPIC_CREATED",
          actorId: null,
          actorType: "admin",
          sessionId: null,
          // @ts-expect-error capacity must be a whole number of at least 1
          payload: { topicId: "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", title: "T", capacity: "many" },
        });
      }),
    ).rejects.toBeInstanceOf(InvalidEventError);
    expect(await eventCount()).toBe(before);
  });

  it.each([
    ["UPDATE", sql`update events set type = 'X'`],
    ["DELETE", sql`delete from events`],
    ["TRUNCATE", sql`truncate events`],
  ])("is append-only: the database refuses %s", async (operation, statement) => {
    const before = await eventCount();
    expect(before).toBeGreaterThan(0);
    let caught: unknown;
    try {
      await getDb().execute(statement);
    } catch (error) {
      caught = error;
    }
    expect(pgErrorCode(caught)).toBe("42501");
    expect(String((caught as { cause?: Error }).cause?.message)).toContain(`events are append-only: ${operation}`);
    expect(await eventCount()).toBe(before);
  });
});

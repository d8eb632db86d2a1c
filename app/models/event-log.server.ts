import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { events, users } from "../../drizzle/schema";
import type { Executor } from "../db.server";
import { EVENT_TYPES } from "./events";

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" || value === null ? undefined : value), schema.optional());

// datetime-local inputs carry no zone; the page labels them as UTC.
const utcDate = (message: string) =>
  z.preprocess(
    (value) => (typeof value === "string" && !/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? `${value}Z` : value),
    z.coerce.date(message),
  );

/** The event-log filters as they arrive in the query string; shared by the page and the exports. */
export const EventFilterSchema = z
  .object({
    type: optional(z.enum(EVENT_TYPES, "Choose one of the listed event types.")),
    actor: optional(z.string().trim().max(320)),
    actorType: optional(z.enum(["student", "admin", "system"], "Choose student, admin or system.")),
    session: optional(z.string().trim().max(200)),
    from: optional(utcDate("Enter a valid start time.")),
    to: optional(utcDate("Enter a valid end time.")),
    before: optional(z.coerce.number().int().positive("Invalid page cursor.")),
  })
  .refine((filter) => !filter.from || !filter.to || filter.from < filter.to, {
    path: ["to"],
    message: "The end must be after the start.",
  });

export type EventFilter = z.infer<typeof EventFilterSchema>;

export type LoggedEvent = {
  id: number;
  type: string;
  actorId: string | null;
  actorEmail: string | null;
  actorType: string;
  sessionId: string | null;
  payload: unknown;
  createdAt: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function conditions(periodId: string, filter: EventFilter) {
  const actor = filter.actor;
  return and(
    eq(events.periodId, periodId),
    filter.type ? eq(events.type, filter.type) : undefined,
    actor
      ? UUID.test(actor)
        ? eq(events.actorId, actor)
        : sql`${events.actorId} in (select id from users where lower(email) = ${actor.toLowerCase()})`
      : undefined,
    filter.actorType ? eq(events.actorType, filter.actorType) : undefined,
    filter.session ? eq(events.sessionId, filter.session) : undefined,
    filter.from ? gte(events.createdAt, filter.from) : undefined,
    filter.to ? lt(events.createdAt, filter.to) : undefined,
    filter.before ? lt(events.id, filter.before) : undefined,
  );
}

/** One page of the period's events, newest first; `nextBefore` continues after the last one (keyset on id). */
export async function listPeriodEvents({
  db,
  periodId,
  filter,
  limit = 50,
}: {
  db: Executor;
  periodId: string;
  filter: EventFilter;
  limit?: number;
}): Promise<{ events: LoggedEvent[]; nextBefore: number | null }> {
  const rows = await db
    .select({
      id: events.id,
      type: events.type,
      actorId: events.actorId,
      actorEmail: users.email,
      actorType: events.actorType,
      sessionId: events.sessionId,
      payload: events.payload,
      createdAt: events.createdAt,
    })
    .from(events)
    .leftJoin(users, eq(users.id, events.actorId))
    .where(conditions(periodId, filter))
    .orderBy(desc(events.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
  return { events: page, nextBefore: rows.length > limit ? page[page.length - 1].id : null };
}

/** Every matching event, page by page, for the exports. */
export async function* iteratePeriodEvents({ db, periodId, filter }: { db: Executor; periodId: string; filter: EventFilter }) {
  let before = filter.before;
  for (;;) {
    const page = await listPeriodEvents({ db, periodId, filter: { ...filter, before }, limit: 1_000 });
    yield* page.events;
    if (page.nextBefore === null) return;
    before = page.nextBefore;
  }
}

import { and, asc, count, desc, eq, sql } from "drizzle-orm";
import { assignmentRuns, selectionPeriods, topics } from "../../drizzle/schema";
import type { Executor } from "../db.server";
import { recordEvent } from "./event.server";

export type SelectionPeriod = typeof selectionPeriods.$inferSelect;
export type PeriodStatus = SelectionPeriod["status"];
export type Topic = typeof topics.$inferSelect;

type Actor = { actorId: string | null; actorType: "admin" | "system"; sessionId: string | null };

export async function listPeriods({ db }: { db: Executor }) {
  return db
    .select({
      id: selectionPeriods.id,
      title: selectionPeriods.title,
      status: selectionPeriods.status,
      opensAt: selectionPeriods.opensAt,
      closesAt: selectionPeriods.closesAt,
      // Written out in full: drizzle leaves column names unqualified inside
      // select-list subqueries, which would bind them to the inner table.
      topicCount: sql<number>`(select count(*) from topics t where t.period_id = selection_periods.id)`.mapWith(Number),
      rankedStudents: sql<number>`(select count(distinct r.student_id) from rankings r where r.period_id = selection_periods.id)`.mapWith(
        Number,
      ),
    })
    .from(selectionPeriods)
    .orderBy(desc(selectionPeriods.createdAt));
}

export async function getPeriod({ db, periodId }: { db: Executor; periodId: string }) {
  const [period] = await db.select().from(selectionPeriods).where(eq(selectionPeriods.id, periodId));
  return period;
}

/**
 * The period a student works in: an open one (preferring one they have
 * already ranked in), else the most recent one past its opening.
 */
export async function getCurrentPeriodForStudents({ db, studentId }: { db: Executor; studentId: string }) {
  const [period] = await db
    .select()
    .from(selectionPeriods)
    .where(sql`${selectionPeriods.status} in ('open', 'closed', 'assigned', 'published')`)
    .orderBy(
      sql`${selectionPeriods.status} = 'open' desc`,
      sql`exists (select 1 from ranking_states s where s.period_id = selection_periods.id and s.student_id = ${studentId}) desc`,
      desc(selectionPeriods.createdAt),
    )
    .limit(1);
  return period;
}

export async function listTopics({ db, periodId }: { db: Executor; periodId: string }): Promise<Topic[]> {
  return db.select().from(topics).where(eq(topics.periodId, periodId)).orderBy(asc(topics.title), asc(topics.id));
}

export async function createPeriod({
  tx,
  title,
  description = "",
  opensAt = null,
  closesAt = null,
}: {
  tx: Executor;
  title: string;
  description?: string;
  opensAt?: Date | null;
  closesAt?: Date | null;
}): Promise<SelectionPeriod> {
  const [period] = await tx.insert(selectionPeriods).values({ title, description, opensAt, closesAt }).returning();
  return period;
}

export class PeriodStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PeriodStateError";
  }
}

export async function createTopic({
  tx,
  periodId,
  title,
  description = "",
  supervisor = "",
  capacity,
  actor,
}: {
  tx: Executor;
  periodId: string;
  title: string;
  description?: string;
  supervisor?: string;
  capacity: number;
  actor: Actor;
}): Promise<Topic> {
  const [period] = await tx
    .select({ status: selectionPeriods.status })
    .from(selectionPeriods)
    .where(eq(selectionPeriods.id, periodId))
    .for("update");
  if (!period) throw new PeriodStateError("That selection period does not exist.");
  if (period.status !== "draft") throw new PeriodStateError("Topics can only be added while the period is a draft.");
  const [topic] = await tx.insert(topics).values({ periodId, title, description, supervisor, capacity }).returning();
  await recordEvent(tx, {
    type: "TOPIC_CREATED",
    ...actor,
    periodId,
    payload: { topicId: topic.id, title, capacity },
  });
  return topic;
}

/** draft → open; refuses an empty period. */
export async function openPeriod({ tx, periodId, actor }: { tx: Executor; periodId: string; actor: Actor }) {
  const [period] = await tx.select().from(selectionPeriods).where(eq(selectionPeriods.id, periodId)).for("update");
  if (!period) throw new PeriodStateError("That selection period does not exist.");
  if (period.status !== "draft") throw new PeriodStateError(`A period that is ${period.status} cannot be opened.`);
  const [{ topicCount }] = await tx.select({ topicCount: count() }).from(topics).where(eq(topics.periodId, periodId));
  if (topicCount === 0) throw new PeriodStateError("Add at least one topic before opening the period.");
  const [opened] = await tx
    .update(selectionPeriods)
    .set({ status: "open", opensAt: sql`coalesce(${selectionPeriods.opensAt}, now())`, updatedAt: new Date() })
    .where(and(eq(selectionPeriods.id, periodId), eq(selectionPeriods.status, "draft")))
    .returning();
  await recordEvent(tx, {
    type: "SELECTION_PERIOD_OPENED",
    ...actor,
    periodId,
    payload: { periodId, topicCount },
  });
  return opened;
}

/** open → closed, by an admin or automatically at the close time. */
export async function closePeriod({
  tx,
  periodId,
  actor,
  automatic = false,
}: {
  tx: Executor;
  periodId: string;
  actor: Actor;
  automatic?: boolean;
}) {
  const [period] = await tx.select().from(selectionPeriods).where(eq(selectionPeriods.id, periodId)).for("update");
  if (!period) throw new PeriodStateError("That selection period does not exist.");
  if (period.status !== "open") throw new PeriodStateError(`A period that is ${period.status} cannot be closed.`);
  const [closed] = await tx
    .update(selectionPeriods)
    .set({ status: "closed", closesAt: sql`least(coalesce(${selectionPeriods.closesAt}, now()), now())`, updatedAt: new Date() })
    .where(eq(selectionPeriods.id, periodId))
    .returning();
  await recordEvent(tx, { type: "SELECTION_PERIOD_CLOSED", ...actor, periodId, payload: { periodId, automatic } });
  return closed;
}

/** Closes every open period whose close time has passed; returns their ids. Safe to run concurrently. */
export async function closeDuePeriods({ tx }: { tx: Executor }): Promise<string[]> {
  const due = await tx
    .select({ id: selectionPeriods.id })
    .from(selectionPeriods)
    .where(sql`${selectionPeriods.status} = 'open' and ${selectionPeriods.closesAt} <= now()`)
    .for("update", { skipLocked: true });
  for (const { id } of due) {
    await closePeriod({ tx, periodId: id, actor: { actorId: null, actorType: "system", sessionId: null }, automatic: true });
  }
  return due.map(({ id }) => id);
}

/** closed → assigned when a run's results are stored; a period already assigned stays so. */
export async function markPeriodAssigned({ tx, periodId }: { tx: Executor; periodId: string }) {
  const [period] = await tx
    .select({ status: selectionPeriods.status })
    .from(selectionPeriods)
    .where(eq(selectionPeriods.id, periodId))
    .for("update");
  if (!period) throw new PeriodStateError("That selection period does not exist.");
  if (period.status === "assigned") return;
  if (period.status !== "closed") {
    throw new PeriodStateError(`A period that is ${period.status} cannot take assignment results.`);
  }
  await tx.update(selectionPeriods).set({ status: "assigned", updatedAt: new Date() }).where(eq(selectionPeriods.id, periodId));
}

/** assigned → published with one succeeded run; the partial unique index on assignment_runs backs "only one". */
export async function publishPeriod({
  tx,
  periodId,
  runId,
  actor,
}: {
  tx: Executor;
  periodId: string;
  runId: string;
  actor: Actor;
}) {
  const [period] = await tx.select().from(selectionPeriods).where(eq(selectionPeriods.id, periodId)).for("update");
  if (!period) throw new PeriodStateError("That selection period does not exist.");
  if (period.status === "published") throw new PeriodStateError("The results of this period are already published.");
  if (period.status !== "assigned") throw new PeriodStateError(`A period that is ${period.status} has no results to publish.`);
  const [run] = await tx
    .update(assignmentRuns)
    .set({ publishedAt: new Date() })
    .where(and(eq(assignmentRuns.id, runId), eq(assignmentRuns.periodId, periodId), eq(assignmentRuns.status, "succeeded")))
    .returning({ id: assignmentRuns.id });
  if (!run) throw new PeriodStateError("Only a finished run of this period can be published.");
  const [published] = await tx
    .update(selectionPeriods)
    .set({ status: "published", updatedAt: new Date() })
    .where(eq(selectionPeriods.id, periodId))
    .returning();
  await recordEvent(tx, { type: "SELECTION_PERIOD_PUBLISHED", ...actor, periodId, payload: { periodId, runId } });
  return published;
}

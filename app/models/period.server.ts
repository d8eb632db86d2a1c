import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { assignmentRuns, selectionPeriods, topics } from "../../drizzle/schema";
import type { Executor } from "../db.server";
import { recordEvent, recordEvents } from "./event.server";

export type SelectionPeriod = typeof selectionPeriods.$inferSelect;
export type PeriodStatus = SelectionPeriod["status"];
export type Topic = typeof topics.$inferSelect;

export type Actor = { actorId: string | null; actorType: "admin" | "system"; sessionId: string | null };

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

/**
 * A transition or edit the period's current state does not allow. `status`
 * is the HTTP answer: 404 for a period (or topic) that does not exist, 409
 * for one in the wrong state.
 */
export class PeriodStateError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 = 409,
  ) {
    super(message);
    this.name = "PeriodStateError";
  }
}

export type PeriodFields = {
  title: string;
  description?: string;
  opensAt?: Date | null;
  closesAt?: Date | null;
};

export async function createPeriod({
  tx,
  title,
  description = "",
  opensAt = null,
  closesAt = null,
}: { tx: Executor } & PeriodFields): Promise<SelectionPeriod> {
  const [period] = await tx.insert(selectionPeriods).values({ title, description, opensAt, closesAt }).returning();
  return period;
}

const EDITABLE: PeriodStatus[] = ["draft", "open"];

/** Explains why a guarded update touched no row: the period is missing or in another state. */
async function refusal(tx: Executor, periodId: string, explain: (status: PeriodStatus) => string): Promise<PeriodStateError> {
  const [period] = await tx.select({ status: selectionPeriods.status }).from(selectionPeriods).where(eq(selectionPeriods.id, periodId));
  if (!period) return new PeriodStateError("That selection period does not exist.", 404);
  return new PeriodStateError(explain(period.status));
}

/**
 * Edits title, description and times while the period is a draft or open
 * (an open period may have its close time moved); later states are frozen
 * because students' rankings and assignments refer to them.
 */
export async function updatePeriod({
  tx,
  periodId,
  title,
  description = "",
  opensAt = null,
  closesAt = null,
}: { tx: Executor; periodId: string } & PeriodFields): Promise<SelectionPeriod> {
  const [updated] = await tx
    .update(selectionPeriods)
    .set({ title, description, opensAt, closesAt, updatedAt: new Date() })
    .where(and(eq(selectionPeriods.id, periodId), inArray(selectionPeriods.status, EDITABLE)))
    .returning();
  if (updated) return updated;
  throw await refusal(tx, periodId, (status) => `A period that is ${status} can no longer be edited.`);
}

const periodIsDraft = (periodId: string) =>
  sql`exists (select 1 from selection_periods p where p.id = ${periodId} and p.status = 'draft')`;

export type TopicFields = { title: string; description?: string; supervisor?: string; capacity: number };

/** Adds topics to a draft period in one statement and records TOPIC_CREATED for each. */
export async function createTopics({
  tx,
  periodId,
  topics: fields,
  actor,
}: {
  tx: Executor;
  periodId: string;
  topics: TopicFields[];
  actor: Actor;
}): Promise<Topic[]> {
  // The row lock keeps the period a draft until this transaction commits, so
  // a concurrent openPeriod cannot slip in between the check and the insert.
  const [period] = await tx
    .select({ status: selectionPeriods.status })
    .from(selectionPeriods)
    .where(eq(selectionPeriods.id, periodId))
    .for("update");
  if (!period) throw new PeriodStateError("That selection period does not exist.", 404);
  if (period.status !== "draft") throw new PeriodStateError("Topics can only be added while the period is a draft.");
  if (fields.length === 0) return [];
  // Checked under the lock, so two imports of one file at once cannot both pass.
  const titles = fields.map((topic) => topic.title.toLowerCase());
  const [taken] = await tx
    .select({ title: topics.title })
    .from(topics)
    .where(and(eq(topics.periodId, periodId), inArray(sql`lower(${topics.title})`, titles)))
    .limit(1);
  if (taken) throw new PeriodStateError(`The period already has a topic titled "${taken.title}".`);
  const created = await tx
    .insert(topics)
    .values(
      fields.map(({ title, description = "", supervisor = "", capacity }) => ({ periodId, title, description, supervisor, capacity })),
    )
    .returning();
  await recordEvents(
    tx,
    created.map((topic) => ({
      type: "TOPIC_CREATED" as const,
      ...actor,
      periodId,
      payload: { topicId: topic.id, title: topic.title, capacity: topic.capacity },
    })),
  );
  return created;
}

export async function createTopic({ tx, periodId, actor, ...fields }: { tx: Executor; periodId: string; actor: Actor } & TopicFields) {
  const [topic] = await createTopics({ tx, periodId, topics: [fields], actor });
  return topic;
}

async function topicRefusal(tx: Executor, periodId: string, topicId: string, verb: string) {
  const [topic] = await tx
    .select({ id: topics.id })
    .from(topics)
    .where(and(eq(topics.id, topicId), eq(topics.periodId, periodId)));
  if (!topic) return new PeriodStateError("That topic does not exist in this period.", 404);
  return new PeriodStateError(`Topics can only be ${verb} while the period is a draft.`);
}

export async function updateTopic({
  tx,
  periodId,
  topicId,
  title,
  description = "",
  supervisor = "",
  capacity,
}: { tx: Executor; periodId: string; topicId: string } & TopicFields): Promise<Topic> {
  const [taken] = await tx
    .select({ title: topics.title })
    .from(topics)
    .where(and(eq(topics.periodId, periodId), sql`lower(${topics.title}) = ${title.toLowerCase()}`, sql`${topics.id} <> ${topicId}`))
    .limit(1);
  if (taken) throw new PeriodStateError(`The period already has a topic titled "${taken.title}".`);
  const [updated] = await tx
    .update(topics)
    .set({ title, description, supervisor, capacity })
    .where(and(eq(topics.id, topicId), eq(topics.periodId, periodId), periodIsDraft(periodId)))
    .returning();
  if (updated) return updated;
  throw await topicRefusal(tx, periodId, topicId, "edited");
}

export async function deleteTopic({ tx, periodId, topicId }: { tx: Executor; periodId: string; topicId: string }) {
  const [deleted] = await tx
    .delete(topics)
    .where(and(eq(topics.id, topicId), eq(topics.periodId, periodId), periodIsDraft(periodId)))
    .returning({ id: topics.id });
  if (!deleted) throw await topicRefusal(tx, periodId, topicId, "removed");
}

export async function getTopic({ db, periodId, topicId }: { db: Executor; periodId: string; topicId: string }) {
  const [topic] = await db
    .select()
    .from(topics)
    .where(and(eq(topics.id, topicId), eq(topics.periodId, periodId)));
  return topic;
}

/**
 * draft → open. The update itself requires the draft state and at least one
 * topic, so two admins opening at once record one event, not two.
 */
export async function openPeriod({ tx, periodId, actor }: { tx: Executor; periodId: string; actor: Actor }) {
  const topicCount = sql<number>`(select count(*) from topics t where t.period_id = ${periodId})`.mapWith(Number);
  const [opened] = await tx
    .update(selectionPeriods)
    .set({ status: "open", opensAt: sql`coalesce(${selectionPeriods.opensAt}, now())`, updatedAt: new Date() })
    .where(
      and(
        eq(selectionPeriods.id, periodId),
        eq(selectionPeriods.status, "draft"),
        sql`exists (select 1 from topics t where t.period_id = ${periodId})`,
      ),
    )
    .returning({ period: selectionPeriods, topicCount });
  if (!opened) {
    throw await refusal(tx, periodId, (status) =>
      status === "draft" ? "Add at least one topic before opening the period." : `A period that is ${status} cannot be opened.`,
    );
  }
  await recordEvent(tx, {
    type: "SELECTION_PERIOD_OPENED",
    ...actor,
    periodId,
    payload: { periodId, topicCount: opened.topicCount },
  });
  return opened.period;
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
  const [closed] = await tx
    .update(selectionPeriods)
    .set({ status: "closed", closesAt: sql`least(coalesce(${selectionPeriods.closesAt}, now()), now())`, updatedAt: new Date() })
    .where(and(eq(selectionPeriods.id, periodId), eq(selectionPeriods.status, "open")))
    .returning();
  if (!closed) throw await refusal(tx, periodId, (status) => `A period that is ${status} cannot be closed.`);
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
  if (!period) throw new PeriodStateError("That selection period does not exist.", 404);
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
  if (!period) throw new PeriodStateError("That selection period does not exist.", 404);
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

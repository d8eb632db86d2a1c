import { createHash } from "node:crypto";
import { and, asc, count, desc, eq, inArray, isNotNull, ne, sql } from "drizzle-orm";
import Papa from "papaparse";
import { z } from "zod";
import { assignmentRuns, assignments, rankings, selectionPeriods, topics, users } from "../../../drizzle/schema";
import { pgErrorCode, withTransaction, type Database, type Executor, type Transaction } from "../../db.server";
import { enqueue } from "../../queues.server";
import { recordEvent } from "../event.server";
import { markPeriodAssigned, PeriodStateError, publishPeriod } from "../period.server";
import {
  differingStudents,
  explainAssignment,
  profileOfRows,
  type TopicDemand,
} from "./explain";
import { solveAssignment, type AssignmentProblem, type Objective, type UnassignedPolicy } from "./solver";

export type AssignmentRun = typeof assignmentRuns.$inferSelect;
export type RunStage = AssignmentRun["stage"];

type AdminActor = { actorId: string; sessionId: string | null };

/** A failure the admin can act on; `status` is the HTTP status to answer with. */
export class AssignmentError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 503,
  ) {
    super(message);
    this.name = "AssignmentError";
  }
}

const RouteId = z.uuid();

/** Route params as ids: anything that is not a UUID cannot name a row, so it is a 404, not a database error. */
export function requireRouteIds<K extends string>(params: Record<string, string | undefined>, names: readonly K[]): Record<K, string> {
  const ids = {} as Record<K, string>;
  for (const name of names) {
    const parsed = RouteId.safeParse(params[name]);
    if (!parsed.success) throw new Response(`No ${name === "runId" ? "assignment run" : "selection period"} has that id.`, { status: 404 });
    ids[name] = parsed.data;
  }
  return ids;
}

// ---------------------------------------------------------------- requesting and executing

/** Stores a queued run for a closed (or already assigned) period and enqueues its job. */
export async function requestAssignmentRun({
  db,
  periodId,
  objective,
  seed,
  unassignedPolicy,
  actor,
}: {
  db: Database;
  periodId: string;
  objective: Objective;
  seed: number;
  unassignedPolicy: UnassignedPolicy;
  actor: AdminActor;
}): Promise<AssignmentRun> {
  const run = await withTransaction(db, async (tx) => {
    const [period] = await tx
      .select({ status: selectionPeriods.status })
      .from(selectionPeriods)
      .where(eq(selectionPeriods.id, periodId))
      .for("share");
    if (!period) throw new AssignmentError("That selection period does not exist.", 404);
    if (period.status !== "closed" && period.status !== "assigned") {
      throw new AssignmentError(
        `The period is ${period.status}; assignments can be run only after it closes and before it is published.`,
        409,
      );
    }
    const [created] = await tx
      .insert(assignmentRuns)
      .values({ periodId, objective, seed, unassignedPolicy, requestedBy: actor.actorId })
      .returning();
    return created;
  });
  try {
    // The run id as job id: a double submit of the same run cannot queue it twice.
    await enqueue("runAssignment", { runId: run.id }, { jobId: run.id });
  } catch (error) {
    const message = "The job queue (Redis) is unavailable, so the run could not be started. Try again when it is back.";
    await db
      .update(assignmentRuns)
      .set({ status: "failed", error: message, finishedAt: new Date() })
      .where(eq(assignmentRuns.id, run.id));
    console.error(`assignment run ${run.id}: enqueue failed: ${(error as Error).message}`);
    throw new AssignmentError(message, 503);
  }
  return run;
}

export type AssignmentInput = Pick<AssignmentProblem, "students" | "topics" | "rankings">;

/** Students (everyone who started a ranking), topics and rankings of a period, in a canonical order. */
export async function loadAssignmentInput({ db, periodId }: { db: Executor; periodId: string }): Promise<AssignmentInput> {
  const [topicRows, listRows] = await Promise.all([
    db.select({ id: topics.id, capacity: topics.capacity }).from(topics).where(eq(topics.periodId, periodId)).orderBy(asc(topics.id)),
    // One row per student with the list already ordered: a tenth of the rows of a plain select at top-10 lists.
    db.execute<{ student_id: string; topic_ids: string[] }>(sql`
      select s.student_id,
             coalesce((select array_agg(r.topic_id order by r.position) from rankings r
                       where r.period_id = ${periodId} and r.student_id = s.student_id), '{}') as topic_ids
      from (select student_id from rankings where period_id = ${periodId}
            union
            select student_id from ranking_states where period_id = ${periodId}) s
      order by s.student_id`),
  ]);
  const students = [...listRows].map((row) => row.student_id);
  const lists: Record<string, string[]> = Object.fromEntries([...listRows].map((row) => [row.student_id, row.topic_ids]));
  return { students, topics: topicRows, rankings: lists };
}

/** SHA-256 of the canonical input: equal hashes mean the solver saw the same problem. */
export function hashAssignmentInput(input: AssignmentInput): string {
  const canonical = JSON.stringify([
    input.topics.map((topic) => [topic.id, topic.capacity]),
    input.students.map((id) => [id, input.rankings[id] ?? []]),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

export type RunProgress = { stage: RunStage; percent: number };

async function setStage(db: Database, runId: string, { stage, percent }: RunProgress, onProgress?: (progress: RunProgress) => Promise<void>) {
  await db.update(assignmentRuns).set({ stage, progress: percent }).where(eq(assignmentRuns.id, runId));
  await onProgress?.({ stage, percent });
}

/**
 * The worker's half of a run: load, solve, save. Idempotent: the save
 * transaction locks the run and does nothing when it already succeeded, so a
 * job retried after a crash neither duplicates rows nor records the event twice.
 */
export async function executeAssignmentRun({
  db,
  runId,
  onProgress,
}: {
  db: Database;
  runId: string;
  onProgress?: (progress: RunProgress) => Promise<void>;
}): Promise<{ runId: string; status: "succeeded"; replayed: boolean }> {
  const [run] = await db.select().from(assignmentRuns).where(eq(assignmentRuns.id, runId));
  if (!run) throw new Error(`Assignment run ${runId} does not exist.`);
  if (run.status === "succeeded") return { runId, status: "succeeded", replayed: true };

  try {
    await db
      .update(assignmentRuns)
      .set({ status: "running", startedAt: new Date(), error: null })
      .where(eq(assignmentRuns.id, runId));
    await setStage(db, runId, { stage: "loading", percent: 5 }, onProgress);
    // Read outside the save transaction: the period is closed, so rankings and topics no longer change.
    const input = await loadAssignmentInput({ db, periodId: run.periodId });
    const inputHash = hashAssignmentInput(input);

    await setStage(db, runId, { stage: "solving", percent: 30 }, onProgress);
    const result = solveAssignment({ ...input, objective: run.objective, unassignedPolicy: run.unassignedPolicy, seed: run.seed });

    await setStage(db, runId, { stage: "saving", percent: 70 }, onProgress);
    const rows = input.students.map((studentId) => {
      const topicId = result.assignments[studentId];
      const position = topicId === null ? -1 : input.rankings[studentId].indexOf(topicId);
      return { studentId, topicId, rank: position >= 0 ? position + 1 : null };
    });
    const replayed = await withTransaction(db, async (tx) => {
      // Period first, then run: the same lock order as publishing and overrides.
      await markPeriodAssigned({ tx, periodId: run.periodId });
      const [locked] = await tx.select({ status: assignmentRuns.status }).from(assignmentRuns).where(eq(assignmentRuns.id, runId)).for("update");
      if (locked.status === "succeeded") return true;
      // One statement over arrays: 20,000 rows as four parameters instead of 80,000.
      await tx.execute(sql`
        insert into assignments (run_id, student_id, topic_id, rank)
        select ${runId}, student_id, topic_id, rank
        from unnest(${sql.param(rows.map((row) => row.studentId))}::uuid[],
                    ${sql.param(rows.map((row) => row.topicId))}::uuid[],
                    ${sql.param(rows.map((row) => row.rank))}::int[]) as t(student_id, topic_id, rank)`);
      await tx
        .update(assignmentRuns)
        .set({
          status: "succeeded",
          stage: "done",
          progress: 100,
          inputHash,
          profile: result.profile,
          objectiveValue: result.objectiveValue,
          studentCount: input.students.length,
          unassignedCount: result.unassigned.length,
          finishedAt: new Date(),
          error: null,
        })
        .where(eq(assignmentRuns.id, runId));
      await recordEvent(tx, {
        type: "ALGORITHM_EXECUTED",
        actorId: run.requestedBy,
        actorType: run.requestedBy ? "admin" : "system",
        sessionId: null,
        periodId: run.periodId,
        payload: {
          runId,
          objective: run.objective,
          seed: run.seed,
          inputHash,
          assignments: input.students.length - result.unassigned.length,
          profile: result.profile,
        },
      });
      return false;
    });
    await onProgress?.({ stage: "done", percent: 100 });
    return { runId, status: "succeeded", replayed };
  } catch (error) {
    await db
      .update(assignmentRuns)
      .set({ status: "failed", error: error instanceof Error ? error.message : String(error), finishedAt: new Date() })
      .where(and(eq(assignmentRuns.id, runId), ne(assignmentRuns.status, "succeeded")));
    throw error;
  }
}

// ---------------------------------------------------------------- reading

export async function listAssignmentRuns({ db, periodId }: { db: Executor; periodId: string }): Promise<AssignmentRun[]> {
  return db.select().from(assignmentRuns).where(eq(assignmentRuns.periodId, periodId)).orderBy(desc(assignmentRuns.createdAt));
}

export async function getAssignmentRun({ db, periodId, runId }: { db: Executor; periodId: string; runId: string }) {
  const [run] = await db
    .select()
    .from(assignmentRuns)
    .where(and(eq(assignmentRuns.id, runId), eq(assignmentRuns.periodId, periodId)));
  if (!run) throw new AssignmentError("That assignment run does not exist in this period.", 404);
  return run;
}

export type AssignmentListRow = {
  studentId: string;
  name: string;
  email: string;
  topicId: string | null;
  topicTitle: string | null;
  rank: number | null;
  overridden: boolean;
  overrideReason: string | null;
};

export async function listRunAssignments({ db, runId }: { db: Executor; runId: string }): Promise<AssignmentListRow[]> {
  return db
    .select({
      studentId: assignments.studentId,
      name: users.name,
      email: users.email,
      topicId: assignments.topicId,
      topicTitle: topics.title,
      rank: assignments.rank,
      overridden: assignments.overridden,
      overrideReason: assignments.overrideReason,
    })
    .from(assignments)
    .innerJoin(users, eq(users.id, assignments.studentId))
    .leftJoin(topics, eq(topics.id, assignments.topicId))
    .where(eq(assignments.runId, runId))
    .orderBy(asc(users.name), asc(users.email));
}

/** Seats taken per topic in a run, beside each topic's capacity. */
export async function topicOccupancy({ db, runId, periodId }: { db: Executor; runId: string; periodId: string }) {
  return db
    .select({
      topicId: topics.id,
      title: topics.title,
      capacity: topics.capacity,
      taken: sql<number>`(select count(*) from assignments a where a.run_id = ${runId} and a.topic_id = topics.id)`.mapWith(Number),
    })
    .from(topics)
    .where(eq(topics.periodId, periodId))
    .orderBy(asc(topics.title), asc(topics.id));
}

/** Demand for the given topics (students by the position they gave it) and who the run placed there, by the rank they gave. */
async function topicDemand({ db, runId, topicIds }: { db: Executor; runId: string; topicIds: string[] }) {
  const demand = new Map<string, TopicDemand>();
  if (topicIds.length === 0) return demand;
  const [topicRows, positionRows, placedRows] = await Promise.all([
    db.select({ id: topics.id, title: topics.title, capacity: topics.capacity }).from(topics).where(inArray(topics.id, topicIds)),
    db
      .select({ topicId: rankings.topicId, position: rankings.position, students: count() })
      .from(rankings)
      .where(inArray(rankings.topicId, topicIds))
      .groupBy(rankings.topicId, rankings.position),
    db
      .select({ topicId: assignments.topicId, rank: assignments.rank, students: count() })
      .from(assignments)
      .where(and(eq(assignments.runId, runId), inArray(assignments.topicId, topicIds)))
      .groupBy(assignments.topicId, assignments.rank),
  ]);
  for (const topic of topicRows) {
    demand.set(topic.id, { topicId: topic.id, title: topic.title, capacity: topic.capacity, rankedAt: [], placedByRank: [] });
  }
  for (const row of positionRows) {
    const entry = demand.get(row.topicId)!;
    while (entry.rankedAt.length < row.position) entry.rankedAt.push(0);
    entry.rankedAt[row.position - 1] = row.students;
  }
  for (const row of placedRows) demand.get(row.topicId!)!.placedByRank.push({ rank: row.rank, count: row.students });
  return demand;
}

async function studentRankingTitles(db: Executor, studentId: string, periodId: string) {
  return db
    .select({ topicId: rankings.topicId, title: topics.title })
    .from(rankings)
    .innerJoin(topics, eq(topics.id, rankings.topicId))
    .where(and(eq(rankings.studentId, studentId), eq(rankings.periodId, periodId)))
    .orderBy(asc(rankings.position));
}

/** Why a student got what they got in a run, as sentences computed from the stored data. */
export async function explainStudentAssignment({
  db,
  run,
  studentId,
  voice,
}: {
  db: Executor;
  run: Pick<AssignmentRun, "id" | "periodId">;
  studentId: string;
  voice: "student" | "admin";
}): Promise<string[]> {
  const [[row], ranking] = await Promise.all([
    db
      .select({
        topicId: assignments.topicId,
        title: topics.title,
        rank: assignments.rank,
        overridden: assignments.overridden,
        overrideReason: assignments.overrideReason,
      })
      .from(assignments)
      .leftJoin(topics, eq(topics.id, assignments.topicId))
      .where(and(eq(assignments.runId, run.id), eq(assignments.studentId, studentId))),
    studentRankingTitles(db, studentId, run.periodId),
  ]);
  if (!row) throw new AssignmentError("That student is not part of this run.", 404);
  const considered = ranking.slice(0, row.rank ?? ranking.length).map((choice) => choice.topicId);
  const demand = await topicDemand({ db, runId: run.id, topicIds: row.topicId ? [...new Set([...considered, row.topicId])] : considered });
  return explainAssignment({
    voice,
    ranking,
    assigned: row.topicId
      ? { topicId: row.topicId, title: row.title ?? "", rank: row.rank, overridden: row.overridden, overrideReason: row.overrideReason }
      : null,
    demand,
  });
}

/** Two runs of a period side by side: their current profiles and every student whose topic differs. */
export async function compareRuns({ db, periodId, runIds }: { db: Executor; periodId: string; runIds: [string, string] }) {
  const runs = await Promise.all(runIds.map((runId) => getAssignmentRun({ db, periodId, runId })));
  if (runs.some((run) => run.status !== "succeeded")) throw new AssignmentError("Only finished runs can be compared.", 409);
  const rows = await Promise.all(
    runIds.map((runId) =>
      db
        .select({ studentId: assignments.studentId, topicId: assignments.topicId, rank: assignments.rank })
        .from(assignments)
        .where(eq(assignments.runId, runId))
        .orderBy(asc(assignments.studentId)),
    ),
  );
  const differences = differingStudents(rows[0], rows[1]);
  const studentIds = differences.map((difference) => difference.studentId);
  const [people, topicRows] = await Promise.all([
    studentIds.length === 0
      ? []
      : db.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, studentIds)),
    db.select({ id: topics.id, title: topics.title }).from(topics).where(eq(topics.periodId, periodId)),
  ]);
  const personOf = new Map(people.map((person) => [person.id, person]));
  const titleOf = new Map(topicRows.map((topic) => [topic.id, topic.title]));
  return {
    runs: runs.map((run, index) => ({ run, profile: profileOfRows(rows[index]) })),
    sameInput: runs[0].inputHash !== null && runs[0].inputHash === runs[1].inputHash,
    differences: differences
      .map((difference) => ({
        studentId: difference.studentId,
        name: personOf.get(difference.studentId)?.name ?? "",
        email: personOf.get(difference.studentId)?.email ?? "",
        a: { ...difference.a, title: difference.a.topicId ? (titleOf.get(difference.a.topicId) ?? null) : null },
        b: { ...difference.b, title: difference.b.topicId ? (titleOf.get(difference.b.topicId) ?? null) : null },
      }))
      .sort((x, y) => x.name.localeCompare(y.name) || x.email.localeCompare(y.email)),
  };
}

/** The run as CSV: one line per student. */
export async function exportRunCsv({ db, periodId, runId }: { db: Executor; periodId: string; runId: string }): Promise<string> {
  const run = await getAssignmentRun({ db, periodId, runId });
  const rows = await listRunAssignments({ db, runId: run.id });
  return Papa.unparse({
    fields: ["student_name", "student_email", "topic", "choice", "overridden", "override_reason"],
    data: rows.map((row) => [
      row.name,
      row.email,
      row.topicTitle ?? "",
      row.rank ?? "",
      row.overridden ? "yes" : "no",
      row.overrideReason ?? "",
    ]),
  });
}

// ---------------------------------------------------------------- overriding and publishing

async function lockPeriodForResults(tx: Transaction, periodId: string) {
  const [period] = await tx.select({ status: selectionPeriods.status }).from(selectionPeriods).where(eq(selectionPeriods.id, periodId)).for("update");
  if (!period) throw new AssignmentError("That selection period does not exist.", 404);
  return period;
}

async function lockSucceededRun(tx: Transaction, periodId: string, runId: string) {
  const [run] = await tx
    .select()
    .from(assignmentRuns)
    .where(and(eq(assignmentRuns.id, runId), eq(assignmentRuns.periodId, periodId)))
    .for("update");
  if (!run) throw new AssignmentError("That assignment run does not exist in this period.", 404);
  if (run.status !== "succeeded") throw new AssignmentError(`That run has ${run.status === "failed" ? "failed" : "not finished yet"}.`, 409);
  return run;
}

/**
 * Moves one student of a run to another topic (or to none), with a reason.
 * The topic must belong to the period and have a free seat in this run.
 */
export async function overrideAssignment({
  db,
  periodId,
  runId,
  studentId,
  topicId,
  reason,
  actor,
}: {
  db: Database;
  periodId: string;
  runId: string;
  studentId: string;
  topicId: string | null;
  reason: string;
  actor: AdminActor;
}) {
  const trimmed = reason.trim();
  if (trimmed.length < 3) throw new AssignmentError("Give a reason for the change (at least 3 characters).", 400);
  return withTransaction(db, async (tx) => {
    const period = await lockPeriodForResults(tx, periodId);
    if (period.status === "published") throw new AssignmentError("The results are published; assignments can no longer be changed.", 409);
    await lockSucceededRun(tx, periodId, runId);
    const [current] = await tx
      .select({ topicId: assignments.topicId })
      .from(assignments)
      .where(and(eq(assignments.runId, runId), eq(assignments.studentId, studentId)));
    if (!current) throw new AssignmentError("That student is not part of this run.", 404);
    if (current.topicId === topicId) throw new AssignmentError("The student already has that topic.", 400);

    let rank: number | null = null;
    if (topicId !== null) {
      const [topic] = await tx
        .select({ title: topics.title, capacity: topics.capacity })
        .from(topics)
        .where(and(eq(topics.id, topicId), eq(topics.periodId, periodId)));
      if (!topic) throw new AssignmentError("That topic does not belong to this period.", 400);
      const [{ taken }] = await tx
        .select({ taken: count() })
        .from(assignments)
        .where(and(eq(assignments.runId, runId), eq(assignments.topicId, topicId)));
      if (taken >= topic.capacity) {
        throw new AssignmentError(`${topic.title} is full (${taken} of ${topic.capacity} seats taken in this run).`, 409);
      }
      const [ranked] = await tx
        .select({ position: rankings.position })
        .from(rankings)
        .where(and(eq(rankings.studentId, studentId), eq(rankings.topicId, topicId)));
      rank = ranked?.position ?? null;
    }
    await tx
      .update(assignments)
      .set({ topicId, rank, overridden: true, overrideReason: trimmed, overriddenBy: actor.actorId, overriddenAt: new Date() })
      .where(and(eq(assignments.runId, runId), eq(assignments.studentId, studentId)));
    await recordEvent(tx, {
      type: "ASSIGNMENT_OVERRIDDEN",
      actorId: actor.actorId,
      actorType: "admin",
      sessionId: actor.sessionId,
      periodId,
      payload: { runId, studentId, fromTopicId: current.topicId, toTopicId: topicId, reason: trimmed },
    });
    return { studentId, topicId, rank };
  });
}

// ---------------------------------------------------------------- the student's view

/** The student's own result in the published run of a period; null before publication. */
export async function getPublishedResult({ db, studentId, periodId }: { db: Executor; studentId: string; periodId: string }) {
  const [row] = await db
    .select({
      runId: assignmentRuns.id,
      publishedAt: assignmentRuns.publishedAt,
      topicId: assignments.topicId,
      rank: assignments.rank,
      title: topics.title,
      supervisor: topics.supervisor,
      description: topics.description,
    })
    .from(assignments)
    .innerJoin(assignmentRuns, eq(assignmentRuns.id, assignments.runId))
    .leftJoin(topics, eq(topics.id, assignments.topicId))
    .where(
      and(
        eq(assignments.studentId, studentId),
        eq(assignmentRuns.periodId, periodId),
        isNotNull(assignmentRuns.publishedAt),
        sql`exists (select 1 from selection_periods p where p.id = ${assignmentRuns.periodId} and p.status = 'published')`,
      ),
    );
  if (!row) return null;
  const ranking = await studentRankingTitles(db, studentId, periodId);
  const explanation = await explainStudentAssignment({ db, run: { id: row.runId, periodId }, studentId, voice: "student" });
  return {
    topic: row.topicId ? { id: row.topicId, title: row.title ?? "", supervisor: row.supervisor ?? "", description: row.description ?? "" } : null,
    rank: row.rank,
    listLength: ranking.length,
    ranking,
    explanation,
  };
}

/** Whether a student has a published result in a period, for a notice on their page. */
export async function hasPublishedResult({ db, studentId, periodId }: { db: Executor; studentId: string; periodId: string }) {
  const [row] = await db
    .select({ runId: assignments.runId })
    .from(assignments)
    .innerJoin(assignmentRuns, eq(assignmentRuns.id, assignments.runId))
    .where(and(eq(assignments.studentId, studentId), eq(assignmentRuns.periodId, periodId), isNotNull(assignmentRuns.publishedAt)));
  return row !== undefined;
}

/** Publishes a run's results to the students; a second publication of the period is refused with 409. */
export async function publishAssignmentRun({
  db,
  periodId,
  runId,
  actor,
}: {
  db: Database;
  periodId: string;
  runId: string;
  actor: AdminActor;
}) {
  try {
    return await withTransaction(db, (tx) =>
      publishPeriod({ tx, periodId, runId, actor: { actorId: actor.actorId, actorType: "admin", sessionId: actor.sessionId } }),
    );
  } catch (error) {
    if (error instanceof PeriodStateError) throw new AssignmentError(error.message, 409);
    if (pgErrorCode(error) === "23505") throw new AssignmentError("Another run of this period is already published.", 409);
    throw error;
  }
}

/** For loaders and actions: an AssignmentError becomes the Response it describes; anything else is rethrown. */
export function rethrowAsResponse(error: unknown): never {
  if (error instanceof AssignmentError) {
    throw new Response(error.message, { status: error.status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  }
  throw error;
}

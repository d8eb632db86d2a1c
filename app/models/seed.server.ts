import { randomUUID } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { selectionPeriods, users } from "../../drizzle/schema";
import { withTransaction, type Database } from "../db.server";
import { createPeriod, createTopic, listTopics, openPeriod } from "./period.server";
import { generatePreferences } from "./assignment/synthetic";
import type { SocData } from "./preflib";
import { compactRankingAggregates } from "./ranking-aggregates.server";
import { applyRankingBatch, getStudentRanking } from "./ranking.server";
import { createUser, getUserByEmail, hashPassword } from "./user.server";

export const DEMO_ADMIN = { email: "admin@topicmatch.test", password: "topicmatch-admin", name: "Demo Admin" };
export const DEMO_STUDENT_PASSWORD = "topicmatch-student";
export const AGH_PERIOD_TITLE = "AGH 2003 course registration";
const SYSTEM = { actorId: null, actorType: "system" as const, sessionId: "seed" };

export function demoStudentEmail(index: number, prefix = "agh-student"): string {
  return `${prefix}-${String(index + 1).padStart(3, "0")}@topicmatch.test`;
}

export async function ensureAdmin({ db, email, password, name }: { db: Database; email: string; password: string; name: string }) {
  const existing = await getUserByEmail({ db, email });
  if (existing) return { user: existing, created: false };
  const user = await withTransaction(db, (tx) => createUser({ tx, email, name, password, role: "admin", via: "seed" }));
  return { user, created: true };
}

/** Creates the students that do not exist yet (all with one password) and returns every id in order. */
export async function ensureStudents({
  db,
  emails,
  password,
  onProgress,
}: {
  db: Database;
  emails: string[];
  password: string;
  onProgress?: (done: number, total: number) => void;
}): Promise<string[]> {
  const existing = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(inArray(sql`lower(${users.email})`, emails));
  const byEmail = new Map(existing.map((row) => [row.email, row.id]));
  const missing = emails.filter((email) => !byEmail.has(email));
  if (missing.length > 0) {
    const passwordHash = await hashPassword(password);
    const CHUNK = 500;
    for (let start = 0; start < missing.length; start += CHUNK) {
      const chunk = missing.slice(start, start + CHUNK);
      await withTransaction(db, async (tx) => {
        for (const email of chunk) {
          const name = email.split("@")[0].replace(/-/g, " ");
          const user = await createUser({ tx, email, name, password: null, passwordHash, role: "student", via: "seed" });
          byEmail.set(email, user.id);
        }
      });
      onProgress?.(Math.min(start + CHUNK, missing.length), missing.length);
    }
  }
  return emails.map((email) => byEmail.get(email)!);
}

/** Finds the period by title, or creates it with its topics and opens it. */
export async function ensureOpenPeriod({
  db,
  title,
  description,
  topics,
}: {
  db: Database;
  title: string;
  description: string;
  topics: { title: string; description: string; supervisor: string; capacity: number }[];
}): Promise<{ periodId: string; topicIds: string[]; created: boolean }> {
  return withTransaction(db, async (tx) => {
    // Serialises concurrent seeds so the period is created once.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${title}))`);
    const [existing] = await tx.select().from(selectionPeriods).where(eq(selectionPeriods.title, title));
    if (existing) {
      const rows = await listTopics({ db: tx, periodId: existing.id });
      const byTitle = new Map(rows.map((row) => [row.title, row.id]));
      return { periodId: existing.id, topicIds: topics.map((topic) => byTitle.get(topic.title)!), created: false };
    }
    const period = await createPeriod({ tx, title, description });
    const topicIds: string[] = [];
    for (const topic of topics) {
      const row = await createTopic({ tx, periodId: period.id, ...topic, actor: SYSTEM });
      topicIds.push(row.id);
    }
    await openPeriod({ tx, periodId: period.id, actor: SYSTEM });
    return { periodId: period.id, topicIds, created: true };
  });
}

/**
 * Gives each student their ranking through applyRankingBatch, the function the
 * ranking page uses; a student who already has a ranking keeps it. Then folds
 * the saves' buffered aggregate deltas into the trees, so a seeded database
 * starts with empty buffers whether or not a worker is running.
 */
export async function ensureRankings({
  db,
  periodId,
  rankings,
  concurrency = 8,
  onProgress,
}: {
  db: Database;
  periodId: string;
  rankings: { studentId: string; order: string[] }[];
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<{ applied: number; kept: number }> {
  let applied = 0;
  let kept = 0;
  let next = 0;
  let done = 0;
  const work = async () => {
    while (next < rankings.length) {
      const { studentId, order } = rankings[next++];
      const current = await getStudentRanking({ db, studentId, periodId });
      if (current.order.length > 0 || order.length === 0) {
        kept++;
      } else {
        await applyRankingBatch({
          db,
          studentId,
          periodId,
          batchId: randomUUID(),
          sessionId: "seed",
          baseVersion: current.version,
          updates: order.map((topicId, index) => ({ topicId, position: index + 1 })),
        });
        applied++;
      }
      done++;
      if (done % 100 === 0 || done === rankings.length) onProgress?.(done, rankings.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  if (applied > 0) await compactRankingAggregates(db);
  return { applied, kept };
}

/** The AGH 2003 demo: one open period with the 9 courses and all 146 students' rankings. */
export async function seedAgh({
  db,
  soc,
  onProgress,
}: {
  db: Database;
  soc: SocData;
  onProgress?: (stage: string, done: number, total: number) => void;
}) {
  const admin = await ensureAdmin({ db, ...DEMO_ADMIN });
  const capacity = Math.ceil((soc.voters.length * 1.05) / soc.alternatives.length);
  const period = await ensureOpenPeriod({
    db,
    title: AGH_PERIOD_TITLE,
    description:
      "Real course preferences from the 2003 registration at AGH University of Science and Technology (PrefLib dataset 00009).",
    topics: soc.alternatives.map((alternative) => ({
      title: alternative.name,
      description: `Elective ${alternative.name.toLowerCase()} from the AGH 2003 registration.`,
      supervisor: "AGH faculty",
      capacity,
    })),
  });
  const emails = soc.voters.map((_, index) => demoStudentEmail(index));
  const studentIds = await ensureStudents({
    db,
    emails,
    password: DEMO_STUDENT_PASSWORD,
    onProgress: (done, total) => onProgress?.("students", done, total),
  });
  const result = await ensureRankings({
    db,
    periodId: period.periodId,
    rankings: soc.voters.map((order, index) => ({
      studentId: studentIds[index],
      order: order.map((alternative) => period.topicIds[alternative - 1]),
    })),
    onProgress: (done, total) => onProgress?.("rankings", done, total),
  });
  return { admin, period, students: studentIds.length, capacity, ...result };
}

/**
 * A synthetic open period of any size with skewed popularity (Plackett–Luce
 * with Zipf weights), for load tests and benchmarks. Idempotent by its title,
 * which names every parameter.
 */
export async function seedSynthetic({
  db,
  students,
  topics,
  rankLength,
  zipfExponent = 1,
  seed = 1,
  onProgress,
}: {
  db: Database;
  students: number;
  topics: number;
  rankLength: number;
  zipfExponent?: number;
  seed?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}) {
  const title = `Synthetic ${students} students × ${topics} topics (top ${rankLength}, zipf ${zipfExponent}, seed ${seed})`;
  const capacity = Math.max(1, Math.ceil((students * 1.1) / topics));
  const period = await ensureOpenPeriod({
    db,
    title,
    description: "Generated preferences with skewed popularity for load tests.",
    topics: Array.from({ length: topics }, (_, index) => ({
      title: `Synthetic topic ${String(index + 1).padStart(String(topics).length, "0")}`,
      description: `Popularity rank ${index + 1} of ${topics}.`,
      supervisor: `Supervisor ${(index % 40) + 1}`,
      capacity,
    })),
  });
  const prefix = `syn-${seed}`;
  const emails = Array.from({ length: students }, (_, index) => `${prefix}-student-${index + 1}@topicmatch.test`);
  const studentIds = await ensureStudents({
    db,
    emails,
    password: DEMO_STUDENT_PASSWORD,
    onProgress: (done, total) => onProgress?.("students", done, total),
  });
  const generated = generatePreferences({
    students: studentIds,
    topics: period.topicIds,
    zipfExponent,
    seed,
    rankLength,
  });
  const result = await ensureRankings({
    db,
    periodId: period.periodId,
    rankings: studentIds.map((studentId) => ({ studentId, order: generated.rankings[studentId] })),
    onProgress: (done, total) => onProgress?.("rankings", done, total),
  });
  return { title, period, students: studentIds.length, capacity, ...result };
}

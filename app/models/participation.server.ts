import { and, asc, eq, gt, ilike, or, sql } from "drizzle-orm";
import { users } from "../../drizzle/schema";
import type { Executor } from "../db.server";

export type StudentParticipation = {
  id: string;
  email: string;
  name: string;
  rankedCount: number;
  lastRankedAt: string | null;
  canSignIn: boolean;
};

const rankedCount = (periodId: string) =>
  sql<number>`(select count(*) from rankings r where r.student_id = users.id and r.period_id = ${periodId})`.mapWith(Number);

/**
 * Students with how many topics each has ranked in the period, filtered by a
 * name/email search, in email order with keyset pagination (`after` = last email seen).
 */
export async function listStudentParticipation({
  db,
  periodId,
  search = "",
  status = "all",
  after,
  limit = 50,
}: {
  db: Executor;
  periodId: string;
  search?: string;
  status?: "all" | "ranked" | "not-ranked";
  after?: string;
  limit?: number;
}): Promise<{ students: StudentParticipation[]; nextAfter: string | null }> {
  const pattern = `%${search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
  const ranked = sql`exists (select 1 from rankings r where r.student_id = users.id and r.period_id = ${periodId})`;
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      rankedCount: rankedCount(periodId),
      lastRankedAt: sql<string | null>`(select max(r.updated_at) from rankings r where r.student_id = users.id and r.period_id = ${periodId})`,
      canSignIn: sql<boolean>`${users.passwordHash} is not null`,
    })
    .from(users)
    .where(
      and(
        eq(users.role, "student"),
        search ? or(ilike(users.email, pattern), ilike(users.name, pattern)) : undefined,
        status === "ranked" ? ranked : status === "not-ranked" ? sql`not ${ranked}` : undefined,
        after ? gt(users.email, after) : undefined,
      ),
    )
    .orderBy(asc(users.email))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map((row) => ({
    ...row,
    lastRankedAt: row.lastRankedAt ? new Date(row.lastRankedAt).toISOString() : null,
  }));
  return { students: page, nextAfter: rows.length > limit ? page[page.length - 1].email : null };
}

/** Students with at least one ranked topic in the period, and all students. */
export async function getParticipationCounts({ db, periodId }: { db: Executor; periodId: string }) {
  const [row] = await db
    .select({
      students: sql<number>`count(*)`.mapWith(Number),
      ranked: sql<number>`count(*) filter (where exists (select 1 from rankings r where r.student_id = users.id and r.period_id = ${periodId}))`.mapWith(
        Number,
      ),
    })
    .from(users)
    .where(eq(users.role, "student"));
  return { students: row.students, ranked: row.ranked, notRanked: row.students - row.ranked };
}

const BUCKETS_MINUTES = [1, 5, 15, 60, 180, 720, 1440];

/**
 * How many students had started ranking by each point in time: the first
 * RANKINGS_BATCH_UPDATED of each student, counted cumulatively in buckets
 * sized so the series has at most about 60 points.
 */
export async function getParticipationOverTime({
  db,
  periodId,
}: {
  db: Executor;
  periodId: string;
}): Promise<{ bucketMinutes: number; points: { at: string; ranked: number }[] }> {
  const firsts = sql`(select min(created_at) as at from events
      where period_id = ${periodId} and type = 'RANKINGS_BATCH_UPDATED'
      group by payload->>'studentId') firsts`;
  const [span] = await db.execute<{ minutes: number | null }>(
    sql`select extract(epoch from max(at) - min(at)) / 60 as minutes from ${firsts}`,
  );
  const minutes = Number(span?.minutes ?? 0);
  const bucketMinutes = BUCKETS_MINUTES.find((size) => minutes / size <= 60) ?? 1440;
  const rows = await db.execute<{ at: string; started: number }>(sql`
    select date_bin(make_interval(mins => ${bucketMinutes}), at, timestamptz '2000-01-01') as at, count(*)::int as started
    from ${firsts} group by 1 order by 1`);
  let total = 0;
  const points = [...rows].map((row) => {
    total += Number(row.started);
    return { at: new Date(row.at).toISOString(), ranked: total };
  });
  return { bucketMinutes, points };
}

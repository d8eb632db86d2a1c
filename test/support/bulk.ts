import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { getDb, withTransaction } from "~/db.server";
import { generatePreferences } from "~/models/assignment/synthetic";
import { closePeriod } from "~/models/period.server";
import { makeOpenPeriod } from "./factories";

/**
 * A closed period with thousands of students, written in a few array inserts.
 * The seed's per-student ranking batches take a minute for 3,000 students;
 * tests that only need the data (not the ranking history) use this instead.
 * Students are named "Student 00001"… so tests can predict the order.
 */
export async function makeLargeClosedPeriod({
  students,
  topicCount,
  capacity,
  rankLength,
  seed = 1,
}: {
  students: number;
  topicCount: number;
  capacity: number;
  rankLength: number;
  seed?: number;
}) {
  const db = getDb();
  const { period, topics } = await makeOpenPeriod({ topicCount, capacity });
  const tag = randomUUID().slice(0, 8);
  const width = String(students).length;
  const names = Array.from({ length: students }, (_, index) => `Student ${String(index + 1).padStart(width, "0")}`);
  const emails = names.map((_, index) => `bulk-${tag}-${index + 1}@example.edu`);
  const inserted = await db.execute<{ id: string }>(sql`
    insert into users (email, name, role)
    select email, name, 'student' from unnest(${sql.param(emails)}::text[], ${sql.param(names)}::text[]) with ordinality as t(email, name, n)
    order by n
    returning id`);
  const studentIds = [...inserted].map((row) => row.id);
  const generated = generatePreferences({
    students: studentIds,
    topics: topics.map((topic) => topic.id),
    zipfExponent: 1,
    seed,
    rankLength,
  });
  const rows = studentIds.flatMap((studentId) => generated.rankings[studentId].map((topicId, index) => [studentId, topicId, index + 1] as const));
  await withTransaction(db, async (tx) => {
    await tx.execute(sql`
      insert into rankings (student_id, topic_id, period_id, position)
      select s, t, ${period.id}, p
      from unnest(${sql.param(rows.map((row) => row[0]))}::uuid[], ${sql.param(rows.map((row) => row[1]))}::uuid[],
                  ${sql.param(rows.map((row) => row[2]))}::int[]) as r(s, t, p)`);
    await tx.execute(sql`
      insert into ranking_states (student_id, period_id, version)
      select s, ${period.id}, 1 from unnest(${sql.param(studentIds)}::uuid[]) as r(s)`);
    await closePeriod({ tx, periodId: period.id, actor: { actorId: null, actorType: "system", sessionId: "test" } });
  });
  return { periodId: period.id, topics, studentIds, names, emails };
}

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { getDb, withTransaction } from "~/db.server";
import { createPeriod, createTopic, openPeriod } from "~/models/period.server";
import { parseSoc, type SocData } from "~/models/preflib";
import { applyRankingBatch } from "~/models/ranking.server";
import { createUser, type Role } from "~/models/user.server";
import { AGH_SOC_PATH } from "../../scripts/lib/paths";

export const TEST_PASSWORD = "correct horse battery";
const SYSTEM = { actorId: null, actorType: "system" as const, sessionId: "test" };

export function loadAgh(): SocData {
  return parseSoc(readFileSync(AGH_SOC_PATH, "utf8"));
}

export async function makeUser({ role = "student", email, name }: { role?: Role; email?: string; name?: string } = {}) {
  const address = email ?? `${role}-${randomUUID().slice(0, 8)}@example.edu`;
  return withTransaction(getDb(), (tx) =>
    createUser({ tx, email: address, name: name ?? `Test ${role}`, password: TEST_PASSWORD, role, via: "seed" }),
  );
}

/** An open period with `topicCount` topics (capacity 2 each unless given). */
export async function makeOpenPeriod({
  topicCount = 5,
  capacity = 2,
  title = `Period ${randomUUID().slice(0, 8)}`,
}: { topicCount?: number; capacity?: number; title?: string } = {}) {
  return withTransaction(getDb(), async (tx) => {
    const period = await createPeriod({ tx, title });
    const topics = [];
    for (let index = 0; index < topicCount; index++) {
      topics.push(
        await createTopic({
          tx,
          periodId: period.id,
          title: `Topic ${String(index + 1).padStart(2, "0")}`,
          supervisor: `Supervisor ${index + 1}`,
          capacity,
          actor: SYSTEM,
        }),
      );
    }
    const opened = await openPeriod({ tx, periodId: period.id, actor: SYSTEM });
    return { period: opened, topics };
  });
}

/**
 * Saves a student's whole ranking through the ranking model, as one batch
 * from one tab: `topicIds` first to last. Without `baseVersion` no version check.
 */
export async function saveRanking({
  studentId,
  periodId,
  topicIds,
  sessionId = `tab-${studentId.slice(0, 4)}`,
  baseVersion = null,
}: {
  studentId: string;
  periodId: string;
  topicIds: string[];
  sessionId?: string;
  baseVersion?: number | null;
}) {
  return applyRankingBatch({
    db: getDb(),
    studentId,
    periodId,
    batchId: randomUUID(),
    sessionId,
    baseVersion,
    updates: topicIds.map((topicId, index) => ({ topicId, position: index + 1 })),
  });
}

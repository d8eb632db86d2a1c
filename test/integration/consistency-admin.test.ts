import { and, eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { consistencyRuns, rankings } from "../../drizzle/schema";
import { getDb } from "~/db.server";
import { action } from "~/routes/admin.queues";
import { makeOpenPeriod, makeUser, saveRanking } from "../support/factories";
import { postRequest, respond, sessionCookie } from "../support/routes";
import { releaseQueues } from "../support/queues";

afterAll(async () => {
  await releaseQueues();
});

type Summary = { consistency: { runId: number; before: string[]; repaired: string[]; after: string[] } | null; error: string | null };

describe("the consistency button", () => {
  it("finds an aggregate that disagrees with the rankings table, repairs it and records the run", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 3 });
    const student = await makeUser();
    await saveRanking({
      studentId: student.id,
      periodId: period.id,
      topicIds: [topics[0].id, topics[1].id],
      sessionId: "consistency-test",
    });
    // A write that bypassed the model: the table changes, the aggregates do not.
    await getDb()
      .update(rankings)
      .set({ position: 3 })
      .where(and(eq(rankings.studentId, student.id), eq(rankings.topicId, topics[1].id)));

    const admin = await makeUser({ role: "admin" });
    const cookie = await sessionCookie(admin.id);
    const run = async (fields: Record<string, string>) =>
      respond(() => action({ request: postRequest("/admin/queues", fields, cookie), params: {}, context: {} }));

    const response = await run({ intent: "consistency", periodId: period.id });
    expect(response.status).toBe(200);
    const { consistency } = (await response.json()) as Summary;
    expect(consistency!.before.join("\n")).toContain("Differences");
    expect(consistency!.repaired.length).toBeGreaterThan(0);
    expect(consistency!.after.join("\n")).toContain("OK: every count and sum matches");

    const [stored] = await getDb().select().from(consistencyRuns).where(eq(consistencyRuns.id, consistency!.runId));
    expect(stored).toMatchObject({ trigger: "admin", periodId: period.id, remaining: 0 });
    expect(stored.repaired).toBe(consistency!.repaired.length);

    const again = (await (await run({ intent: "consistency", periodId: "" })).json()) as Summary;
    expect(again.consistency!.before.join("\n")).toContain("OK: every count and sum matches");
    expect(again.consistency!.repaired).toEqual([]);

    const invalid = await run({ intent: "consistency", periodId: "not-a-period" });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as Summary).error).toBe("Choose a period.");
  });
});

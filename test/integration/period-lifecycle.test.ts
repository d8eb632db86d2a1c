import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { events, selectionPeriods, topics } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import {
  closeDuePeriods,
  closePeriod,
  createPeriod,
  createTopic,
  createTopics,
  deleteTopic,
  openPeriod,
  PeriodStateError,
  updatePeriod,
  updateTopic,
} from "~/models/period.server";
import { action } from "~/routes/admin.periods.$periodId._index";
import { makeUser } from "../support/factories";
import { postRequest, respond, sessionCookie } from "../support/routes";

const ADMIN = { actorId: null, actorType: "admin" as const, sessionId: "lifecycle-test" };
const MISSING = "00000000-0000-4000-8000-000000000000";

const run = <T>(work: Parameters<typeof withTransaction<T>>[1]) => withTransaction(getDb(), work);

async function draft(title = "Spring theses") {
  return run((tx) => createPeriod({ tx, title, description: "Pick a topic" }));
}

async function draftWithTopic() {
  const period = await draft();
  const topic = await run((tx) => createTopic({ tx, periodId: period.id, title: "Graphs", capacity: 2, actor: ADMIN }));
  return { period, topic };
}

async function refusal(work: () => Promise<unknown>): Promise<PeriodStateError> {
  const error = await work().then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PeriodStateError);
  return error as PeriodStateError;
}

async function periodEvents(periodId: string) {
  const rows = await getDb().select().from(events).where(eq(events.periodId, periodId)).orderBy(events.id);
  return rows.map((row) => ({ type: row.type, payload: row.payload }));
}

async function statusOf(periodId: string) {
  const [row] = await getDb().select({ status: selectionPeriods.status }).from(selectionPeriods).where(eq(selectionPeriods.id, periodId));
  return row.status;
}

async function forceStatus(periodId: string, status: "assigned" | "published") {
  await getDb().update(selectionPeriods).set({ status }).where(eq(selectionPeriods.id, periodId));
}

describe("draft", () => {
  it("is where a new period starts, and can be edited", async () => {
    const period = await draft();
    expect(period.status).toBe("draft");
    const closesAt = new Date("2030-01-01T12:00:00Z");
    const edited = await run((tx) => updatePeriod({ tx, periodId: period.id, title: "Autumn theses", closesAt }));
    expect(edited).toMatchObject({ title: "Autumn theses", description: "", closesAt });
  });

  it("refuses to open without topics, with a message, and records nothing", async () => {
    const period = await draft();
    const error = await refusal(() => run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN })));
    expect(error.status).toBe(409);
    expect(error.message).toBe("Add at least one topic before opening the period.");
    expect(await statusOf(period.id)).toBe("draft");
    expect(await periodEvents(period.id)).toEqual([]);
  });

  it("takes topics, their edits and removals; each created topic records TOPIC_CREATED", async () => {
    const { period, topic } = await draftWithTopic();
    const edited = await run((tx) =>
      updateTopic({ tx, periodId: period.id, topicId: topic.id, title: "Graph theory", supervisor: "Dr Kőnig", capacity: 3 }),
    );
    expect(edited).toMatchObject({ title: "Graph theory", supervisor: "Dr Kőnig", capacity: 3 });
    const second = await run((tx) => createTopic({ tx, periodId: period.id, title: "Flows", capacity: 1, actor: ADMIN }));
    await run((tx) => deleteTopic({ tx, periodId: period.id, topicId: second.id }));
    const left = await getDb().select({ id: topics.id }).from(topics).where(eq(topics.periodId, period.id));
    expect(left).toEqual([{ id: topic.id }]);
    expect(await periodEvents(period.id)).toEqual([
      { type: "TOPIC_CREATED", payload: { topicId: topic.id, title: "Graphs", capacity: 2 } },
      { type: "TOPIC_CREATED", payload: { topicId: second.id, title: "Flows", capacity: 1 } },
    ]);
  });

  it("adds a batch of topics once when the same batch arrives twice at the same moment", async () => {
    const period = await draft();
    const batch = [
      { title: "Graphs", capacity: 2 },
      { title: "Flows", capacity: 1 },
    ];
    const results = await Promise.allSettled(
      [1, 2].map(() => run((tx) => createTopics({ tx, periodId: period.id, topics: batch, actor: ADMIN }))),
    );
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(PeriodStateError);
    expect(rejected.reason.message).toMatch(/^The period already has a topic titled "(Graphs|Flows)"\.$/);
    const rows = await getDb().select({ title: topics.title }).from(topics).where(eq(topics.periodId, period.id));
    expect(rows.map((row) => row.title).sort()).toEqual(["Flows", "Graphs"]);
    const [flows] = await getDb().select().from(topics).where(and(eq(topics.periodId, period.id), eq(topics.title, "Flows")));
    const renamed = await refusal(() =>
      run((tx) => updateTopic({ tx, periodId: period.id, topicId: flows.id, title: "graphs", capacity: 1 })),
    );
    expect([renamed.status, renamed.message]).toEqual([409, 'The period already has a topic titled "Graphs".']);
    const refusedSingle = await refusal(() => run((tx) => createTopic({ tx, periodId: period.id, title: "GRAPHS", capacity: 1, actor: ADMIN })));
    expect(refusedSingle.message).toBe('The period already has a topic titled "Graphs".');
  });

  it("refuses a capacity below 1 in the database itself", async () => {
    const period = await draft();
    await expect(run((tx) => createTopic({ tx, periodId: period.id, title: "Zero", capacity: 0, actor: ADMIN }))).rejects.toThrow();
    const rows = await getDb().select().from(topics).where(eq(topics.periodId, period.id));
    expect(rows).toEqual([]);
  });

  it("cannot be closed", async () => {
    const { period } = await draftWithTopic();
    const error = await refusal(() => run((tx) => closePeriod({ tx, periodId: period.id, actor: ADMIN })));
    expect([error.status, error.message]).toEqual([409, "A period that is draft cannot be closed."]);
  });
});

describe("draft → open", () => {
  it("opens a period with topics, sets its opening time and records SELECTION_PERIOD_OPENED", async () => {
    const { period } = await draftWithTopic();
    const opened = await run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN }));
    expect(opened.status).toBe("open");
    expect(opened.opensAt).toBeInstanceOf(Date);
    const recorded = await periodEvents(period.id);
    expect(recorded.at(-1)).toEqual({ type: "SELECTION_PERIOD_OPENED", payload: { periodId: period.id, topicCount: 1 } });
  });

  it("opens once when two admins open at the same moment", async () => {
    const { period } = await draftWithTopic();
    const results = await Promise.allSettled(
      [1, 2].map(() => run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN }))),
    );
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(PeriodStateError);
    expect(rejected.reason.message).toBe("A period that is open cannot be opened.");
    const opened = (await periodEvents(period.id)).filter((event) => event.type === "SELECTION_PERIOD_OPENED");
    expect(opened).toHaveLength(1);
  });

  it("freezes topics: adding, editing and removing are refused with 409", async () => {
    const { period, topic } = await draftWithTopic();
    await run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN }));
    const add = await refusal(() => run((tx) => createTopic({ tx, periodId: period.id, title: "Late", capacity: 1, actor: ADMIN })));
    const edit = await refusal(() =>
      run((tx) => updateTopic({ tx, periodId: period.id, topicId: topic.id, title: "Changed", capacity: 9 })),
    );
    const remove = await refusal(() => run((tx) => deleteTopic({ tx, periodId: period.id, topicId: topic.id })));
    expect([add, edit, remove].map((error) => [error.status, error.message])).toEqual([
      [409, "Topics can only be added while the period is a draft."],
      [409, "Topics can only be edited while the period is a draft."],
      [409, "Topics can only be removed while the period is a draft."],
    ]);
    const [row] = await getDb().select().from(topics).where(eq(topics.id, topic.id));
    expect(row).toMatchObject({ title: "Graphs", capacity: 2 });
  });

  it("still lets the admin move the close time of an open period", async () => {
    const { period } = await draftWithTopic();
    await run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN }));
    const closesAt = new Date("2031-06-30T16:00:00Z");
    const edited = await run((tx) => updatePeriod({ tx, periodId: period.id, title: period.title, closesAt }));
    expect(edited).toMatchObject({ status: "open", closesAt });
  });
});

describe("open → closed", () => {
  it("closes by hand, records SELECTION_PERIOD_CLOSED (not automatic) and cannot reopen or close again", async () => {
    const { period } = await draftWithTopic();
    await run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN }));
    const closed = await run((tx) => closePeriod({ tx, periodId: period.id, actor: ADMIN }));
    expect(closed.status).toBe("closed");
    expect(closed.closesAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    expect((await periodEvents(period.id)).at(-1)).toEqual({
      type: "SELECTION_PERIOD_CLOSED",
      payload: { periodId: period.id, automatic: false },
    });
    const again = await refusal(() => run((tx) => closePeriod({ tx, periodId: period.id, actor: ADMIN })));
    const reopen = await refusal(() => run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN })));
    const edit = await refusal(() => run((tx) => updatePeriod({ tx, periodId: period.id, title: "Renamed" })));
    expect([again.message, reopen.message, edit.message]).toEqual([
      "A period that is closed cannot be closed.",
      "A period that is closed cannot be opened.",
      "A period that is closed can no longer be edited.",
    ]);
    expect((await periodEvents(period.id)).filter((event) => event.type === "SELECTION_PERIOD_CLOSED")).toHaveLength(1);
  });

  it("closes automatically: closeDuePeriods closes open periods past their close time, and only those", async () => {
    const due = await draftWithTopic();
    const later = await draftWithTopic();
    const undated = await draftWithTopic();
    for (const { period } of [due, later, undated]) await run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN }));
    await getDb()
      .update(selectionPeriods)
      .set({ closesAt: sql`now() - interval '1 minute'` })
      .where(eq(selectionPeriods.id, due.period.id));
    await getDb()
      .update(selectionPeriods)
      .set({ closesAt: sql`now() + interval '1 hour'` })
      .where(eq(selectionPeriods.id, later.period.id));
    const closed = await run((tx) => closeDuePeriods({ tx }));
    expect(closed).toEqual([due.period.id]);
    expect([await statusOf(due.period.id), await statusOf(later.period.id), await statusOf(undated.period.id)]).toEqual([
      "closed",
      "open",
      "open",
    ]);
    expect((await periodEvents(due.period.id)).at(-1)).toEqual({
      type: "SELECTION_PERIOD_CLOSED",
      payload: { periodId: due.period.id, automatic: true },
    });
    expect(await run((tx) => closeDuePeriods({ tx }))).toEqual([]);
  });
});

describe("later states and missing periods", () => {
  it.each(["assigned", "published"] as const)("a %s period can be neither opened, closed nor edited", async (status) => {
    const { period, topic } = await draftWithTopic();
    await forceStatus(period.id, status);
    const errors = await Promise.all([
      refusal(() => run((tx) => openPeriod({ tx, periodId: period.id, actor: ADMIN }))),
      refusal(() => run((tx) => closePeriod({ tx, periodId: period.id, actor: ADMIN }))),
      refusal(() => run((tx) => updatePeriod({ tx, periodId: period.id, title: "Renamed" }))),
      refusal(() => run((tx) => deleteTopic({ tx, periodId: period.id, topicId: topic.id }))),
    ]);
    expect(errors.map((error) => [error.status, error.message])).toEqual([
      [409, `A period that is ${status} cannot be opened.`],
      [409, `A period that is ${status} cannot be closed.`],
      [409, `A period that is ${status} can no longer be edited.`],
      [409, "Topics can only be removed while the period is a draft."],
    ]);
    expect(await statusOf(period.id)).toBe(status);
  });

  it("answers 404 for a period or topic that does not exist", async () => {
    const { period } = await draftWithTopic();
    const errors = await Promise.all([
      refusal(() => run((tx) => openPeriod({ tx, periodId: MISSING, actor: ADMIN }))),
      refusal(() => run((tx) => closePeriod({ tx, periodId: MISSING, actor: ADMIN }))),
      refusal(() => run((tx) => updatePeriod({ tx, periodId: MISSING, title: "Nothing" }))),
      refusal(() => run((tx) => createTopic({ tx, periodId: MISSING, title: "Nowhere", capacity: 1, actor: ADMIN }))),
      refusal(() => run((tx) => updateTopic({ tx, periodId: period.id, topicId: MISSING, title: "No", capacity: 1 }))),
    ]);
    expect(errors.map((error) => error.status)).toEqual([404, 404, 404, 404, 404]);
  });

  it("does not let a topic be edited through another period's id", async () => {
    const first = await draftWithTopic();
    const second = await draftWithTopic();
    const error = await refusal(() =>
      run((tx) => updateTopic({ tx, periodId: second.period.id, topicId: first.topic.id, title: "Hijacked", capacity: 5 })),
    );
    expect([error.status, error.message]).toEqual([404, "That topic does not exist in this period."]);
  });
});

describe("the period page's actions", () => {
  it("answer an invalid transition with 409 and its message, and a valid one with the new state", async () => {
    const admin = await makeUser({ role: "admin" });
    const cookie = await sessionCookie(admin.id);
    const { period } = await draftWithTopic();
    const submit = (intent: string) =>
      respond(() =>
        action({ request: postRequest(`/admin/periods/${period.id}`, { intent }, cookie), params: { periodId: period.id }, context: {} }),
      );

    const early = await submit("close");
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: "A period that is draft cannot be closed." });
    const opened = await submit("open");
    expect(opened.status).toBe(200);
    expect(await opened.json()).toMatchObject({ done: "The period is open." });
    const twice = await submit("open");
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ error: "A period that is open cannot be opened." });
    const unknown = await submit("publish");
    expect(unknown.status).toBe(400);
    expect(await statusOf(period.id)).toBe("open");
    const [event] = (await periodEvents(period.id)).filter((recorded) => recorded.type === "SELECTION_PERIOD_OPENED");
    expect(event).toEqual({ type: "SELECTION_PERIOD_OPENED", payload: { periodId: period.id, topicCount: 1 } });
  });
});

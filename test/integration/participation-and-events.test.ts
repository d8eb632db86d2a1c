import { describe, expect, it } from "vitest";
import { getDb } from "~/db.server";
import { iteratePeriodEvents, listPeriodEvents, EventFilterSchema } from "~/models/event-log.server";
import { getParticipationCounts, getParticipationOverTime, listStudentParticipation } from "~/models/participation.server";
import { loader as exportLoader } from "~/routes/admin.periods.$periodId.events.export";
import { makeOpenPeriod, makeUser, saveRanking } from "../support/factories";
import { getRequest, respond, sessionCookie } from "../support/routes";

describe("participation", () => {
  it("counts ranked and not-yet students, lists them with search and keyset pages, and charts first rankings over time", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 3 });
    const [ada, bob, cy] = await Promise.all([
      makeUser({ email: "ada@uni.example", name: "Ada Lovelace" }),
      makeUser({ email: "bob@uni.example", name: "Bob Ross" }),
      makeUser({ email: "cy@uni.example", name: "Cy Young" }),
    ]);
    await saveRanking({ studentId: ada.id, periodId: period.id, topicIds: [topics[0].id, topics[1].id] });
    await saveRanking({ studentId: ada.id, periodId: period.id, topicIds: [topics[1].id, topics[0].id] });
    await saveRanking({ studentId: cy.id, periodId: period.id, topicIds: [topics[1].id] });

    expect(await getParticipationCounts({ db: getDb(), periodId: period.id })).toEqual({ students: 3, ranked: 2, notRanked: 1 });

    const all = await listStudentParticipation({ db: getDb(), periodId: period.id, limit: 2 });
    expect(all.students.map((student) => [student.email, student.rankedCount])).toEqual([
      ["ada@uni.example", 2],
      ["bob@uni.example", 0],
    ]);
    expect(all.nextAfter).toBe("bob@uni.example");
    const rest = await listStudentParticipation({ db: getDb(), periodId: period.id, limit: 2, after: all.nextAfter! });
    expect(rest.students.map((student) => student.email)).toEqual(["cy@uni.example"]);
    expect(rest.nextAfter).toBeNull();

    const search = await listStudentParticipation({ db: getDb(), periodId: period.id, search: "ROSS" });
    expect(search.students.map((student) => student.id)).toEqual([bob.id]);
    const notYet = await listStudentParticipation({ db: getDb(), periodId: period.id, status: "not-ranked" });
    expect(notYet.students.map((student) => student.id)).toEqual([bob.id]);
    const wildcard = await listStudentParticipation({ db: getDb(), periodId: period.id, search: "%" });
    expect(wildcard.students).toEqual([]);

    const overTime = await getParticipationOverTime({ db: getDb(), periodId: period.id });
    expect(overTime.bucketMinutes).toBe(1);
    expect(overTime.points.at(-1)?.ranked).toBe(2);
  });
});

describe("event log", () => {
  it("filters by type, actor, session and time, pages by id, and exports the same events", async () => {
    const { period, topics } = await makeOpenPeriod({ topicCount: 2 });
    const student = await makeUser({ email: "eve@uni.example" });
    const admin = await makeUser({ role: "admin" });
    for (let index = 0; index < 5; index++) {
      await saveRanking({
        studentId: student.id,
        periodId: period.id,
        topicIds: index % 2 ? [topics[0].id, topics[1].id] : [topics[1].id, topics[0].id],
        sessionId: index < 3 ? "tab-a" : "tab-b",
      });
    }
    const filter = (query: Record<string, string>) => EventFilterSchema.parse(query);
    const db = getDb();

    const everything = await listPeriodEvents({ db, periodId: period.id, filter: filter({}) });
    expect(everything.events.map((event) => event.type)).toEqual([
      ...Array(5).fill("RANKINGS_BATCH_UPDATED"),
      "SELECTION_PERIOD_OPENED",
      "TOPIC_CREATED",
      "TOPIC_CREATED",
    ]);

    const byType = await listPeriodEvents({ db, periodId: period.id, filter: filter({ type: "TOPIC_CREATED" }) });
    expect(byType.events).toHaveLength(2);
    const byActor = await listPeriodEvents({ db, periodId: period.id, filter: filter({ actor: "EVE@uni.example" }) });
    expect(byActor.events).toHaveLength(5);
    expect(byActor.events[0].actorEmail).toBe("eve@uni.example");
    const bySession = await listPeriodEvents({ db, periodId: period.id, filter: filter({ session: "tab-b" }) });
    expect(bySession.events).toHaveLength(2);
    const future = await listPeriodEvents({ db, periodId: period.id, filter: filter({ from: "2999-01-01T00:00" }) });
    expect(future.events).toEqual([]);
    const past = await listPeriodEvents({ db, periodId: period.id, filter: filter({ to: "2000-01-01T00:00" }) });
    expect(past.events).toEqual([]);

    const first = await listPeriodEvents({ db, periodId: period.id, filter: filter({ actor: student.id }), limit: 3 });
    const second = await listPeriodEvents({
      db,
      periodId: period.id,
      filter: filter({ actor: student.id, before: String(first.nextBefore) }),
      limit: 3,
    });
    expect(second.nextBefore).toBeNull();
    const paged = [...first.events, ...second.events].map((event) => event.id);
    expect(paged).toEqual(byActor.events.map((event) => event.id));

    const all = [];
    for await (const event of iteratePeriodEvents({ db, periodId: period.id, filter: filter({}) })) all.push(event.id);
    expect(all).toEqual(everything.events.map((event) => event.id));

    const cookie = await sessionCookie(admin.id);
    const csv = await respond(() =>
      exportLoader({ request: getRequest(`/x?format=csv&session=tab-a`, cookie), params: { periodId: period.id }, context: {} }),
    );
    expect(csv.headers.get("Content-Type")).toContain("text/csv");
    const lines = (await csv.text()).trim().split(/\r?\n/);
    expect(lines[0]).toBe("id,createdAt,type,actorType,actorId,actorEmail,sessionId,payload");
    expect(lines).toHaveLength(4);
    const json = await respond(() =>
      exportLoader({ request: getRequest(`/x?format=json&type=TOPIC_CREATED`, cookie), params: { periodId: period.id }, context: {} }),
    );
    const exported = (await json.json()) as { type: string; payload: { title: string } }[];
    expect(exported.map((event) => event.payload.title).sort()).toEqual(topics.map((topic) => topic.title).sort());

    const bad = await respond(() =>
      exportLoader({ request: getRequest(`/x?format=xml`, cookie), params: { periodId: period.id }, context: {} }),
    );
    expect(bad.status).toBe(400);
    const badRange = await respond(() =>
      exportLoader({
        request: getRequest(`/x?format=csv&from=2026-02-01T00:00&to=2026-01-01T00:00`, cookie),
        params: { periodId: period.id },
        context: {},
      }),
    );
    expect(badRange.status).toBe(400);
    expect(await badRange.json()).toEqual({ error: "The end must be after the start." });
  });
});

import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb, withTransaction } from "~/db.server";
import { closePeriod } from "~/models/period.server";
import { action as loginAction } from "~/routes/login";
import { action as rankingAction, loader as rankingLoader } from "~/routes/student.ranking";
import { makeOpenPeriod, makeUser, TEST_PASSWORD } from "../support/factories";

const BASE = "http://localhost";
const args = (request: Request) => ({ request, params: {}, context: { clientAddress: "203.0.113.9" } });

async function respond(run: () => Promise<unknown>): Promise<Response> {
  try {
    return (await run()) as Response;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

async function signIn(email: string): Promise<string> {
  const response = await respond(() =>
    loginAction(
      args(
        new Request(`${BASE}/login`, {
          method: "POST",
          body: new URLSearchParams({ email, password: TEST_PASSWORD }),
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
        }),
      ),
    ),
  );
  expect(response.status).toBe(302);
  return response.headers.get("Set-Cookie")!.split(";")[0];
}

function postBatch(cookie: string | null, body: unknown, contentType = "application/json") {
  return respond(() =>
    rankingAction(
      args(
        new Request(`${BASE}/student/ranking`, {
          method: "POST",
          body: typeof body === "string" ? body : JSON.stringify(body),
          headers: { "Content-Type": contentType, ...(cookie ? { Cookie: cookie } : {}) },
        }),
      ),
    ),
  );
}

/** Everything a batch could write; equal snapshots mean nothing changed. */
async function snapshot() {
  const result = await getDb().execute<{ state: string }>(sql`
    select json_build_object(
      'rankings', (select coalesce(json_agg(r order by r.student_id, r.topic_id), '[]') from (select student_id, topic_id, position, previous_position from rankings) r),
      'states', (select coalesce(json_agg(s order by s.student_id, s.period_id), '[]') from ranking_states s),
      'batches', (select count(*) from ranking_batches),
      'events', (select coalesce(max(id), 0) from events),
      'aggregateNodes', (select coalesce(json_agg(n order by n.id), '[]') from (select id, keys, sums, count, totals from aggregate_nodes) n),
      'aggregateTrees', (select count(*) from aggregate_trees),
      'aggregatePending', (select coalesce(max(seq), 0) from aggregate_pending)
    )::text as state`);
  return result[0].state;
}

let period: Awaited<ReturnType<typeof makeOpenPeriod>>;
let otherPeriod: Awaited<ReturnType<typeof makeOpenPeriod>>;
let student: Awaited<ReturnType<typeof makeUser>>;
let other: Awaited<ReturnType<typeof makeUser>>;
let cookie: string;
let otherCookie: string;
let t: string[];

beforeAll(async () => {
  [period, otherPeriod, student, other] = await Promise.all([
    makeOpenPeriod({ topicCount: 5 }),
    makeOpenPeriod({ topicCount: 3 }),
    makeUser(),
    makeUser(),
  ]);
  t = period.topics.map((topic) => topic.id);
  [cookie, otherCookie] = await Promise.all([signIn(student.email), signIn(other.email)]);
});

async function save(updates: { topicId: string; position: number | null }[], expectedVersion: number, batchId = randomUUID()) {
  const response = await postBatch(cookie, { periodId: period.period.id, batchId, expectedVersion, updates });
  return { response, body: await response.clone().json() };
}

describe("POST /student/ranking", () => {
  it("applies a batch, answers the order, version and affected topics, and answers a replay with the stored result", async () => {
    const batchId = randomUUID();
    const first = await save(
      [
        { topicId: t[2], position: 1 },
        { topicId: t[0], position: 2 },
      ],
      0,
      batchId,
    );
    expect(first.response.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, order: [t[2], t[0]], version: 1, replayed: false });
    expect(first.body.affectedTopicIds).toEqual([t[0], t[2]].sort());

    const second = await save([{ topicId: t[4], position: 1 }, { topicId: t[2], position: 2 }, { topicId: t[0], position: 3 }], 1);
    expect(second.body.order).toEqual([t[4], t[2], t[0]]);

    const before = await snapshot();
    const replay = await save([{ topicId: t[1], position: 1 }], 0, batchId);
    expect(replay.response.status).toBe(200);
    expect(replay.body).toEqual({ ...first.body, replayed: true });
    expect(await snapshot()).toBe(before);
  });

  it("undoes the last batch and answers 409 when nothing is left to undo", async () => {
    const undo = await postBatch(cookie, { intent: "undo", periodId: period.period.id, batchId: randomUUID(), expectedVersion: 2 });
    expect(undo.status).toBe(200);
    expect(await undo.json()).toMatchObject({ order: [t[2], t[0]], version: 3 });
    const again = await postBatch(cookie, { intent: "undo", periodId: period.period.id, batchId: randomUUID(), expectedVersion: 3 });
    expect(again.status).toBe(200);
    expect((await again.json()).order).toEqual([]);
    const before = await snapshot();
    const none = await postBatch(cookie, { intent: "undo", periodId: period.period.id, batchId: randomUUID(), expectedVersion: 4 });
    expect(none.status).toBe(409);
    expect(await none.json()).toMatchObject({ code: "nothing-to-undo", error: "There is nothing left to undo." });
    expect(await snapshot()).toBe(before);
    const redo = await save([{ topicId: t[0], position: 1 }, { topicId: t[1], position: 2 }], 4);
    expect(redo.body.order).toEqual([t[0], t[1]]);
  });

  it("answers a batch made against an old version with 409 and the saved order, and changes nothing", async () => {
    const before = await snapshot();
    const stale = await save([{ topicId: t[3], position: 1 }], 1);
    expect(stale.response.status).toBe(409);
    expect(stale.body).toMatchObject({ code: "stale-version", current: { order: [t[0], t[1]], version: 5 } });
    expect(stale.body.error).toMatch(/another tab/);
    expect(await snapshot()).toBe(before);
  });

  const badInputs: { name: string; status: number; message: RegExp; send: () => Promise<Response> }[] = [
    { name: "malformed JSON", status: 400, message: /not valid JSON/, send: () => postBatch(cookie, "{ not json") },
    {
      name: "a form body instead of JSON",
      status: 415,
      message: /as JSON/,
      send: () => postBatch(cookie, "periodId=x", "application/x-www-form-urlencoded"),
    },
    {
      name: "a missing batch id",
      status: 400,
      message: /batchId/,
      send: () => postBatch(cookie, { periodId: period.period.id, expectedVersion: 5, updates: [] }),
    },
    {
      name: "an unknown field",
      status: 400,
      message: /Unrecognized key/i,
      send: () =>
        postBatch(cookie, { periodId: period.period.id, batchId: randomUUID(), expectedVersion: 5, updates: [], extra: 1 }),
    },
    {
      name: "a position that is not a whole number",
      status: 400,
      message: /updates\.0\.position/,
      send: () => save([{ topicId: t[0], position: 1.5 }], 5).then((r) => r.response),
    },
    {
      name: "position 0",
      status: 400,
      message: /updates\.0\.position/,
      send: () => save([{ topicId: t[0], position: 0 }], 5).then((r) => r.response),
    },
    {
      name: "a topic named twice",
      status: 400,
      message: /more than once/,
      send: () => save([{ topicId: t[2], position: 3 }, { topicId: t[2], position: 3 }], 5).then((r) => r.response),
    },
    {
      name: "two topics at one position",
      status: 400,
      message: /both be at position 1/,
      send: () => save([{ topicId: t[2], position: 1 }], 5).then((r) => r.response),
    },
    {
      name: "a gap",
      status: 400,
      message: /leave a gap/,
      send: () => save([{ topicId: t[1], position: null }, { topicId: t[2], position: 3 }], 5).then((r) => r.response),
    },
    {
      name: "a position beyond the list",
      status: 400,
      message: /out of range/,
      send: () => save([{ topicId: t[2], position: 9 }], 5).then((r) => r.response),
    },
    {
      name: "a topic of another period",
      status: 400,
      message: /Not a topic of this selection period/,
      send: () => save([{ topicId: otherPeriod.topics[0].id, position: 3 }], 5).then((r) => r.response),
    },
    {
      name: "a period that does not exist",
      status: 404,
      message: /does not exist/,
      send: () => postBatch(cookie, { periodId: randomUUID(), batchId: randomUUID(), expectedVersion: 0, updates: [] }),
    },
    {
      name: "another student's id",
      status: 403,
      message: /your own ranking/,
      send: () =>
        postBatch(cookie, {
          periodId: period.period.id,
          batchId: randomUUID(),
          expectedVersion: 0,
          studentId: other.id,
          updates: [{ topicId: t[0], position: 1 }],
        }),
    },
  ];

  for (const { name, status, message, send } of badInputs) {
    it(`refuses ${name} with ${status} and changes nothing`, async () => {
      const before = await snapshot();
      const response = await send();
      expect(response.status).toBe(status);
      const body = await response.json();
      expect(body.error).toMatch(message);
      expect(await snapshot()).toBe(before);
    });
  }

  it("refuses a batch id another student already used, and changes nothing", async () => {
    const batchId = randomUUID();
    expect((await save([{ topicId: t[3], position: 3 }], 5, batchId)).response.status).toBe(200);
    const before = await snapshot();
    const response = await postBatch(otherCookie, {
      periodId: period.period.id,
      batchId,
      expectedVersion: 0,
      updates: [{ topicId: t[0], position: 1 }],
    });
    expect(response.status).toBe(409);
    expect((await response.json()).code).toBe("batch-id-reused");
    expect(await snapshot()).toBe(before);
  });

  it("answers a GET with 405, saying to POST and where the ranking page is", async () => {
    const response = await rankingLoader();
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ code: "method-not-allowed", error: expect.stringContaining("/student") });
  });

  it("sends visitors who are not signed in to the login page and refuses admins, changing nothing", async () => {
    const before = await snapshot();
    const body = { periodId: period.period.id, batchId: randomUUID(), expectedVersion: 6, updates: [{ topicId: t[4], position: 1 }] };
    const anonymous = await postBatch(null, body);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("Location")).toMatch(/^\/login/);
    const admin = await makeUser({ role: "admin" });
    const adminResponse = await postBatch(await signIn(admin.email), body);
    expect(adminResponse.status).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it("refuses every change once the period is closed, and changes nothing", async () => {
    await withTransaction(getDb(), (tx) =>
      closePeriod({ tx, periodId: period.period.id, actor: { actorId: null, actorType: "system", sessionId: null } }),
    );
    const before = await snapshot();
    const response = (await save([{ topicId: t[4], position: 1 }], 6)).response;
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "period-not-open", error: expect.stringMatching(/closed/) });
    const undo = await postBatch(cookie, { intent: "undo", periodId: period.period.id, batchId: randomUUID(), expectedVersion: 6 });
    expect(undo.status).toBe(409);
    expect(await snapshot()).toBe(before);
  });
});

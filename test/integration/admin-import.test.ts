import { eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { events, studentInvitations, topics, users } from "../../drizzle/schema";
import { getDb, withTransaction } from "~/db.server";
import { createPeriod } from "~/models/period.server";
import { verifyLogin } from "~/models/user.server";
import { action as activateAction } from "~/routes/activate";
import { action as importTopicsAction } from "~/routes/admin.periods.$periodId.topics.import";
import { action as studentsAction } from "~/routes/admin.periods.$periodId.students._index";
import { action as importStudentsAction } from "~/routes/admin.students.import";
import { makeOpenPeriod, makeUser } from "../support/factories";
import { postRequest, respond, sessionCookie } from "../support/routes";

let adminCookie: string;

beforeEach(async () => {
  const admin = await makeUser({ role: "admin" });
  adminCookie = await sessionCookie(admin.id);
});

async function importTopics(periodId: string, intent: "preview" | "import", csv: string, asFile = false) {
  const form = new FormData();
  form.set("intent", intent);
  if (asFile) form.set("file", new File([csv], "topics.csv", { type: "text/csv" }));
  else form.set("csv", csv);
  const request = postRequest(`/admin/periods/${periodId}/topics/import`, form, adminCookie);
  return respond(() => importTopicsAction({ request, params: { periodId }, context: {} }));
}

async function topicCount(periodId: string) {
  const [{ count }] = await getDb()
    .select({ count: sql<number>`count(*)::int` })
    .from(topics)
    .where(eq(topics.periodId, periodId));
  return count;
}

const GOOD_TOPICS = [
  "title,supervisor,capacity,description",
  'Graph colouring,Dr Brooks,2,"Heuristics, bounds"',
  "Compiler testing,Dr Yang,1,",
  "Quantum walks,Dr Childs,3,Simulation",
].join("\n");

const BROKEN_TOPICS = [
  "title,supervisor,capacity",
  "Graph colouring,Dr Brooks,2",
  "Compiler testing,Dr Yang,none",
  ",Dr Childs,3",
  "Graph colouring,Dr Brooks,1",
  "Only two,fields",
].join("\n");

describe("topic CSV import", () => {
  it("previews a clean file without writing, then imports every row with TOPIC_CREATED each", async () => {
    const period = await withTransaction(getDb(), (tx) => createPeriod({ tx, title: "Import target" }));
    const preview = await importTopics(period.id, "preview", GOOD_TOPICS, true);
    expect(preview.status).toBe(200);
    const body = (await preview.json()) as { preview: { line: number; value: { title: string } }[]; errors: unknown[]; csv: string };
    expect(body.errors).toEqual([]);
    expect(body.preview.map((row) => [row.line, row.value.title])).toEqual([
      [2, "Graph colouring"],
      [3, "Compiler testing"],
      [4, "Quantum walks"],
    ]);
    expect(await topicCount(period.id)).toBe(0);

    const imported = await importTopics(period.id, "import", body.csv);
    expect(imported.status).toBe(302);
    expect(imported.headers.get("Location")).toBe(`/admin/periods/${period.id}/topics`);
    const rows = await getDb().select().from(topics).where(eq(topics.periodId, period.id)).orderBy(topics.title);
    expect(rows.map(({ title, supervisor, capacity, description }) => ({ title, supervisor, capacity, description }))).toEqual([
      { title: "Compiler testing", supervisor: "Dr Yang", capacity: 1, description: "" },
      { title: "Graph colouring", supervisor: "Dr Brooks", capacity: 2, description: "Heuristics, bounds" },
      { title: "Quantum walks", supervisor: "Dr Childs", capacity: 3, description: "Simulation" },
    ]);
    const created = await getDb().select().from(events).where(eq(events.type, "TOPIC_CREATED"));
    expect(created.filter((event) => event.periodId === period.id)).toHaveLength(3);
  });

  it("answers a broken file with the exact per-line report and imports nothing, even when asked to import", async () => {
    const period = await withTransaction(getDb(), (tx) => createPeriod({ tx, title: "Broken import" }));
    for (const intent of ["preview", "import"] as const) {
      const response = await importTopics(period.id, intent, BROKEN_TOPICS);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: unknown }).errors).toEqual([
        { line: 3, column: "capacity", message: "The capacity must be a whole number." },
        { line: 4, column: "title", message: "The title is empty." },
        { line: 5, column: "title", message: "The same title is on line 2." },
        { line: 6, column: "", message: "Expected 3 fields, found 2." },
      ]);
    }
    expect(await topicCount(period.id)).toBe(0);
  });

  it("refuses titles the period already has", async () => {
    const period = await withTransaction(getDb(), (tx) => createPeriod({ tx, title: "Twice" }));
    expect((await importTopics(period.id, "import", GOOD_TOPICS)).status).toBe(302);
    const again = await importTopics(period.id, "import", "title,capacity\nquantum WALKS,2\nNew one,1\n");
    expect(again.status).toBe(400);
    expect(((await again.json()) as { errors: unknown }).errors).toEqual([
      { line: 2, column: "title", message: "The period already has a topic with this title." },
    ]);
    expect(await topicCount(period.id)).toBe(3);
  });

  it("imports a file once when it is submitted twice at the same moment", async () => {
    const period = await withTransaction(getDb(), (tx) => createPeriod({ tx, title: "Double click" }));
    const responses = await Promise.all([importTopics(period.id, "import", GOOD_TOPICS), importTopics(period.id, "import", GOOD_TOPICS)]);
    const statuses = responses.map((response) => response.status).sort();
    // The later one is refused either by the file check (400, it saw the first import's titles)
    // or under the period lock (409, both had passed the file check).
    expect(statuses[0]).toBe(302);
    expect([400, 409]).toContain(statuses[1]);
    const refused = (await responses.find((response) => response.status !== 302)!.json()) as { error?: string; errors: unknown[] };
    if (statuses[1] === 409) expect(refused.error).toMatch(/^The period already has a topic titled "/);
    else expect(refused.errors).toHaveLength(3);
    expect(await topicCount(period.id)).toBe(3);
  });

  it("answers 409 and imports nothing into a period that is already open", async () => {
    const { period } = await makeOpenPeriod({ topicCount: 1 });
    const response = await importTopics(period.id, "import", GOOD_TOPICS);
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: string }).error).toBe("Topics can only be added while the period is a draft.");
    expect(await topicCount(period.id)).toBe(1);
  });
});

async function importStudents(intent: "preview" | "import", csv: string) {
  const request = postRequest("/admin/students/import", { intent, csv }, adminCookie);
  return respond(() => importStudentsAction({ request, params: {}, context: {} }));
}

type Issued = { issued: { email: string; name: string; code: string }[]; existing: string[] };

describe("student CSV import and one-time codes", () => {
  it("creates password-less accounts with one code each, stores only hashes, and leaves existing students alone", async () => {
    await makeUser({ email: "known@uni.example", name: "Known Student" });
    const csv = "email,name\nAda@Uni.example,Ada Lovelace\nknown@uni.example,Renamed?\nalan@uni.example,Alan Turing\n";
    const preview = await importStudents("preview", csv);
    expect(preview.status).toBe(200);
    const previewed = (await preview.json()) as { preview: { email: string; existing: boolean }[] };
    expect(previewed.preview.map((row) => [row.email, row.existing])).toEqual([
      ["ada@uni.example", false],
      ["known@uni.example", true],
      ["alan@uni.example", false],
    ]);
    expect(await getDb().select().from(users).where(eq(users.email, "ada@uni.example"))).toEqual([]);

    const response = await importStudents("import", csv);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Issued;
    expect(body.existing).toEqual(["known@uni.example"]);
    expect(body.issued.map((row) => row.email)).toEqual(["ada@uni.example", "alan@uni.example"]);
    for (const row of body.issued) expect(row.code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);

    const created = await getDb().select().from(users).where(sql`${users.email} in ('ada@uni.example', 'alan@uni.example')`);
    expect(created.map((user) => [user.role, user.passwordHash])).toEqual([
      ["student", null],
      ["student", null],
    ]);
    const [known] = await getDb().select().from(users).where(eq(users.email, "known@uni.example"));
    expect(known.name).toBe("Known Student");
    const stored = await getDb().select().from(studentInvitations);
    expect(stored).toHaveLength(2);
    const storedText = JSON.stringify(stored);
    for (const row of body.issued) {
      expect(storedText).not.toContain(row.code);
      expect(storedText).not.toContain(row.code.replace(/-/g, ""));
    }
    const registered = await getDb().select().from(events).where(eq(events.type, "STUDENT_REGISTERED"));
    expect(registered.filter((event) => (event.payload as { via: string }).via === "import")).toHaveLength(2);
  });

  it("imports nothing when any line is wrong, including an administrator's email", async () => {
    const admin = await makeUser({ role: "admin", email: "boss@uni.example" });
    const csv = "email,name\nfine@uni.example,Fine\nBOSS@uni.example,Boss\nbroken,Bad\n";
    const response = await importStudents("import", csv);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: unknown }).errors).toEqual([
      { line: 3, column: "email", message: "This email belongs to an administrator." },
      { line: 4, column: "email", message: "This is not a valid email address." },
    ]);
    expect(await getDb().select().from(users).where(eq(users.email, "fine@uni.example"))).toEqual([]);
    const [stillAdmin] = await getDb().select().from(users).where(eq(users.id, admin.id));
    expect(stillAdmin.role).toBe("admin");
  });

  it("lets a student set a password with the code exactly once, then sign in with it", async () => {
    const response = await importStudents("import", "email,name\ngrace@uni.example,Grace Hopper\n");
    const { issued } = (await response.json()) as Issued;
    const code = issued[0].code.toLowerCase().replace(/-/g, " ");
    const activate = (fields: Record<string, string>) =>
      respond(() => activateAction({ request: postRequest("/activate", fields), params: {}, context: {} }));
    const form = { email: "Grace@uni.example", code, password: "cobol-forever-1959", confirmPassword: "cobol-forever-1959" };

    const wrong = await activate({ ...form, code: "AAAA-AAAA-AAAA" });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { errors: { form: string } }).errors.form).toContain("do not match an unused code");

    const done = await activate(form);
    expect(done.status).toBe(302);
    expect(done.headers.get("Location")).toBe("/student");
    const login = await verifyLogin({ db: getDb(), email: "grace@uni.example", password: "cobol-forever-1959", clientAddress: "198.51.100.1" });
    expect(login.ok).toBe(true);
    const [grace] = await getDb().select().from(users).where(eq(users.email, "grace@uni.example"));
    expect(grace.passwordHash).toMatch(/^\$argon2id\$/);

    const reused = await activate({ ...form, password: "someone-else-took-it", confirmPassword: "someone-else-took-it" });
    expect(reused.status).toBe(400);
    const stillOld = await verifyLogin({ db: getDb(), email: "grace@uni.example", password: "cobol-forever-1959", clientAddress: "198.51.100.1" });
    expect(stillOld.ok).toBe(true);
  });

  it("validates the activation form with a message per field", async () => {
    const response = await respond(() =>
      activateAction({
        request: postRequest("/activate", { email: "nope", code: "short", password: "short", confirmPassword: "other" }),
        params: {},
        context: {},
      }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Record<string, string> }).errors).toEqual({
      email: "Enter a valid email address",
      code: "Enter the 12-character code, e.g. ABCD-EFGH-JKMN",
      password: "Use at least 10 characters",
      confirmPassword: "The passwords do not match",
    });
  });

  it("reissues a code on the students page: the old one stops working, the new one resets the password", async () => {
    const { period } = await makeOpenPeriod({ topicCount: 1 });
    const imported = (await (await importStudents("import", "email,name\nlin@uni.example,Lin\n")).json()) as Issued;
    const [lin] = await getDb().select().from(users).where(eq(users.email, "lin@uni.example"));
    const reissue = (studentId: string) =>
      respond(() =>
        studentsAction({
          request: postRequest(`/admin/periods/${period.id}/students`, { intent: "reissue", studentId }, adminCookie),
          params: { periodId: period.id },
          context: {},
        }),
      );
    const response = await reissue(lin.id);
    expect(response.status).toBe(200);
    const { issued } = (await response.json()) as { issued: { email: string; code: string } };
    expect(issued.email).toBe("lin@uni.example");
    expect(issued.code).not.toBe(imported.issued[0].code);

    const activate = (code: string) =>
      respond(() =>
        activateAction({
          request: postRequest("/activate", { email: "lin@uni.example", code, password: "new-pass-phrase", confirmPassword: "new-pass-phrase" }),
          params: {},
          context: {},
        }),
      );
    expect((await activate(imported.issued[0].code)).status).toBe(400);
    expect((await activate(issued.code)).status).toBe(302);

    const admin = await makeUser({ role: "admin" });
    expect((await reissue(admin.id)).status).toBe(404);
    expect((await reissue("not-a-uuid")).status).toBe(400);
  });
});

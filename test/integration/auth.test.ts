import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { events, sessions, users } from "../../drizzle/schema";
import { getDb } from "~/db.server";
import { loader as adminLoader } from "~/routes/admin._index";
import { action as loginAction } from "~/routes/login";
import { action as logoutAction } from "~/routes/logout";
import { action as registerAction, registrationSchema } from "~/routes/register";
import { loader as studentLoader } from "~/routes/student._index";
import { makeUser, TEST_PASSWORD } from "../support/factories";
import { getRequest, postRequest, respond } from "../support/routes";

const args = (request: Request) => ({ request, params: {}, context: { clientAddress: "203.0.113.7" } });

function cookieOf(response: Response): string {
  const header = response.headers.get("Set-Cookie");
  expect(header).toBeTruthy();
  return header!.split(";")[0];
}

async function signIn(email: string, password = TEST_PASSWORD) {
  const response = await respond(() => loginAction(args(postRequest("/login", { email, password }))));
  expect(response.status).toBe(302);
  return cookieOf(response);
}

describe("registration", () => {
  it("creates a student, records STUDENT_REGISTERED and signs them in", async () => {
    const response = await respond(() =>
      registerAction(
        args(
          postRequest("/register", {
            name: "Ada Lovelace",
            email: "Ada@Example.edu",
            password: "analytical-engine",
            confirmPassword: "analytical-engine",
          }),
        ),
      ),
    );
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/student");
    const [user] = await getDb().select().from(users).where(eq(users.email, "ada@example.edu"));
    expect(user.role).toBe("student");
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    const recorded = await getDb().select().from(events).where(eq(events.actorId, user.id));
    expect(recorded.map((event) => event.type)).toEqual(["STUDENT_REGISTERED"]);
    const page = await respond(() => studentLoader(args(getRequest("/student", cookieOf(response)))));
    expect(page.status).toBe(200);
  });

  it("refuses a duplicate email (any letter case) with a message on the field", async () => {
    await makeUser({ email: "taken@example.edu" });
    const [{ before }] = await getDb().select({ before: sql<number>`count(*)::int` }).from(users);
    const response = await respond(() =>
      registerAction(
        args(postRequest("/register", { name: "Someone", email: "TAKEN@example.edu", password: "long-enough-pw", confirmPassword: "long-enough-pw" })),
      ),
    );
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ errors: { email: expect.stringContaining("already exists") } });
    const [{ after }] = await getDb().select({ after: sql<number>`count(*)::int` }).from(users);
    expect(after).toBe(before);
  });

  it("answers malformed input with a message for each field and creates nothing", async () => {
    const response = await respond(() =>
      registerAction(args(postRequest("/register", { name: "", email: "not-an-email", password: "short", confirmPassword: "other" }))),
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Record<string, string> };
    expect(Object.keys(body.errors).sort()).toEqual(["confirmPassword", "email", "name", "password"]);
    expect(body.errors.email).toBe("Enter a valid email address");
    const [{ count }] = await getDb().select({ count: sql<number>`count(*)::int` }).from(users).where(eq(users.email, "not-an-email"));
    expect(count).toBe(0);
  });

  it("limits self-registration to the allowed email domain when one is set", () => {
    const schema = registrationSchema("uni.example");
    const form = { name: "Grace Hopper", password: "compiler-123", confirmPassword: "compiler-123" };
    expect(schema.safeParse({ ...form, email: "grace@uni.example" }).success).toBe(true);
    const refused = schema.safeParse({ ...form, email: "grace@elsewhere.example" });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0].message).toBe("Use your @uni.example address");
  });
});

describe("sign-in", () => {
  it("answers a wrong password and an unknown email with the same message", async () => {
    const user = await makeUser();
    const wrong = await respond(() => loginAction(args(postRequest("/login", { email: user.email, password: "nope-nope-nope" }))));
    const unknown = await respond(() =>
      loginAction(args(postRequest("/login", { email: "nobody@example.edu", password: TEST_PASSWORD }))),
    );
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.json()).toEqual(await unknown.json());
  });

  it("refuses further tries after five failures, even with the right password", async () => {
    const user = await makeUser();
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await respond(() => loginAction(args(postRequest("/login", { email: user.email, password: `wrong-${attempt}` }))));
      expect(response.status).toBe(401);
    }
    const blocked = await respond(() => loginAction(args(postRequest("/login", { email: user.email, password: TEST_PASSWORD }))));
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("Retry-After")).toBe("900");
    expect(((await blocked.json()) as { errors: { form: string } }).errors.form).toContain("Too many failed sign-ins");
  });

  it("rejects malformed input with field messages", async () => {
    const response = await respond(() => loginAction(args(postRequest("/login", { email: "", password: "" }))));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: { email: "Enter your email address", password: "Enter your password" },
    });
  });
});

describe("guards", () => {
  it("send an anonymous visitor to sign-in, remembering the page", async () => {
    const response = await respond(() => adminLoader(args(getRequest("/admin"))));
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/login?redirectTo=%2Fadmin");
  });

  it("answer 403 to a student on an admin page and let an admin in", async () => {
    const student = await makeUser();
    const admin = await makeUser({ role: "admin" });
    const studentCookie = await signIn(student.email);
    const forbidden = await respond(() => adminLoader(args(getRequest("/admin", studentCookie))));
    expect(forbidden.status).toBe(403);
    const adminCookie = await signIn(admin.email);
    const allowed = await respond(() => adminLoader(args(getRequest("/admin", adminCookie))));
    expect(allowed.status).toBe(200);
    const studentPage = await respond(() => studentLoader(args(getRequest("/student", adminCookie))));
    expect(studentPage.status).toBe(403);
  });

  it("sign-out revokes the session row, so the old cookie no longer works", async () => {
    const student = await makeUser();
    const cookie = await signIn(student.email);
    expect((await respond(() => studentLoader(args(getRequest("/student", cookie))))).status).toBe(200);
    const response = await respond(() => logoutAction(args(postRequest("/logout", {}, cookie))));
    expect(response.headers.get("Location")).toBe("/login");
    const remaining = await getDb().select().from(sessions).where(eq(sessions.userId, student.id));
    expect(remaining).toHaveLength(0);
    expect((await respond(() => studentLoader(args(getRequest("/student", cookie))))).status).toBe(302);
  });
});

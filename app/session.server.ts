import { createHash, randomBytes } from "node:crypto";
import { createCookieSessionStorage, redirect } from "@remix-run/node";
import { eq } from "drizzle-orm";
import { sessions } from "../drizzle/schema";
import { getDb, runStatement } from "./db.server";
import { getEnv } from "./env.server";
import type { User } from "./models/user.server";

const SESSION_DAYS = 14;

type SessionData = { sessionId: string };
let storage: ReturnType<typeof createCookieSessionStorage<SessionData>> | undefined;

function getStorage() {
  const env = getEnv();
  storage ??= createCookieSessionStorage<SessionData>({
    cookie: {
      name: "__topicmatch",
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: env.NODE_ENV === "production",
      // Newest first: old cookies keep working while a secret is rotated out.
      secrets: env.SESSION_SECRET.split(",").map((secret) => secret.trim()),
      maxAge: SESSION_DAYS * 24 * 60 * 60,
    },
  });
  return storage;
}

async function getCookieSession(request: Request) {
  return getStorage().getSession(request.headers.get("Cookie"));
}

export type SessionUser = Pick<User, "id" | "email" | "name" | "role"> & { sessionId: string };

const SESSION_USER = `
  select u.id, u.email, u.name, u.role, s.id as "sessionId"
  from sessions s join users u on u.id = s.user_id
  where s.id = $1 and s.expires_at > now()`;

/** The signed-in user, from the session row the cookie names (revoked or expired rows sign out). */
export async function getSessionUser(request: Request): Promise<SessionUser | null> {
  const cookieSession = await getCookieSession(request);
  const sessionId = cookieSession.get("sessionId");
  if (typeof sessionId !== "string") return null;
  // On every request of a signed-in user, so written out once (runStatement) rather than built each time.
  const [row] = await runStatement<SessionUser>(getDb(), SESSION_USER, [sessionId]);
  return row ?? null;
}

/** Stores a new session row and answers a redirect that sets its cookie. */
export async function createUserSession({ userId, redirectTo }: { userId: string; redirectTo: string }) {
  const id = randomBytes(24).toString("base64url");
  await getDb()
    .insert(sessions)
    .values({ id, userId, expiresAt: new Date(Date.now() + SESSION_DAYS * 24 * 60 * 60 * 1000) });
  const cookieSession = await getStorage().getSession();
  cookieSession.set("sessionId", id);
  return redirect(redirectTo, { headers: { "Set-Cookie": await getStorage().commitSession(cookieSession) } });
}

export async function logout(request: Request) {
  const cookieSession = await getCookieSession(request);
  const sessionId = cookieSession.get("sessionId");
  if (typeof sessionId === "string") await getDb().delete(sessions).where(eq(sessions.id, sessionId));
  return redirect("/login", { headers: { "Set-Cookie": await getStorage().destroySession(cookieSession) } });
}

export async function revokeUserSessions(userId: string): Promise<void> {
  await getDb().delete(sessions).where(eq(sessions.userId, userId));
}

/** Redirects to the login page (remembering where the visitor was going) when nobody is signed in. */
export async function requireUser(request: Request): Promise<SessionUser> {
  const user = await getSessionUser(request);
  if (!user) {
    const url = new URL(request.url);
    const params = new URLSearchParams({ redirectTo: `${url.pathname}${url.search}` });
    throw redirect(`/login?${params}`);
  }
  return user;
}

export async function requireStudent(request: Request): Promise<SessionUser> {
  const user = await requireUser(request);
  if (user.role !== "student") throw new Response("This page is for students.", { status: 403 });
  return user;
}

export async function requireAdmin(request: Request): Promise<SessionUser> {
  const user = await requireUser(request);
  if (user.role !== "admin") throw new Response("Only administrators may open this page.", { status: 403 });
  return user;
}

/**
 * The session as recorded in events and rankings: a digest, because the
 * session id itself is the bearer credential and the event log is readable by admins.
 */
export function auditSessionId(user: SessionUser): string {
  return createHash("sha256").update(user.sessionId).digest("base64url").slice(0, 22);
}

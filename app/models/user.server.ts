import { hash, verify } from "@node-rs/argon2";
import { and, eq, gt, sql } from "drizzle-orm";
import { loginAttempts, users } from "../../drizzle/schema";
import type { Executor } from "../db.server";
import { recordEvent } from "./event.server";

export type User = typeof users.$inferSelect;
export type Role = User["role"];

// OWASP's argon2id minimum (19 MiB, 2 passes): memory-hard, ~20 ms here.
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const LOGIN_WINDOW_MINUTES = 15;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_ADDRESS = 30;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export async function getUserById({ db, userId }: { db: Executor; userId: string }): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  return user;
}

export async function getUserByEmail({ db, email }: { db: Executor; email: string }): Promise<User | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${normalizeEmail(email)}`);
  return user;
}

export class DuplicateEmailError extends Error {
  constructor(email: string) {
    super(`An account with ${email} already exists`);
    this.name = "DuplicateEmailError";
  }
}

/** Creates an account; records STUDENT_REGISTERED for students. Runs in the caller's transaction. */
export async function createUser({
  tx,
  email,
  name,
  password,
  passwordHash: precomputedHash,
  role,
  via,
  actorId = null,
  sessionId = null,
}: {
  tx: Executor;
  email: string;
  name: string;
  /** null creates an account that cannot sign in until a password is set. */
  password: string | null;
  /** A hash made earlier with hashPassword, for bulk creation with one shared password. */
  passwordHash?: string;
  role: Role;
  via: "self" | "import" | "seed";
  actorId?: string | null;
  sessionId?: string | null;
}): Promise<User> {
  const normalized = normalizeEmail(email);
  const passwordHash = precomputedHash ?? (password === null ? null : await hashPassword(password));
  const [user] = await tx
    .insert(users)
    .values({ email: normalized, name: name.trim(), role, passwordHash })
    .onConflictDoNothing()
    .returning();
  if (!user) throw new DuplicateEmailError(normalized);
  if (role === "student") {
    await recordEvent(tx, {
      type: "STUDENT_REGISTERED",
      actorId: actorId ?? user.id,
      actorType: via === "self" ? "student" : via === "import" ? "admin" : "system",
      sessionId,
      payload: { studentId: user.id, email: normalized, via },
    });
  }
  return user;
}

export type LoginResult =
  | { ok: true; user: User }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "rate-limited"; retryAfterSeconds: number };

/**
 * Checks an email and password. Unknown emails and wrong passwords answer the
 * same way (no account probing); failures are counted per email and per
 * client address, and too many in the window refuse further tries.
 */
export async function verifyLogin({
  db,
  email,
  password,
  clientAddress,
}: {
  db: Executor;
  email: string;
  password: string;
  clientAddress: string;
}): Promise<LoginResult> {
  const normalized = normalizeEmail(email);
  const since = sql`now() - make_interval(mins => ${LOGIN_WINDOW_MINUTES})`;
  const [counts] = await db
    .select({
      byEmail: sql<number>`count(*) filter (where ${loginAttempts.email} = ${normalized})`.mapWith(Number),
      byAddress: sql<number>`count(*) filter (where ${loginAttempts.clientAddress} = ${clientAddress})`.mapWith(Number),
    })
    .from(loginAttempts)
    .where(and(gt(loginAttempts.attemptedAt, since)));
  if (counts.byEmail >= MAX_FAILURES_PER_EMAIL || counts.byAddress >= MAX_FAILURES_PER_ADDRESS) {
    return { ok: false, reason: "rate-limited", retryAfterSeconds: LOGIN_WINDOW_MINUTES * 60 };
  }
  const user = await getUserByEmail({ db, email: normalized });
  const valid = user?.passwordHash ? await verify(user.passwordHash, password) : false;
  if (!user || !valid) {
    await db.insert(loginAttempts).values({ email: normalized, clientAddress });
    return { ok: false, reason: "invalid" };
  }
  await db.delete(loginAttempts).where(eq(loginAttempts.email, normalized));
  return { ok: true, user };
}

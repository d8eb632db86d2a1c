import { createHash, randomInt } from "node:crypto";
import { and, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { studentInvitations, users } from "../../drizzle/schema";
import type { Executor } from "../db.server";
import type { CsvError, CsvRow, StudentCsvRow } from "./csv-import";
import type { Actor } from "./period.server";
import { createUser, hashPassword, normalizeEmail } from "./user.server";

// No 0/O, 1/I/L: codes are read off paper.
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH = 12;
export const CODE_VALID_DAYS = 30;

export function generateSignInCode(): string {
  const characters = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return characters.match(/.{4}/g)!.join("-");
}

/** Accepts the code as printed, in any letter case, with or without dashes and spaces. */
export function normalizeSignInCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

function hashCode(code: string): string {
  return createHash("sha256").update(normalizeSignInCode(code)).digest("hex");
}

/** Replaces any unused code of the student with a new one and returns its plaintext, which is not stored. */
export async function issueSignInCode({ tx, userId }: { tx: Executor; userId: string }): Promise<string> {
  await tx.delete(studentInvitations).where(and(eq(studentInvitations.userId, userId), isNull(studentInvitations.usedAt)));
  const code = generateSignInCode();
  await tx.insert(studentInvitations).values({
    userId,
    codeHash: hashCode(code),
    expiresAt: sql`now() + make_interval(days => ${CODE_VALID_DAYS})`,
  });
  return code;
}

/** A fresh code for an existing student (lost code or forgotten password); null when no such student exists. */
export async function reissueSignInCode({ tx, studentId }: { tx: Executor; studentId: string }): Promise<IssuedCode | null> {
  const [student] = await tx
    .select({ id: users.id, email: users.email, name: users.name })
    .from(users)
    .where(and(eq(users.id, studentId), eq(users.role, "student")));
  if (!student) return null;
  return { email: student.email, name: student.name, code: await issueSignInCode({ tx, userId: student.id }) };
}

export type StudentImportPlan = {
  create: CsvRow<StudentCsvRow>[];
  existing: CsvRow<StudentCsvRow>[];
  errors: CsvError[];
};

/** Sorts parsed rows into new accounts and existing students; an email that belongs to an admin is an error. */
export async function planStudentImport({ db, rows }: { db: Executor; rows: CsvRow<StudentCsvRow>[] }): Promise<StudentImportPlan> {
  const emails = rows.map((row) => row.value.email);
  const found =
    emails.length === 0
      ? []
      : await db
          .select({ email: sql<string>`lower(${users.email})`, role: users.role })
          .from(users)
          .where(inArray(sql`lower(${users.email})`, emails));
  const roles = new Map(found.map((row) => [row.email, row.role]));
  const plan: StudentImportPlan = { create: [], existing: [], errors: [] };
  for (const row of rows) {
    const role = roles.get(row.value.email);
    if (role === undefined) plan.create.push(row);
    else if (role === "student") plan.existing.push(row);
    else plan.errors.push({ line: row.line, column: "email", message: "This email belongs to an administrator." });
  }
  return plan;
}

export type IssuedCode = { email: string; name: string; code: string };

/**
 * Creates the planned accounts (without passwords) with one sign-in code
 * each, all in the caller's transaction. Existing students are left as they
 * are. Throws when the plan has errors, so nothing is half-imported.
 */
export async function importStudents({
  tx,
  rows,
  actor,
}: {
  tx: Executor;
  rows: CsvRow<StudentCsvRow>[];
  actor: Actor;
}): Promise<{ issued: IssuedCode[]; existing: string[] }> {
  const plan = await planStudentImport({ db: tx, rows });
  if (plan.errors.length > 0) throw new StudentImportError(plan.errors);
  const issued: IssuedCode[] = [];
  for (const { value } of plan.create) {
    const user = await createUser({
      tx,
      email: value.email,
      name: value.name,
      password: null,
      role: "student",
      via: "import",
      actorId: actor.actorId,
      sessionId: actor.sessionId,
    });
    issued.push({ email: user.email, name: user.name, code: await issueSignInCode({ tx, userId: user.id }) });
  }
  return { issued, existing: plan.existing.map((row) => row.value.email) };
}

export class StudentImportError extends Error {
  constructor(readonly errors: CsvError[]) {
    super(`The student list has ${errors.length} problem(s).`);
    this.name = "StudentImportError";
  }
}

/**
 * Spends a valid, unused code and sets the student's password. The guarded
 * update marks the code used, so a code works once even under concurrent use.
 * Answers null for an unknown email, a wrong, used or expired code alike.
 */
export async function redeemSignInCode({
  tx,
  email,
  code,
  password,
}: {
  tx: Executor;
  email: string;
  code: string;
  password: string;
}): Promise<{ userId: string } | null> {
  const [spent] = await tx
    .update(studentInvitations)
    .set({ usedAt: new Date() })
    .where(
      and(
        eq(studentInvitations.codeHash, hashCode(code)),
        isNull(studentInvitations.usedAt),
        gt(studentInvitations.expiresAt, sql`now()`),
        sql`${studentInvitations.userId} = (select id from users where lower(email) = ${normalizeEmail(email)} and role = 'student')`,
      ),
    )
    .returning({ userId: studentInvitations.userId });
  if (!spent) return null;
  await tx.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, spent.userId));
  return spent;
}

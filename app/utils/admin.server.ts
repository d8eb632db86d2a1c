import { data } from "@remix-run/node";
import { getDb, withTransaction, type Transaction } from "../db.server";
import { getPeriod, PeriodStateError, type Actor } from "../models/period.server";
import { requireAdmin, type SessionUser } from "../session.server";
import { invariantResponse } from "./http";

export function adminActor(admin: SessionUser): Actor {
  return { actorId: admin.id, actorType: "admin", sessionId: admin.sessionId };
}

/** The period named in the URL, or a 404. */
export async function requirePeriod(periodId: string | undefined) {
  invariantResponse(periodId && /^[0-9a-f-]{36}$/i.test(periodId), "That selection period does not exist.", { status: 404 });
  const period = await getPeriod({ db: getDb(), periodId });
  invariantResponse(period, "That selection period does not exist.", { status: 404 });
  return period;
}

/**
 * The guard of every period page: the admin first, so that a stranger learns
 * nothing about which periods exist, then the period named in the URL.
 */
export async function requireAdminPeriod(request: Request, periodId: string | undefined) {
  const admin = await requireAdmin(request);
  const period = await requirePeriod(periodId);
  return { admin, period };
}

/**
 * Runs a period command in a transaction. A refused transition or edit
 * becomes `{ error }` with its status (409, or 404), for the page to show in
 * place; anything else is a programmer error and propagates.
 */
export async function runPeriodCommand<T>(work: (tx: Transaction) => Promise<T>) {
  try {
    return { ok: true as const, value: await withTransaction(getDb(), work) };
  } catch (error) {
    if (error instanceof PeriodStateError) {
      return { ok: false as const, response: data({ error: error.message, errors: {} as Record<string, string> }, { status: error.status }) };
    }
    throw error;
  }
}

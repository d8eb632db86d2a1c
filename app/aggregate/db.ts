import type { SQL } from "drizzle-orm";
import { PgTransaction, type PgDatabase } from "drizzle-orm/pg-core";
import type { PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { withTransaction, type Database } from "../db.server";

/** The database or a transaction from drizzle-orm/postgres-js. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AggregateDb = PgDatabase<PostgresJsQueryResultHKT, any, any>;

export async function query<Row>(db: AggregateDb, statement: SQL): Promise<Row[]> {
  const t = performance.now();
  const r = (await db.execute(statement)) as unknown as Row[];
  if (process.env.AGG_PROFILE) console.log("q", (performance.now() - t).toFixed(2), JSON.stringify(statement.queryChunks[0]).slice(0, 60));
  return r;
}

/**
 * Writes lock node rows across several statements, so they must share one
 * transaction: the caller's when given one (its retry helper then covers
 * serialization failures), otherwise a new one with the app's retry helper.
 */
export async function inTransaction<T>(db: AggregateDb, work: (tx: AggregateDb) => Promise<T>): Promise<T> {
  if (db instanceof PgTransaction) return work(db);
  return withTransaction(db as unknown as Database, (tx) => work(tx as unknown as AggregateDb));
}

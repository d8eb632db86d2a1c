import type { SQL } from "drizzle-orm";
import { PgTransaction, type PgDatabase } from "drizzle-orm/pg-core";
import type { PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { withTransaction, type Database } from "../db.server";

/** The database or a transaction from drizzle-orm/postgres-js. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AggregateDb = PgDatabase<PostgresJsQueryResultHKT, any, any>;

export async function query<Row>(db: AggregateDb, statement: SQL): Promise<Row[]> {
  return (await db.execute(statement)) as unknown as Row[];
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

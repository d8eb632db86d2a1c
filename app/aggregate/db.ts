import type { SQL } from "drizzle-orm";
import { PgTransaction, type PgDatabase } from "drizzle-orm/pg-core";
import type { PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { runStatement, withTransaction, type Database, type Executor } from "../db.server";

/** The database or a transaction from drizzle-orm/postgres-js. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AggregateDb = PgDatabase<PostgresJsQueryResultHKT, any, any>;

type Dialect = { dialect: { sqlToQuery(statement: SQL): { sql: string; params: unknown[] } } };

/**
 * Runs a statement as a named prepared statement on the postgres.js
 * connection under the drizzle handle (runStatement). drizzle's `execute`
 * sends raw SQL unprepared, and postgres.js then asks the server for the
 * parameter types before every execution: two round trips instead of one.
 * The statements here are few and fixed, so preparing each once per
 * connection pays off at once.
 */
export async function query<Row>(db: AggregateDb, statement: SQL): Promise<Row[]> {
  const { sql: text, params } = (db as unknown as Dialect).dialect.sqlToQuery(statement);
  return runStatement<Row>(db as unknown as Executor, text, params);
}

/**
 * Writes lock node rows across several statements, so they must share one
 * transaction: the caller's when given one (its retry helper then covers
 * serialization failures), otherwise a new one with the app's retry helper.
 */
export async function inTransaction<T>(
  db: AggregateDb,
  work: (tx: AggregateDb) => Promise<T>,
  options: { durable?: boolean } = {},
): Promise<T> {
  if (db instanceof PgTransaction) return work(db);
  return withTransaction(db as unknown as Database, (tx) => work(tx as unknown as AggregateDb), options);
}

import type { SQL } from "drizzle-orm";
import { PgTransaction, type PgDatabase } from "drizzle-orm/pg-core";
import type { PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { withTransaction, type Database } from "../db.server";

/** The database or a transaction from drizzle-orm/postgres-js. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AggregateDb = PgDatabase<PostgresJsQueryResultHKT, any, any>;

type Internals = {
  dialect: { sqlToQuery(statement: SQL): { sql: string; params: unknown[] } };
  session: { client?: { unsafe(text: string, params: unknown[], options: { prepare: boolean }): Promise<unknown> } };
};

/**
 * Runs a statement as a named prepared statement on the postgres.js
 * connection under the drizzle handle. drizzle's `execute` sends raw SQL
 * unprepared, and postgres.js then asks the server for the parameter types
 * before every execution: two round trips instead of one. The statements here
 * are few and fixed, so preparing each once per connection pays off at once.
 */
export async function query<Row>(db: AggregateDb, statement: SQL): Promise<Row[]> {
  const internals = db as unknown as Internals;
  const client = internals.session?.client;
  if (!client || typeof internals.dialect?.sqlToQuery !== "function") {
    return (await db.execute(statement)) as unknown as Row[];
  }
  const { sql: text, params } = internals.dialect.sqlToQuery(statement);
  return (await client.unsafe(text, params, { prepare: true })) as Row[];
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

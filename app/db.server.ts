import { sql } from "drizzle-orm";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../drizzle/schema";
import { getEnv } from "./env.server";

export type Database = PostgresJsDatabase<typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the database or a transaction: model functions accept both. */
export type Executor = Database | Transaction;

type Connection = { db: Database; client: postgres.Sql };

// Keyed by URL so test files that each get their own database never share a
// pool, and kept on globalThis so dev rebuilds reuse the pool instead of leaking.
const globalForDb = globalThis as unknown as { __topicmatchDb?: Map<string, Connection> };

type UnsafeOptions = { prepare?: boolean; simple?: boolean };
type Preparable = {
  unsafe: (query: string, args?: unknown[] | UnsafeOptions, options?: UnsafeOptions) => unknown;
  begin?: (...params: unknown[]) => unknown;
  savepoint?: (...params: unknown[]) => unknown;
};

/**
 * drizzle sends every query through postgres.js `unsafe(…, { prepare: false })`
 * unless the query was given a name, and for an unprepared query with
 * parameters postgres.js first asks the server for their types: two round
 * trips and two socket writes per query. Under 50 students saving through
 * HTTP, a quarter of the web server's CPU went to those writes. Prepared, a
 * statement is parsed once per connection and then costs one round trip. The
 * app's statements are a bounded set of shapes, so the per-connection cache
 * stays small. Transactions and savepoints get the same treatment.
 */
function preparedByDefault<T>(sqlClient: T): T {
  const target = sqlClient as unknown as Preparable;
  const unsafe = target.unsafe;
  target.unsafe = (query, args, options) =>
    args !== undefined && !Array.isArray(args)
      ? unsafe(query, [], { ...args, prepare: true })
      : unsafe(query, args ?? [], { ...options, prepare: true });
  for (const method of ["begin", "savepoint"] as const) {
    const original = target[method];
    if (!original) continue;
    target[method] = (...params: unknown[]) => {
      const work = params.pop() as (tx: unknown) => unknown;
      return original(...params, (tx: unknown) => work(preparedByDefault(tx)));
    };
  }
  return sqlClient;
}

export function connect(url: string, options: { max?: number } = {}): Connection {
  const pools = (globalForDb.__topicmatchDb ??= new Map());
  const existing = pools.get(url);
  if (existing) return existing;
  const client = preparedByDefault(
    postgres(url, {
      max: options.max ?? 10,
      onnotice: () => {},
      connection: { application_name: "topicmatch" },
    }),
  );
  const connection = { db: drizzle(client, { schema }), client };
  pools.set(url, connection);
  return connection;
}

type PostgresJsSession = { session?: { client?: { unsafe(text: string, params: unknown[], options: { prepare: boolean }): Promise<unknown> } } };

/**
 * Runs a statement written as text with positional parameters ($1, $2, …),
 * prepared, on the database or transaction given. For the few statements
 * every ranking save runs (sign-in check, read, commit): drizzle assembles a
 * query from its template on every call, and these are the same text each time.
 */
export async function runStatement<Row>(db: Executor, text: string, params: unknown[]): Promise<Row[]> {
  const client = (db as unknown as PostgresJsSession).session?.client;
  if (!client) throw new Error("runStatement needs a drizzle postgres-js database or transaction");
  return (await client.unsafe(text, params, { prepare: true })) as Row[];
}

export function getDb(): Database {
  return connect(getEnv().DATABASE_URL).db;
}

export async function closeDb(): Promise<void> {
  const pools = globalForDb.__topicmatchDb;
  if (!pools) return;
  globalForDb.__topicmatchDb = undefined;
  await Promise.all([...pools.values()].map((connection) => connection.client.end({ timeout: 5 })));
}

const RETRYABLE = new Set(["40001", "40P01"]);

/** The Postgres error code of an error, looking through drizzle's query-error wrapper. */
export function pgErrorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isRetryableError(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code !== undefined && RETRYABLE.has(code);
}

export type TransactionStats = { retries: number };

/**
 * Runs `work` in a transaction, retrying serialization failures and deadlocks
 * with jittered backoff (withRetries, the one place such retries live: STYLE habit 7).
 */
export async function withTransaction<T>(
  db: Database,
  work: (tx: Transaction) => Promise<T>,
  options: {
    maxAttempts?: number;
    stats?: TransactionStats;
    isolationLevel?: "read committed" | "repeatable read";
    /**
     * false for work derived from data that is already durable (metrics, aggregate compaction): the commit
     * then does not wait for its WAL to reach the disk. A crash may lose such a commit, never half of one, and
     * the work is done again. Under load every commit waiting for the disk queues the students' saves behind it.
     */
    durable?: boolean;
  } = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 12;
  const config = options.isolationLevel ? { isolationLevel: options.isolationLevel } : undefined;
  const run =
    options.durable === false
      ? async (tx: Transaction) => {
          await tx.execute(sql`set local synchronous_commit = off`);
          return work(tx);
        }
      : work;
  return withRetries(() => db.transaction(run, config), { maxAttempts, stats: options.stats });
}

/**
 * Runs `work` again after a serialization failure or a deadlock, with jittered
 * backoff: for transactions (withTransaction) and for single statements that
 * lock rows themselves (a database function such as ranking_commit).
 */
export async function withRetries<T>(
  work: () => Promise<T>,
  { maxAttempts = 12, stats }: { maxAttempts?: number; stats?: TransactionStats } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetryableError(error) || attempt >= maxAttempts) throw error;
      if (stats) stats.retries++;
      const backoff = Math.min(200, 2 ** attempt) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}

import { existsSync } from "node:fs";
import { Redis } from "ioredis";
import postgres from "postgres";
import { EnvError, type Env, getEnv } from "./env.server";

/** A startup failure the operator can fix; its message is one line saying how. */
export class PreflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreflightError";
  }
}

const START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";
const START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

export async function checkPostgres(url: string, options: { databaseMustExist?: boolean } = {}): Promise<void> {
  const client = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await client`select 1`;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "3D000") {
      if (options.databaseMustExist === false) return;
      throw new PreflightError(
        `DATABASE_URL=${redact(url)}: the database does not exist yet; run \`npm run db:migrate\` (it creates and migrates it).`,
      );
    }
    const reason = code ?? (error as Error).message;
    throw new PreflightError(
      `DATABASE_URL=${redact(url)}: cannot reach Postgres (${reason}); start it with \`${START_POSTGRES}\` or set DATABASE_URL.`,
    );
  } finally {
    await client.end({ timeout: 1 }).catch(() => {});
  }
}

export async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  // The socket error (ECONNREFUSED, ENOTFOUND…) says more than the rejection ("Connection is closed").
  let socketError: { code?: string; message: string } | undefined;
  redis.on("error", (error) => {
    socketError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const cause = socketError ?? (error as { code?: string; message: string });
    const reason = cause.code ?? cause.message;
    throw new PreflightError(
      `REDIS_URL=${url}: cannot reach Redis (${reason}); start it with \`${START_REDIS}\` or set REDIS_URL.`,
    );
  } finally {
    redis.disconnect();
  }
}

/** Validates the environment and reaches both services; throws EnvError or PreflightError. */
export async function preflight(options: { redis?: boolean; databaseMustExist?: boolean } = {}): Promise<Env> {
  // A local .env (written by `npm run setup`) fills settings the shell did not set.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const env = getEnv();
  await checkPostgres(env.DATABASE_URL, options);
  if (options.redis !== false) await checkRedis(env.REDIS_URL);
  return env;
}

/** The one line to print for a startup failure we can explain, or undefined for a programmer error. */
export function explainStartupError(error: unknown): string | undefined {
  if (error instanceof EnvError || error instanceof PreflightError) return error.message;
  return undefined;
}

import { z } from "zod";

/**
 * The one description of the process environment, shared by the web server,
 * the worker and the scripts. Defaults work on a developer machine of this
 * project (local Postgres as root, local Redis).
 */
const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^/]+\/[A-Za-z0-9_]+(\?.*)?$/, "must look like postgres://user@host:5432/database")
    .default("postgres://root@127.0.0.1:5432/topicmatch"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^/]+(\/\d+)?$/, "must look like redis://host:6379")
    .default("redis://127.0.0.1:6379"),
  SESSION_SECRET: z
    .string()
    .min(16, "must be at least 16 characters (several secrets may be given, comma-separated, newest first)")
    .default("dev-only-session-secret-change-me"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Copies of the web server sharing the port (Node cluster); `npm start` uses one per core, at most 2. */
  WEB_PROCESSES: z.coerce.number().int().min(1).max(16).default(1),
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9:_-]+$/i).default("topicmatch"),
  // How long a worker's hold on a job lasts without renewal, and how often workers look for jobs whose holder died.
  // A crashed worker's job is retried after at most the sum; the lock must outlast the longest synchronous solve.
  WORKER_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  WORKER_STALLED_CHECK_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** CPU priority of the worker process (Unix nice, 0–19): its jobs are background work and yield to web requests. */
  WORKER_NICE: z.coerce.number().int().min(0).max(19).default(5),
  ALLOWED_EMAIL_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, "must be a domain such as example.edu")
    .optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export class EnvError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = "EnvError";
  }
}

/** Parses an environment; throws EnvError with a one-line message naming the first bad setting. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = EnvSchema.safeParse(cleaned);
  if (result.success) {
    if (result.data.NODE_ENV === "production" && result.data.SESSION_SECRET.startsWith("dev-only")) {
      throw new EnvError("SESSION_SECRET", "Invalid setting SESSION_SECRET: set a secret of your own in production");
    }
    return result.data;
  }
  const issue = result.error.issues[0];
  const setting = String(issue.path[0] ?? "environment");
  const shown = source[setting] === undefined ? "" : ` (got "${source[setting]}")`;
  throw new EnvError(setting, `Invalid setting ${setting}: ${issue.message}${shown}`);
}

let cached: Env | undefined;

export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** Only these values may reach the browser. */
export function getPublicEnv(env: Env = getEnv()) {
  return { NODE_ENV: env.NODE_ENV };
}

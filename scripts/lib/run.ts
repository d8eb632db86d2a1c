import { closeDb } from "../../app/db.server";
import type { Env } from "../../app/env.server";
import { explainStartupError, preflight } from "../../app/preflight.server";

/**
 * Runs a command-line script: validates the environment and reaches Postgres
 * (and Redis when asked) first, so a missing service is one readable line
 * and a non-zero exit instead of a stack trace.
 */
export async function runScript(
  main: (env: Env) => Promise<number | void>,
  options: { redis?: boolean; databaseMustExist?: boolean } = {},
): Promise<void> {
  let exitCode = 0;
  try {
    const env = await preflight({ redis: options.redis ?? false, databaseMustExist: options.databaseMustExist ?? false });
    exitCode = (await main(env)) ?? 0;
  } catch (error) {
    const line = explainStartupError(error);
    if (line) console.error(line);
    else console.error(error);
    exitCode = 1;
  } finally {
    await closeDb();
  }
  process.exit(exitCode);
}

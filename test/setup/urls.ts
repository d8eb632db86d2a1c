import { randomBytes } from "node:crypto";

/** The Postgres server the tests use; only its host and credentials matter. */
export function testServerUrl(): string {
  return process.env.TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/postgres";
}

export function databaseUrl(name: string): string {
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Test databases carry their creation time in the name (`tm_<kind>_<epoch>_<hex>`),
 * so a run can clear what interrupted runs left behind without touching the
 * databases of a run that is still going on the same server.
 */
export function testDatabaseName(kind: "tpl" | "test"): string {
  return `tm_${kind}_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
}

const STALE_AFTER_SECONDS = 6 * 60 * 60;

export function isStaleTestDatabase(name: string, nowSeconds = Date.now() / 1000): boolean {
  const match = /^tm_(?:tpl|test)_(\d+)_[0-9a-f]+$/.exec(name);
  if (match) return nowSeconds - Number(match[1]) > STALE_AFTER_SECONDS;
  // Names from before the timestamped scheme.
  return name === "tm_template" || /^tm_test_[0-9a-f]{10}$/.test(name);
}

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

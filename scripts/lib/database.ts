import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../drizzle/migrations");

export function databaseName(url: string): string {
  return new URL(url).pathname.replace(/^\//, "");
}

/** The same server, database `postgres`: where CREATE DATABASE is issued. */
export function maintenanceUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = "/postgres";
  return parsed.toString();
}

export async function createDatabaseIfMissing(url: string, template?: string): Promise<boolean> {
  const name = databaseName(url);
  const admin = postgres(maintenanceUrl(url), { max: 1, onnotice: () => {} });
  try {
    const existing = await admin`select 1 from pg_database where datname = ${name}`;
    if (existing.length > 0) return false;
    const templateClause = template ? ` TEMPLATE "${template}"` : "";
    try {
      await admin.unsafe(`CREATE DATABASE "${name}"${templateClause}`);
    } catch (error) {
      // Another process created it first: that is what we wanted.
      if ((error as { code?: string }).code !== "42P04") throw error;
      return false;
    }
    return true;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Creates the database when missing and applies every pending migration; safe to run again. */
export async function migrateDatabase(url: string): Promise<{ created: boolean; name: string }> {
  const created = await createDatabaseIfMissing(url);
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Two processes migrating at once wait for each other instead of failing.
    await client`select pg_advisory_lock(727274)`;
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.end({ timeout: 5 });
  }
  return { created, name: databaseName(url) };
}

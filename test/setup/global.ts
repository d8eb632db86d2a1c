import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { maintenanceUrl, migrateDatabase } from "../../scripts/lib/database";
import { databaseUrl, isStaleTestDatabase, testDatabaseName, testServerUrl } from "./urls";

/**
 * Migrates a template database for this run; each test file clones it
 * (test/setup/database.ts). The template is this run's own, so several runs
 * (two checkouts, a helper and CI) can share one Postgres server.
 */
export default async function globalSetup(project: TestProject) {
  const admin = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
  const template = testDatabaseName("tpl");
  try {
    const existing = await admin<{ datname: string }[]>`select datname from pg_database where datname like 'tm\\_%'`;
    for (const { datname } of existing) {
      if (isStaleTestDatabase(datname)) await admin.unsafe(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await migrateDatabase(databaseUrl(template));
    project.provide("templateDatabase", template);
  } catch (error) {
    await admin.end({ timeout: 5 });
    throw error;
  }
  return async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  };
}

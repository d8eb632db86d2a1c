import postgres from "postgres";
import { maintenanceUrl, migrateDatabase } from "../../scripts/lib/database";
import { TEMPLATE_DATABASE, testServerUrl } from "./urls";

/** Migrates a template database once per run; each test file clones it (test/setup/database.ts). */
export default async function globalSetup() {
  const admin = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${TEMPLATE_DATABASE}" WITH (FORCE)`);
    // Clones left behind by an interrupted run.
    const stale = await admin`select datname from pg_database where datname like 'tm_test_%'`;
    for (const { datname } of stale) await admin.unsafe(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const templateUrl = new URL(testServerUrl());
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  await migrateDatabase(templateUrl.toString());
}

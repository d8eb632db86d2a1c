import postgres from "postgres";
import { afterAll, inject } from "vitest";
import { closeDb } from "../../app/db.server";
import { maintenanceUrl } from "../../scripts/lib/database";
import { databaseUrl, testDatabaseName, testServerUrl } from "./urls";

// Every test file gets its own database cloned from this run's migrated
// template and its own queue prefix, so files run in parallel without seeing
// each other.
const name = testDatabaseName("test");
const admin = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${inject("templateDatabase")}"`);

process.env.DATABASE_URL = databaseUrl(name);
process.env.QUEUE_PREFIX = `tmtest-${name.slice("tm_test_".length)}`;
process.env.NODE_ENV = "test";

afterAll(async () => {
  await closeDb();
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end({ timeout: 5 });
});

import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll } from "vitest";
import { closeDb } from "../../app/db.server";
import { maintenanceUrl } from "../../scripts/lib/database";
import { TEMPLATE_DATABASE, testServerUrl } from "./urls";

// Every test file gets its own database cloned from the migrated template and
// its own queue prefix, so files run in parallel without seeing each other.
const suffix = randomBytes(5).toString("hex");
const name = `tm_test_${suffix}`;
const admin = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`);

const url = new URL(testServerUrl());
url.pathname = `/${name}`;
process.env.DATABASE_URL = url.toString();
process.env.QUEUE_PREFIX = `tmtest-${suffix}`;
process.env.NODE_ENV = "test";

afterAll(async () => {
  await closeDb();
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end({ timeout: 5 });
});

export const TEMPLATE_DATABASE = "tm_template";

/** The Postgres server the tests use; only its host and credentials matter. */
export function testServerUrl(): string {
  return process.env.TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/postgres";
}

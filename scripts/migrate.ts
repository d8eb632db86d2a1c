import { migrateDatabase } from "./lib/database";
import { runScript } from "./lib/run";

await runScript(async (env) => {
  const { created, name } = await migrateDatabase(env.DATABASE_URL);
  console.log(`${created ? "Created" : "Using"} database ${name}; migrations are up to date.`);
});

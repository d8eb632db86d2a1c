import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { getDb, withTransaction } from "../app/db.server";
import { createUser, DuplicateEmailError } from "../app/models/user.server";
import { runScript } from "./lib/run";

const Args = z.object({
  email: z.email("--email must be an email address"),
  name: z.string().trim().min(2, "--name must have at least 2 characters"),
  password: z.string().min(12, "the password must have at least 12 characters"),
});

async function readPassword(): Promise<string> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD;
  const prompt = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  // question() never settles when stdin ends first (e.g. < /dev/null), so race it against close.
  const closed = new Promise<string>((resolve) => prompt.once("close", () => resolve("")));
  const answer = await Promise.race([prompt.question("Password for the new admin (at least 12 characters): "), closed]);
  prompt.close();
  return answer.trim();
}

await runScript(async () => {
  const { values } = parseArgs({ options: { email: { type: "string" }, name: { type: "string" } }, strict: true });
  const parsed = Args.safeParse({ ...values, password: await readPassword() });
  if (!parsed.success) {
    console.error(`Usage: npm run admin:create -- --email E --name N (password from ADMIN_PASSWORD or a prompt): ${parsed.error.issues[0].message}`);
    return 2;
  }
  try {
    const user = await withTransaction(getDb(), (tx) =>
      createUser({ tx, ...parsed.data, role: "admin", via: "seed" }),
    );
    console.log(`Created admin ${user.email}.`);
  } catch (error) {
    if (error instanceof DuplicateEmailError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
});

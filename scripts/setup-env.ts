import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";

// A fresh checkout gets its own session secret, so `npm start` (production
// mode) runs without anyone inventing one by hand.
if (existsSync(".env")) {
  console.log(".env exists; keeping it.");
} else {
  writeFileSync(".env", `SESSION_SECRET=${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  console.log("Wrote .env with a new SESSION_SECRET.");
}

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { explainStartupError, preflight } from "../app/preflight.server";

/**
 * `npm start`: checks the settings and both services once, then runs the
 * built web server (WEB_PROCESSES copies on one port) and the worker,
 * forwarding signals and stopping both when either ends.
 */
async function main() {
  process.env.NODE_ENV ??= "production";
  await preflight();
  if (!existsSync("build/index.js")) {
    console.error("The app is not built yet: run `npm run build` (or `npm run setup`) first.");
    process.exit(1);
  }
  const tsx = "node_modules/.bin/tsx";
  const children: ChildProcess[] = [
    spawn(tsx, ["server.ts"], { stdio: "inherit", env: process.env }),
    spawn(tsx, ["jobs/worker.ts"], { stdio: "inherit", env: process.env }),
  ];
  let exitCode: number | undefined;
  const stopAll = (signal: NodeJS.Signals) => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  };
  for (const child of children) {
    child.on("exit", (code) => {
      exitCode ??= code ?? 1;
      stopAll("SIGTERM");
      if (children.every((other) => other.exitCode !== null || other.signalCode !== null)) process.exit(exitCode);
    });
  }
  process.on("SIGINT", () => stopAll("SIGINT"));
  process.on("SIGTERM", () => stopAll("SIGTERM"));
}

main().catch((error) => {
  console.error(explainStartupError(error) ?? error);
  process.exit(1);
});

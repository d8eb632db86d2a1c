import cluster from "node:cluster";
import { createRequestHandler } from "@remix-run/express";
import { broadcastDevReady, type ServerBuild } from "@remix-run/node";
import express from "express";
import { closeDb } from "./app/db.server";
import { getEnv } from "./app/env.server";
import { closeQueues } from "./app/queues.server";
import { explainStartupError, preflight } from "./app/preflight.server";

const BUILD_PATH = new URL("./build/index.js", import.meta.url).href;

async function main() {
  const env = await preflight();
  const build = (await import(BUILD_PATH)) as ServerBuild;
  const app = express();
  app.disable("x-powered-by");
  if (process.env.TRUST_PROXY) app.set("trust proxy", process.env.TRUST_PROXY);
  app.use("/build", express.static("public/build", { immutable: true, maxAge: "1y" }));
  app.use(express.static("public", { maxAge: "1h" }));
  app.all(
    "*",
    createRequestHandler({
      build,
      mode: env.NODE_ENV,
      getLoadContext: (req) => ({ clientAddress: req.ip ?? req.socket.remoteAddress ?? "unknown" }),
    }),
  );
  const server = app.listen(env.PORT, "0.0.0.0", () => {
    console.log(`TopicMatch web listening on http://localhost:${env.PORT}`);
    // Set only under `remix dev`, which waits for this signal after each rebuild.
    if (process.env.REMIX_DEV_ORIGIN) void broadcastDevReady(build);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`web: ${signal} received, closing`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(async () => {
      await Promise.allSettled([closeQueues(), closeDb()]);
      process.exit(0);
    });
    // Long-lived streams (live updates) would hold close() open forever.
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/**
 * WEB_PROCESSES > 1 runs that many copies of the server on one port (Node's
 * cluster), for machines with cores to spare: a request's JavaScript runs on
 * one core. On the 2-core machine this was measured on, where Postgres and
 * the worker share the cores, one process spent less CPU per save than two in
 * every bench:rankings pair and had the lower p99 in most, so one is the default.
 * Sessions, login limits, queues and live updates live in Postgres and Redis,
 * so the copies share nothing else.
 */
function supervise(processes: number) {
  let stopping = false;
  let exitCode = 0;
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) {
      // A copy died on its own: the service is degraded, so stop and let the supervisor (npm start) report it.
      console.error(`web: process ${worker.process.pid} exited (${signal ?? code}); stopping the others`);
      stopping = true;
      exitCode = 1;
      for (const other of Object.values(cluster.workers ?? {})) other?.kill("SIGTERM");
      setTimeout(() => process.exit(1), 12_000).unref();
    } else if (code !== 0 && signal === null) {
      exitCode = code;
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill(signal);
    setTimeout(() => process.exit(1), 12_000).unref();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

let processes = 1;
try {
  processes = getEnv().WEB_PROCESSES;
} catch {
  // preflight in main() reports bad settings in one line.
}
if (cluster.isPrimary && processes > 1) {
  supervise(processes);
} else {
  main().catch((error) => {
    const line = explainStartupError(error);
    console.error(line ?? error);
    process.exit(1);
  });
}

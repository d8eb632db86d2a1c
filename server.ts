import { createRequestHandler } from "@remix-run/express";
import { broadcastDevReady, type ServerBuild } from "@remix-run/node";
import express from "express";
import { closeDb } from "./app/db.server";
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

main().catch((error) => {
  const line = explainStartupError(error);
  console.error(line ?? error);
  process.exit(1);
});

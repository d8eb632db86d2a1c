import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { REPO_ROOT } from "../../scripts/lib/paths";

export type RunningProcess = {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
  /** SIGKILL to the process and everything it started: a crash, with no chance to clean up. */
  crash: () => Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function testEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "test",
    SESSION_SECRET: "test-session-secret-0123456789",
    DATABASE_URL: process.env.DATABASE_URL,
    QUEUE_PREFIX: process.env.QUEUE_PREFIX,
    ...extra,
  };
}

function startProcess(script: string, env: NodeJS.ProcessEnv, readyLine: RegExp, port: number): Promise<RunningProcess> {
  const child = spawn(`${REPO_ROOT}/node_modules/.bin/tsx`, [script], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (readyLine.test(output)) {
        clearTimeout(timer);
        resolve({
          url: `http://localhost:${port}`,
          port,
          child,
          output: () => output,
          stop: () => stopProcess(child),
          crash: () => crashProcess(child),
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
}

/** Every process below pid (tsx starts the real script in a child). */
export function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

// tsx runs the script in a child node process, so killing only `child` would leave the real one running.
async function crashProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (const pid of [...descendants(child.pid!), child.pid!].reverse()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await exited;
}

/** Runs the built web server (server.ts) against this test file's database and queue prefix. */
export async function startWebServer(extra: Record<string, string> = {}): Promise<RunningProcess> {
  const port = await freePort();
  return startProcess("server.ts", testEnv({ PORT: String(port), ...extra }), /listening on/, port);
}

/** Runs the BullMQ worker process (jobs/worker.ts) against this test file's database and queue prefix. */
export async function startWorkerProcess(extra: Record<string, string> = {}): Promise<RunningProcess> {
  return startProcess("jobs/worker.ts", testEnv(extra), /worker running/, 0);
}

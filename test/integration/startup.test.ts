import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/app-server";
import { REPO_ROOT } from "../../scripts/lib/paths";

const run = promisify(execFile);

/** Runs a process entry point and returns its exit code and output. */
async function runEntry(script: string, env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(`${REPO_ROOT}/node_modules/.bin/tsx`, [script], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: "test", ...env },
      timeout: 30_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe("starting with a service down", () => {
  it.each(["scripts/start.ts", "server.ts", "jobs/worker.ts"])(
    "%s prints one line naming DATABASE_URL and how to start Postgres when Postgres is unreachable",
    async (script) => {
      const port = await freePort();
      const { code, output } = await runEntry(script, { DATABASE_URL: `postgres://root@127.0.0.1:${port}/topicmatch` });
      expect(code).not.toBe(0);
      const lines = output.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^DATABASE_URL=postgres:\/\/root@127\.0\.0\.1:\d+\/topicmatch: cannot reach Postgres \(ECONNREFUSED\); start it with `pg_ctlcluster/);
    },
  );

  it("prints one line naming REDIS_URL when Redis is unreachable", async () => {
    const port = await freePort();
    const { code, output } = await runEntry("jobs/worker.ts", { REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(code).not.toBe(0);
    expect(output.trim().split("\n")).toEqual([
      expect.stringMatching(/^REDIS_URL=redis:\/\/127\.0\.0\.1:\d+: cannot reach Redis \(ECONNREFUSED\); start it with `redis-server/),
    ]);
  });

  it("prints one line naming a malformed setting", async () => {
    const { code, output } = await runEntry("scripts/start.ts", { PORT: "eighty" });
    expect(code).not.toBe(0);
    expect(output.trim().split("\n")).toEqual([expect.stringMatching(/^Invalid setting PORT: .*\(got "eighty"\)$/)]);
  });
});

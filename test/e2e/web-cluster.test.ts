import { describe, expect, it } from "vitest";
import { until } from "../support/wait";
import { descendants, startWebServer } from "../support/app-server";

/** Node processes serving HTTP under the web server (tsx's own process, the cluster primary and its copies). */
function copiesOf(pid: number) {
  return descendants(pid).length;
}

describe("the web server with WEB_PROCESSES=2", () => {
  it("serves from two processes on one port and stops them all on SIGTERM", async () => {
    const web = await startWebServer({ WEB_PROCESSES: "2" });
    try {
      await until(async () => (web.output().match(/listening on/g) ?? []).length === 2, "both copies to listen", 30_000);
      // tsx → primary → two copies.
      expect(copiesOf(web.child.pid!)).toBe(3);
      const statuses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${web.url}/login`).then((r) => r.status)));
      expect(statuses).toEqual(new Array(20).fill(200));
    } finally {
      await web.stop();
    }
    expect(web.child.exitCode ?? web.child.signalCode).not.toBeNull();
  });

  it("stops the other copy and exits non-zero when one copy dies", async () => {
    const web = await startWebServer({ WEB_PROCESSES: "2" });
    try {
      await until(async () => (web.output().match(/listening on/g) ?? []).length === 2, "both copies to listen", 30_000);
      const pids = descendants(web.child.pid!);
      // The copies are the primary's children: the last two processes of the tree.
      process.kill(pids[pids.length - 1], "SIGKILL");
      await until(async () => web.child.exitCode !== null, "the server to exit", 20_000);
      expect(web.child.exitCode).not.toBe(0);
      expect(web.output()).toMatch(/web: process \d+ exited \(SIGKILL\); stopping the others/);
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await web.stop();
    }
  });
});

import { readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeOpenPeriod, makeUser } from "../support/factories";
import { getRequest, postRequest, respond, sessionCookie } from "../support/routes";

const ROUTES_DIR = path.resolve(import.meta.dirname, "../../app/routes");

/**
 * Every admin route module. A new admin route file makes the first test fail
 * until it is listed here, so none escapes the checks below, which call
 * whatever loader and action each module exports.
 */
const ADMIN_ROUTES = [
  "admin._index.tsx",
  "admin.periods.new.tsx",
  "admin.periods.$periodId._index.tsx",
  "admin.periods.$periodId.edit.tsx",
  "admin.periods.$periodId.dashboard.tsx",
  "admin.periods.$periodId.topics._index.tsx",
  "admin.periods.$periodId.topics.$topicId.tsx",
  "admin.periods.$periodId.topics.import.tsx",
  "admin.periods.$periodId.students._index.tsx",
  "admin.periods.$periodId.events._index.tsx",
  "admin.periods.$periodId.events.export.ts",
  "admin.students.import.tsx",
  "admin.queues.tsx",
  "admin.periods.$periodId.assignment.tsx",
  "admin.periods.$periodId.assignment_.$runId.tsx",
  "admin.periods.$periodId.assignment_.$runId.csv.ts",
  "admin.periods.$periodId.assignment_.compare.tsx",
];

/**
 * What an admin gets where it is not 200: no assignment run is stored here,
 * so a run's pages answer 404 and the comparison (which needs two runs) 400.
 * Either way the guard let the admin in.
 */
const ADMIN_STATUS: Record<string, number> = {
  "admin.periods.$periodId.assignment_.$runId.tsx": 404,
  "admin.periods.$periodId.assignment_.$runId.csv.ts": 404,
  "admin.periods.$periodId.assignment_.compare.tsx": 400,
};

type RouteModule = {
  loader?: (args: { request: Request; params: Record<string, string>; context: object }) => Promise<unknown>;
  action?: (args: { request: Request; params: Record<string, string>; context: object }) => Promise<unknown>;
};

function adminRouteFiles(): string[] {
  return readdirSync(ROUTES_DIR)
    .filter((file) => /^admin[._]/.test(file) && /\.(ts|tsx)$/.test(file) && !/\.test\.tsx?$/.test(file))
    .sort();
}

/** The URL path and params of a flat-routes file name, filling dynamic segments from `values`. */
function urlFor(file: string, values: Record<string, string>) {
  const params: Record<string, string> = {};
  const segments = file
    .replace(/\.(ts|tsx)$/, "")
    .split(".")
    .filter((segment) => segment !== "_index")
    .map((segment) => segment.replace(/_$/, ""))
    .map((segment) => {
      if (!segment.startsWith("$")) return segment;
      const name = segment.slice(1);
      params[name] = values[name] ?? "00000000-0000-4000-8000-000000000000";
      return params[name];
    });
  return { path: `/${segments.join("/")}`, params };
}

async function load(file: string): Promise<RouteModule> {
  return import(/* @vite-ignore */ path.join(ROUTES_DIR, file));
}

let studentCookie: string;
let adminCookie: string;
let ids: Record<string, string>;

beforeAll(async () => {
  const [student, admin, { period, topics }] = await Promise.all([
    makeUser(),
    makeUser({ role: "admin" }),
    makeOpenPeriod({ topicCount: 2 }),
  ]);
  [studentCookie, adminCookie] = await Promise.all([sessionCookie(student.id), sessionCookie(admin.id)]);
  ids = { periodId: period.id, topicId: topics[0].id };
});

describe("admin routes", () => {
  it("are all listed in this test", async () => {
    expect(adminRouteFiles()).toEqual([...ADMIN_ROUTES].sort());
  });

  describe.each(ADMIN_ROUTES)("%s", (file) => {
    it("sends an anonymous visitor to sign in and answers 403 to a student, for GET and POST", async () => {
      const module = await load(file);
      const { path: url, params } = urlFor(file, ids);
      const calls: [string, RouteModule["loader"], (cookie?: string) => Request][] = [
        ["loader", module.loader, (cookie) => getRequest(url, cookie)],
        ["action", module.action, (cookie) => postRequest(url, { intent: "open" }, cookie)],
      ];
      expect(module.loader ?? module.action).toBeTypeOf("function");
      for (const [kind, handler, request] of calls) {
        if (!handler) continue;
        const anonymous = await respond(() => handler({ request: request(), params, context: {} }));
        expect({ kind, status: anonymous.status }).toEqual({ kind, status: 302 });
        expect(anonymous.headers.get("Location")).toBe(`/login?redirectTo=${encodeURIComponent(url)}`);
        const student = await respond(() => handler({ request: request(studentCookie), params, context: {} }));
        expect({ kind, status: student.status }).toEqual({ kind, status: 403 });
        expect(await student.text()).toBe("Only administrators may open this page.");
      }
    });

    it("lets an admin through", async () => {
      const module = await load(file);
      const { path: url, params } = urlFor(file, ids);
      const search = file.endsWith("export.ts") ? "?format=json" : "";
      const response = await respond(() => module.loader!({ request: getRequest(`${url}${search}`, adminCookie), params, context: {} }));
      expect(response.status).toBe(ADMIN_STATUS[file] ?? 200);
    });
  });
});

import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "../../scripts/lib/paths";

/** Browser tests run the production build, so build it once per run. */
export default async function buildApp() {
  execFileSync(`${REPO_ROOT}/node_modules/.bin/remix`, ["build"], { cwd: REPO_ROOT, stdio: "pipe" });
}

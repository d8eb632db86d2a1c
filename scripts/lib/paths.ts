import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** shared/ sits beside the repository, on developer machines and in CI alike. */
export const AGH_SOC_PATH = path.resolve(REPO_ROOT, "../shared/data/preflib-00009-agh-2003.soc");

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root, found from this file (test/support/soc.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The AGH 2003 PrefLib file; in CI `shared/` sits beside the repository. */
export const aghSocPath = path.resolve(repoRoot, "../shared/data/preflib-00009-agh-2003.soc");

/**
 * Minimal PrefLib .soc reader for tests (the app's own parser lives in
 * app/models/preflib.ts): expands `COUNT: a,b,c` lines into one ranking per
 * voter, alternatives as 1-based numbers.
 */
export function readSocRankings(file: string): { alternatives: number; rankings: number[][] } {
  let alternatives = 0;
  const rankings: number[][] = [];
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (trimmed.startsWith("#")) {
      const match = /^#\s*NUMBER ALTERNATIVES:\s*(\d+)/.exec(trimmed);
      if (match) alternatives = Number(match[1]);
      continue;
    }
    const [count, order] = trimmed.split(":");
    const ranking = order.split(",").map((item) => Number(item.trim()));
    for (let k = 0; k < Number(count); k++) rankings.push(ranking);
  }
  return { alternatives, rankings };
}

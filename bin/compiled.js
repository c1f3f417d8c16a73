// Which entry to run: dist/ (compiled by `npm run build`) when it exists and
// no TypeScript source is newer than it, so that a checkout whose sources
// were edited after the last build runs the sources, never a stale build.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// The directories tsconfig.build.json compiles, and its top-level files.
const SOURCE_DIRS = ["model", "properties", "checker", "counterexamples", "costs", "cli"];
const SOURCE_FILES = ["index.ts", "vitest.ts"];

/** The newest modification time (ms) of a TypeScript source or the default cost table, 0 if there are none (an installed package). */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const s = statSync(path, { throwIfNoEntry: false });
    if (s === undefined) return;
    if (s.isDirectory()) {
      // counterexamples/corpus holds data files, not sources.
      if (!path.endsWith("corpus")) for (const e of readdirSync(path)) visit(join(path, e));
    } else if (/\.ts$|default-costs\.json$/.test(path) && s.mtimeMs > newest) {
      newest = s.mtimeMs;
    }
  };
  for (const d of SOURCE_DIRS) visit(join(ROOT, d));
  for (const f of SOURCE_FILES) visit(join(ROOT, f));
  return newest;
}

/** The file URL of dist/<rel> if the build is there and current, else null. */
export function compiledEntry(rel) {
  if (process.env.DMACHECK_FROM_SOURCE === "1") return null;
  const stamp = join(ROOT, "dist", ".build-stamp");
  const file = join(ROOT, "dist", rel);
  if (!existsSync(file)) return null;
  // An installed package ships dist/ and no sources.
  if (!existsSync(join(ROOT, "cli", "main.ts"))) return pathToFileURL(file).href;
  const built = statSync(stamp, { throwIfNoEntry: false });
  if (built === undefined || newestSource() > built.mtimeMs) return null;
  return pathToFileURL(file).href;
}

/**
 * Imports dist/<rel> when it is current, else registers tsx's loader (in this
 * thread) and imports the TypeScript source `ts` (a path relative to bin/).
 */
export async function importCompiledOrSource(rel, ts) {
  const compiled = compiledEntry(rel);
  if (compiled !== null) return import(compiled);
  const { register } = await import("tsx/esm/api");
  register();
  return import(new URL(ts, import.meta.url).href);
}

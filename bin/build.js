#!/usr/bin/env node
// `npm run build` (and `prepare`, on install and pack): compiles the
// TypeScript sources to JavaScript with declarations in dist/
// (tsconfig.build.json), copies the default cost table beside the module
// that reads it, and stamps the build with the time it started, so that
// bin/compiled.js can tell a source edited since then.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const started = new Date();

rmSync(DIST, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
if (r.status !== 0) {
  // A checkout being installed (`npm ci`, `npm install`) still works from its
  // sources (bin/compiled.js finds no build), so a failed build only warns
  // there; packing or publishing without dist/ would ship a broken package.
  const packing = ["pack", "publish"].includes(process.env.npm_command ?? "") || process.env.npm_lifecycle_event !== "prepare";
  process.stderr.write(`dmacheck build: tsc failed (status ${r.status ?? r.signal})${packing ? "" : "; dmacheck will run from its TypeScript sources"}\n`);
  rmSync(DIST, { recursive: true, force: true });
  if (packing) process.exitCode = 1;
} else {
  mkdirSync(join(DIST, "costs"), { recursive: true });
  copyFileSync(join(ROOT, "costs", "default-costs.json"), join(DIST, "costs", "default-costs.json"));
  const stamp = join(DIST, ".build-stamp");
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}

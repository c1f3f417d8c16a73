// Runs the dmacheck command line as a user would, for the end-to-end tests in cli.test.ts.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root (the checkout this file is in). */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult {
  /** Exit status; null if the process was killed (see `signal`). */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `node bin/dmacheck.js ...args` from the repository root (or `cwd`), without
 * colours, and with DMACHECK_DEBUG cleared so that internal errors stay one
 * line whatever the caller's environment is.
 */
/**
 * A `check` that does not say how far to take the race pass gets a small one
 * (`--race-states 2000`): the default 100,000 states per policy, run by every
 * CLI test, would take minutes of the suite. The race pass itself is tested
 * with its own bounds (cli.test.ts "the race pass", test/checker/race.test.ts).
 */
export function withTestRaceBound(args: readonly string[]): readonly string[] {
  if (args[0] !== "check" || args.some((a) => a === "--race-states" || a === "--no-race" || a === "--race")) return args;
  return [...args, "--race-states", "2000"];
}

export function runCli(rawArgs: readonly string[], opts: { cwd?: string } = {}): CliResult {
  const args = withTestRaceBound(rawArgs);
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.DMACHECK_DEBUG;
  delete env.FORCE_COLOR;
  const bin = opts.cwd === undefined ? "bin/dmacheck.js" : fileURLToPath(new URL("../../bin/dmacheck.js", import.meta.url));
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? REPO,
    encoding: "utf8",
    env,
    timeout: 90_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

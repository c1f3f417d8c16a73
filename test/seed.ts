/**
 * One fast-check seed for a whole test run, so that a failing property test
 * can be rerun exactly. `DMACHECK_SEED=S` sets it (an integer); `S:PATH`
 * also replays fast-check's path straight to the shrunk counterexample (use
 * it with `-t`, since the path belongs to one property). Without the variable
 * vitest.config.ts draws a seed, exports it to the workers and the summary
 * reporter prints it. See docs/testing.md.
 */
export const SEED_VAR = "DMACHECK_SEED";

export interface SeedSpec {
  readonly seed: number;
  readonly path?: string;
}

/** Parses `S` or `S:PATH`; a one-line message naming the variable on bad input. */
export function parseSeed(text: string): SeedSpec | string {
  const m = /^\s*(-?\d+)(?::(\d+(?::\d+)*))?\s*$/.exec(text);
  if (m === null) return `${SEED_VAR}=${JSON.stringify(text)}: expected an integer seed, optionally followed by :PATH (e.g. 42 or 42:3:1:0)`;
  const seed = Number(m[1]);
  if (!Number.isSafeInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) return `${SEED_VAR}=${JSON.stringify(text)}: the seed must fit in 32 bits`;
  return m[2] === undefined ? { seed: seed | 0 } : { seed: seed | 0, path: m[2] };
}

/** A fresh seed for a run that was given none: non-negative, 31 bits. */
export function drawSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/** The command that reruns one failing property test with its seed and path. */
export function rerunHint(seed: number, path: string | null, file: string | undefined, test: string | undefined): string {
  const spec = path === null || path === "" ? `${seed}` : `${seed}:${path}`;
  const where = file === undefined ? "" : ` ${file}`;
  const only = test === undefined || test === "" ? "" : ` -t '${test.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/'/g, "'\\''")}'`;
  return `Rerun: ${SEED_VAR}=${spec} npx vitest run${where}${only}`;
}

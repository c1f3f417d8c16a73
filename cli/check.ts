/** `dmacheck check`: the policy x property matrix. */
import { dirname, join, relative, resolve } from "node:path";
import cliProgress from "cli-progress";
import { DEFAULT_CONFIG } from "../model/config.ts";
import { BROKEN_POLICIES, findAnyPolicy, POLICIES } from "../model/policies/index.ts";
import { PROPERTIES, findProperty } from "../properties/index.ts";
import { type Property } from "../properties/property.ts";
import { checkCell, type CellResult, type MatrixOptions, type PolicyEntry } from "../checker/matrix.ts";
import { loadPolicyModule } from "../checker/policy-module.ts";
import { writeCounterexampleFile } from "../counterexamples/file.ts";
import { counterexampleFileName } from "../counterexamples/build.ts";
import { EXIT_OK, EXIT_VIOLATION, fail } from "./errors.ts";
import { renderMatrix } from "./render-matrix.ts";

export interface CheckFlags {
  readonly policy?: string[];
  readonly property?: string[];
  readonly runs: number;
  readonly seed: number;
  readonly maxEvents: number;
  readonly path?: string;
  readonly json?: boolean;
  readonly out: string;
  readonly policyModule?: string;
  readonly timing: boolean;
}

export async function runCheck(flags: CheckFlags): Promise<number> {
  const entries = await selectPolicies(flags);
  const props = selectProperties(flags.property);
  if (flags.path !== undefined && !/^\d+(:\d+)*$/.test(flags.path)) fail(`--path must look like 12:0:3 (a fast-check path), got ${JSON.stringify(flags.path)}`);
  const opts: MatrixOptions = { config: DEFAULT_CONFIG, runs: flags.runs, seed: flags.seed, maxEvents: flags.maxEvents, timing: flags.timing, path: flags.path };
  const cells = entries.length * props.length;
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ stream: process.stderr, format: "checking {cell} [{bar}] {value}/{total}", clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(cells, 0, { cell: "" });
  const results: { cell: CellResult; file: string | null }[] = [];
  for (const entry of entries) {
    for (const prop of props) {
      bar?.update({ cell: `${entry.policy.name} x ${prop.name}` });
      const cell = guardPolicy(entry, () => checkCell(entry, prop, opts));
      let file: string | null = null;
      if (cell.counterexample) {
        file = join(flags.out, counterexampleFileName(cell.policy, cell.property));
        // A user's module is recorded relative to the counterexample file, so the two can move together.
        const cx = entry.module === null ? cell.counterexample : { ...cell.counterexample, policyModule: relative(dirname(file), resolve(entry.module)) };
        const w = writeCounterexampleFile(file, cx);
        if (!w.ok) {
          bar?.stop();
          fail(`--out: ${w.error}`);
        }
      }
      results.push({ cell, file });
      bar?.increment();
    }
  }
  bar?.stop();
  if (flags.json) {
    const doc = {
      tool: "dmacheck",
      engine: "random",
      seed: flags.seed,
      runs: flags.runs,
      maxEvents: flags.maxEvents,
      config: DEFAULT_CONFIG,
      results: results.map(({ cell, file }) => ({
        policy: cell.policy, property: cell.property, claimed: cell.claimed, verdict: cell.verdict, runs: cell.runs,
        counterexample: file, length: cell.length, ms: cell.ms, explanation: cell.explanation,
      })),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
  } else {
    process.stdout.write(renderMatrix(results, { runs: flags.runs, seed: flags.seed, maxEvents: flags.maxEvents, timing: flags.timing, out: flags.out }));
  }
  return results.some((r) => r.cell.claimed && r.cell.verdict === "violated") ? EXIT_VIOLATION : EXIT_OK;
}

async function selectPolicies(flags: CheckFlags): Promise<PolicyEntry[]> {
  const out: PolicyEntry[] = [];
  const names = flags.policy ?? (flags.policyModule ? [] : POLICIES.map((p) => p.name));
  for (const n of names) {
    const p = findAnyPolicy(n);
    if (!p) {
      fail(`--policy: unknown policy ${JSON.stringify(n)} (built-in: ${POLICIES.map((q) => q.name).join(", ")}; broken variants: ${BROKEN_POLICIES.map((q) => q.name).join(", ")})`);
    }
    if (!out.some((e) => e.policy.name === p.name)) out.push({ policy: p, module: null });
  }
  if (flags.policyModule) {
    const loaded = await loadPolicyModule(flags.policyModule);
    if (!loaded.ok) fail(`--policy-module ${loaded.error}`);
    if (out.some((e) => e.policy.name === loaded.policy.name)) fail(`--policy-module ${flags.policyModule}: its name ${JSON.stringify(loaded.policy.name)} is already taken`);
    out.push({ policy: loaded.policy, module: flags.policyModule });
  }
  if (out.length === 0) fail("--policy: no policy selected");
  return out;
}

function selectProperties(names: string[] | undefined): Property[] {
  if (!names) return [...PROPERTIES];
  if (names.length === 0) fail("--property: no property selected");
  return names.map((n) => findProperty(n) ?? fail(`--property: unknown property ${JSON.stringify(n)} (known: ${PROPERTIES.map((p) => p.name).join(", ")})`));
}

/** Runs `f`; an exception from a user's policy module is bad input that names the module. */
export function guardPolicy<T>(entry: PolicyEntry, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (entry.module === null) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    fail(`--policy-module ${entry.module}: the policy threw: ${msg.split("\n")[0]} (handlers must return DONE, FAIL or a phase, never throw)`);
  }
}

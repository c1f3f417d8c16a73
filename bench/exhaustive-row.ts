/**
 * One row of the exhaustive table of `npm run bench`, in a process of its own
 * so that its peak resident memory (getrusage maxRSS) is this search's: a
 * built-in policy's search of a named scope, printed as one JSON line.
 * Usage: node --expose-gc bin/run-ts.js bench/exhaustive-row.ts POLICY default|race|device [MAX_STATES [THREADS]]
 * THREADS 2 or more splits the search over THREADS - 1 worker threads and
 * this one (checker/split-search.ts; the workers' start-up is counted).
 * BENCH_REDUCTION=slots (slot symmetry only) or none measures the search
 * without CPU symmetry, or without any reduction; default: both where they apply.
 * BENCH_RECENT=off measures it without skipping successors generated before
 * (checker/recent-successors.ts): the same search, to time what that saves.
 */
import { findPolicy } from "../model/policies/index.ts";
import { makeSystem } from "../model/system.ts";
import { PROPERTIES } from "../properties/index.ts";
import { exhaustiveCheck } from "../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE, raceScopesFor } from "../checker/scope.ts";
import { symmetryReduction } from "../checker/cpu-symmetry.ts";
import { slotSymmetry } from "../checker/symmetry.ts";
import { BENCH_SCOPES } from "./scopes.ts";
import { SearchPool } from "../checker/split-search.ts";

const [name, scopeName, max, threadsArg] = process.argv.slice(2);
const threads = threadsArg === undefined ? 1 : Number(threadsArg);
const policy = findPolicy(name);
const named = BENCH_SCOPES[scopeName];
// The race scopes as the race pass uses them: two devices in the race scope for a policy with
// per-device state, and then no device race scope (its row says "none").
const races = policy === undefined ? [] : raceScopesFor(policy, DEFAULT_SCOPE.config);
const scope = named === undefined || policy === undefined ? undefined : scopeName === "race" ? races[0] : scopeName === "device" ? races[1] ?? null : named;
if (scope === null) {
  process.stdout.write(JSON.stringify({ policy: name, scope: scopeName, none: true }) + "\n");
  process.exit(0);
}
if (policy === undefined || scope === undefined) {
  process.stderr.write(`usage: exhaustive-row.ts POLICY ${Object.keys(BENCH_SCOPES).join("|")} [MAX_STATES]\n`);
  process.exit(2);
}
const sys = makeSystem(scope.config, policy);
const alphabet = alphabetEvents(scope);
const reduction = process.env.BENCH_REDUCTION ?? "all";
const red = symmetryReduction(sys, alphabet);
const canonical = reduction === "none" ? null : reduction === "slots" ? slotSymmetry(sys, alphabet) : red.canonical;
const cpuSymmetry = reduction === "all" && red.cpus;
if (threads > 1 && reduction === "slots") {
  // A worker rebuilds the full reduction from spec.symmetry; it would fingerprint differently.
  process.stderr.write("BENCH_REDUCTION=slots runs on one thread only\n");
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rssBefore = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const pool = threads > 1 ? new SearchPool(threads - 1) : null;
const split = pool === null ? null : {
  pool, spec: { policy: name, module: null, config: scope.config, alphabet, properties: PROPERTIES.map((p) => p.name), symmetry: canonical !== null, observe: false, maxLevel: 101 },
};
const recentSuccessors = process.env.BENCH_RECENT !== "off";
const r = exhaustiveCheck(sys, PROPERTIES, alphabet, { depth: 100, maxStates: max === undefined ? 5_000_000 : Number(max), canonical, split, recentSuccessors });
const wallMs = performance.now() - t0;
pool?.close();
const cpu = process.cpuUsage(cpu0);
const peak = process.resourceUsage().maxRSS * 1024; // kilobytes
process.stdout.write(JSON.stringify({
  policy: name, scope: scopeName, threads, states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped, ms: r.ms, wallMs, cpuMs: (cpu.user + cpu.system) / 1000,
  visitedBytesPerState: r.bytesPerState, peakBytes: Math.max(0, peak - rssBefore), symmetry: canonical !== null, cpuSymmetry, recentSuccessors,
}) + "\n");

/**
 * One row of the exhaustive table of `npm run bench`, in a process of its own
 * so that its peak resident memory (getrusage maxRSS) is this search's: a
 * built-in policy's search of a named scope, printed as one JSON line.
 * Usage: node --expose-gc bin/run-ts.js bench/exhaustive-row.ts POLICY default|race [MAX_STATES]
 */
import { findPolicy } from "../model/policies/index.ts";
import { makeSystem } from "../model/system.ts";
import { PROPERTIES } from "../properties/index.ts";
import { exhaustiveCheck } from "../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE, raceScopeFor } from "../checker/scope.ts";
import { slotSymmetry } from "../checker/symmetry.ts";
import { BENCH_SCOPES } from "./scopes.ts";

const [name, scopeName, max] = process.argv.slice(2);
const policy = findPolicy(name);
const named = BENCH_SCOPES[scopeName];
// The race scope as the race pass uses it: two devices for a policy with per-device state.
const scope = named !== undefined && policy !== undefined && scopeName === "race" ? raceScopeFor(policy, DEFAULT_SCOPE.config) : named;
if (policy === undefined || scope === undefined) {
  process.stderr.write(`usage: exhaustive-row.ts POLICY ${Object.keys(BENCH_SCOPES).join("|")} [MAX_STATES]\n`);
  process.exit(2);
}
const sys = makeSystem(scope.config, policy);
const alphabet = alphabetEvents(scope);
const canonical = slotSymmetry(sys, alphabet);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rssBefore = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const r = exhaustiveCheck(sys, PROPERTIES, alphabet, { depth: 100, maxStates: max === undefined ? 5_000_000 : Number(max), canonical });
const cpu = process.cpuUsage(cpu0);
const peak = process.resourceUsage().maxRSS * 1024; // kilobytes
process.stdout.write(JSON.stringify({
  policy: name, scope: scopeName, states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped, ms: r.ms, cpuMs: (cpu.user + cpu.system) / 1000,
  visitedBytesPerState: r.bytesPerState, peakBytes: Math.max(0, peak - rssBefore), symmetry: canonical !== null,
}) + "\n");

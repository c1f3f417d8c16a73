/**
 * `npm run bench`: model steps per second with every property checked, on a
 * standard random workload, and time to first violation and shrink time for
 * each violated cell of the default matrix. Figures only; nothing asserted.
 */
import fc from "fast-check";
import { DEFAULT_CONFIG } from "../model/config.ts";
import { type Event } from "../model/events.ts";
import { Observation } from "../model/observation.ts";
import { POLICIES } from "../model/policies/index.ts";
import { makeSystem, Stepper } from "../model/system.ts";
import { PROPERTIES } from "../properties/index.ts";
import { eventsArbitrary } from "../checker/arbitraries.ts";
import { randomCheck } from "../checker/random.ts";
import { fingerprintInto } from "../model/fingerprint.ts";
import { exhaustiveCheck } from "../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../checker/scope.ts";

const SEQUENCES = 4000;
const LENGTH = 24;
const REPEAT = 9;

// The standard workload: 4000 generated sequences of 16 to 24 events (seed 1),
// each run from the initial state, as the random engine runs them.
const workload: Event[][] = fc
  .sample(eventsArbitrary(DEFAULT_CONFIG, LENGTH), { numRuns: SEQUENCES * 8, seed: 1 })
  .filter((s) => s.length >= 16)
  .slice(0, SEQUENCES);
const totalEvents = workload.reduce((n, s) => n + s.length, 0);

function runOnce(policyName: string, checks: boolean): number {
  const sys = makeSystem(DEFAULT_CONFIG, POLICIES.find((p) => p.name === policyName)!);
  const obs = new Observation();
  const st = new Stepper(sys, obs);
  let sink = 0;
  const t0 = performance.now();
  for (const seq of workload) {
    let s = sys.init;
    for (const e of seq) {
      const pre = s;
      s = st.step(s, e);
      if (checks) for (const p of PROPERTIES) if (p.check(sys, pre, e, obs, s) !== null) sink++;
    }
  }
  const ms = performance.now() - t0;
  if (sink < 0) console.log(sink);
  return totalEvents / (ms / 1000);
}

/** Steps per second, median and best of REPEAT interleaved runs (this VM's timing is noisy). */
function stepsPerSecond(): Map<string, { median: number; best: number }> {
  const keys = POLICIES.flatMap((p) => [`${p.name}/checks`, `${p.name}/plain`]);
  const samples = new Map<string, number[]>(keys.map((k) => [k, []]));
  for (const p of POLICIES) runOnce(p.name, true); // warm-up
  for (let r = 0; r < REPEAT; r++) {
    for (const p of POLICIES) {
      samples.get(`${p.name}/checks`)!.push(runOnce(p.name, true));
      samples.get(`${p.name}/plain`)!.push(runOnce(p.name, false));
    }
  }
  const out = new Map<string, { median: number; best: number }>();
  for (const [k, v] of samples) {
    v.sort((a, b) => a - b);
    out.set(k, { median: v[Math.floor(v.length / 2)], best: v[v.length - 1] });
  }
  return out;
}

function fingerprintsPerSecond(): number {
  const sys = makeSystem(DEFAULT_CONFIG, POLICIES[1]);
  const out = new Uint32Array(2);
  const n = 200000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fingerprintInto(sys.init, out);
  return n / ((performance.now() - t0) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(`dmacheck bench (node ${process.version}, one core)`);
console.log(`workload: ${workload.length} random sequences of 16-24 events (${totalEvents} events), default configuration; ${REPEAT} interleaved runs`);
console.log("");
const sps = stepsPerSecond();
console.log(`policy        steps/s, ${PROPERTIES.length} properties checked (median / best)   steps/s, no checks (median / best)`);
for (const p of POLICIES) {
  const c = sps.get(`${p.name}/checks`)!;
  const n = sps.get(`${p.name}/plain`)!;
  console.log(`${p.name.padEnd(14)}${`${fmt(c.median)} / ${fmt(c.best)}`.padStart(38)}   ${`${fmt(n.median)} / ${fmt(n.best)}`.padStart(34)}`);
}
const sys0 = makeSystem(DEFAULT_CONFIG, POLICIES[1]);
const words = sys0.init.reduce((n, c) => n + c.length, 0);
console.log("");
console.log(`state: ${words} words (${words * 4} bytes) in ${sys0.init.length} components; fingerprints/s: ${fmt(fingerprintsPerSecond())}`);
console.log("");
console.log("violated cells (random engine, seed 42, up to 10000 runs of 24 events):");
console.log("policy        property            events  run   first violation   shrinking");
for (const policy of POLICIES) {
  const sys = makeSystem(DEFAULT_CONFIG, policy);
  for (const prop of PROPERTIES) {
    const r = randomCheck(sys, prop, { runs: 10000, seed: 42, maxEvents: 24 });
    if (r.verdict !== "violated") continue;
    console.log(`${policy.name.padEnd(14)}${prop.name.padEnd(20)}${String(r.events!.length).padStart(6)}${String(r.runs).padStart(6)}${`${r.msToFind.toFixed(1)} ms`.padStart(18)}${`${(r.ms - r.msToFind).toFixed(1)} ms`.padStart(12)}`);
  }
}

// Exhaustive engine: the default scope on each built-in policy (strict holds
// every claimed property, so its whole space is explored). "States explored"
// are transitions: every event applied to every reached state, each checked
// against the four properties and fingerprinted.
console.log("");
console.log(`exhaustive engine, default scope (${alphabetEvents(DEFAULT_SCOPE).length}-event alphabet), best of 9 searches after a warm-up:`);
for (const policy of POLICIES) exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, policy), PROPERTIES, alphabetEvents(DEFAULT_SCOPE), { depth: 100, maxStates: 5_000_000 });
console.log("policy        distinct states   explored (transitions)   depth   explored/s     distinct/s   bytes/stored state");
for (const policy of POLICIES) {
  let best = { ms: Infinity, states: 0, transitions: 0, depth: 0, bytes: 0, stopped: "" };
  for (let i = 0; i < 9; i++) {
    const r = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, policy), PROPERTIES, alphabetEvents(DEFAULT_SCOPE), { depth: 100, maxStates: 5_000_000 });
    if (r.ms < best.ms) best = { ms: r.ms, states: r.states, transitions: r.transitions, depth: r.depth, bytes: r.bytesPerState, stopped: r.stopped };
  }
  console.log(`${policy.name.padEnd(14)}${fmt(best.states).padStart(15)}${fmt(best.transitions).padStart(25)}${String(best.depth).padStart(8)}${fmt(best.transitions / (best.ms / 1000)).padStart(13)}${fmt(best.states / (best.ms / 1000)).padStart(15)}${best.bytes.toFixed(1).padStart(21)}  (${best.stopped})`);
}

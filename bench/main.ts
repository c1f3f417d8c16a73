/**
 * `npm run bench`: model steps per second with every property checked, on a
 * standard random workload, and time to first violation and shrink time for
 * each violated cell of the default matrix; the exhaustive engine's states,
 * states/s and peak memory per state per policy, the speed-up of one search
 * split over 2 threads per policy (race scope), and the speed-up of 2 cell
 * workers over 1 (with and without the race pass), and where an expanded
 * state's time goes (bench/cost-split.ts). Figures only; nothing asserted.
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
import { alphabetEvents, DEVICE_RACE_SCOPE } from "../checker/scope.ts";
import { runCellTasks, type CellTask } from "../checker/cell-pool.ts";
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { OLD_DEFAULT_SCOPE, RACE_BENCH_SCOPE } from "./scopes.ts";

const SEQUENCES = 4000;
const LENGTH = 24;
const REPEAT = 3;

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

// Exhaustive engine, per built-in policy: the default scope (exhausted), and
// the race scope up to RACE_MAX_STATES. Each row runs in a process of its own
// (bench/exhaustive-row.ts) so that its peak resident memory is its own:
// "peak B/state" is (peak RSS - RSS before the search) / distinct states, so it
// counts the visited set, the frontier and garbage not yet collected.
const RACE_MAX_STATES = 100_000;
function row(policy: string, scope: string, max?: number, threads = 1): RowResult {
  const args = ["--expose-gc", "bin/run-ts.js", "bench/exhaustive-row.ts", policy, scope, ...(max === undefined ? [] : [String(max)]), ...(threads === 1 ? [] : [String(threads)])];
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench/exhaustive-row.ts ${policy} ${scope}: ${r.stderr.split("\n")[0]}`);
  return JSON.parse(r.stdout) as RowResult;
}
interface RowResult { states: number; transitions: number; depth: number; stopped: string; ms: number; wallMs: number; cpuMs: number; peakBytes: number; visitedBytesPerState: number; symmetry: boolean; none?: boolean }
console.log("");
console.log(`exhaustive engine, one search per policy and scope, each in its own process (one core); ${PROPERTIES.length} properties checked`);
console.log(`default scope: ${alphabetEvents(OLD_DEFAULT_SCOPE).length}-event alphabet; race scope (the race pass's): 2 CPUs, 2 unmappable mappings, sub-page, one-page and page-crossing buffers (${alphabetEvents(RACE_BENCH_SCOPE).length}-event alphabet), and device race scope (the same on 1 CPU and 2 devices, ${alphabetEvents(DEVICE_RACE_SCOPE).length} events; none for a policy whose race scope has 2 devices), each at most ${fmt(RACE_MAX_STATES)} states`);
// Rates per second of wall-clock time and per second of the process's CPU time
// (the same on an idle machine; on a loaded one the CPU rate is the engine's).
console.log("policy        scope     distinct states   depth   distinct/s   distinct/cpu-s   transitions/s   peak B/state   end");
for (const policy of POLICIES) {
  for (const [scope, max] of [["default", undefined], ["race", RACE_MAX_STATES], ["device", RACE_MAX_STATES]] as const) {
    const r = row(policy.name, scope, max);
    if (r.none === true) continue;
    const sec = r.ms / 1000;
    const end = r.stopped === "exhausted" ? "exhausted" : `stopped (${r.stopped})`;
    console.log(`${policy.name.padEnd(14)}${scope.padEnd(8)}${fmt(r.states).padStart(17)}${String(r.depth).padStart(8)}${fmt(r.states / sec).padStart(13)}${fmt(r.states / (r.cpuMs / 1000)).padStart(17)}${fmt(r.transitions / sec).padStart(16)}${fmt(r.peakBytes / r.states).padStart(15)}   ${end}${r.symmetry ? ", slot symmetry" : ""}`);
  }
}

// Memory at scale: lazy's race scope up to 400,000 and 1,600,000 states, each
// in its own process. The peak resident-set growth per state falls towards
// the marginal cost, (peak at 1.6M - peak at 400k) / 1.2M states, as Node's
// fixed costs are spread; "visited+tree" is the search's own structures.
console.log("");
console.log("memory at scale (lazy, race scope, one thread): states, peak RSS growth per state, visited set + search tree per state");
const small = row("lazy", "race", 400_000);
const large = row("lazy", "race", 1_600_000);
for (const r of [small, large]) console.log(`${fmt(r.states).padStart(12)} states   ${fmt(r.peakBytes / r.states).padStart(5)} B/state peak RSS growth   ${r.visitedBytesPerState.toFixed(1)} B/state visited+tree   ${fmt(r.states / (r.ms / 1000))} distinct/s`);
console.log(`marginal: ${fmt((large.peakBytes - small.peakBytes) / (large.states - small.states))} B of peak RSS per state from ${fmt(small.states)} to ${fmt(large.states)}`);

// One search split over threads (checker/split-search.ts; `dmacheck check
// --workers 2` on one policy): each policy's race scope up to SPLIT_MAX_STATES
// states on one thread, then on two (one worker thread and the search's own),
// each in a process of its own, the worker's start-up and warm-up included.
const SPLIT_MAX_STATES = 4 * RACE_MAX_STATES;
console.log("");
console.log(`split search: race scope up to ${fmt(SPLIT_MAX_STATES)} states, 1 thread and 2 threads (${availableParallelism()} cores); the same states, depth and verdicts either way`);
console.log("policy        distinct states   depth   1 thread s   2 threads s   speed-up   distinct/s (2 threads)");
for (const policy of POLICIES) {
  const one = row(policy.name, "race", SPLIT_MAX_STATES, 1);
  const two = row(policy.name, "race", SPLIT_MAX_STATES, 2);
  if (one.states !== two.states || one.depth !== two.depth || one.transitions !== two.transitions) throw new Error(`split search of ${policy.name} differs from the single-threaded one`);
  console.log(`${policy.name.padEnd(14)}${fmt(one.states).padStart(15)}${String(one.depth).padStart(8)}${(one.wallMs / 1000).toFixed(2).padStart(13)}${(two.wallMs / 1000).toFixed(2).padStart(14)}${`${(one.wallMs / two.wallMs).toFixed(2)}x`.padStart(11)}${fmt(two.states / (two.wallMs / 1000)).padStart(25)}`);
}

// Cells on worker threads (dmacheck check --workers): the exhaustive matrix of
// the default scope (one task per policy), then the same with each policy's
// race pass (the race scope up to RACE_MAX_STATES states, as `dmacheck check`
// runs it), wall time with 1 and 2 workers, worker start-up included.
console.log("");
for (const race of [false, true]) {
  const tasks: CellTask[] = POLICIES.map((p) => ({
    kind: "exhaustive", policy: p.name, module: null, properties: PROPERTIES.map((q) => q.name),
    opts: { scope: OLD_DEFAULT_SCOPE, depth: 40, maxStates: 2_000_000, timing: true, race: race ? { base: OLD_DEFAULT_SCOPE.config, maxStates: RACE_MAX_STATES } : null },
  }));
  const wall: number[] = [];
  for (const n of [1, 2]) {
    const t0 = performance.now();
    const res = await runCellTasks(tasks, n);
    if (res.some((x) => !x.ok)) throw new Error("a cell failed in a worker");
    wall.push(performance.now() - t0);
  }
  const what = race ? `default scope and race pass up to ${fmt(RACE_MAX_STATES)} states` : "default scope";
  console.log(`workers (exhaustive matrix, ${what}, ${tasks.length} cells, ${availableParallelism()} cores): 1 worker ${(wall[0] / 1000).toFixed(1)} s, 2 workers ${(wall[1] / 1000).toFixed(1)} s, speed-up ${(wall[0] / wall[1]).toFixed(2)}x`);
}

// Where an expanded state's time goes (bench/cost-split.ts): strict (both
// symmetry reductions) and lazy (slot symmetry only), race scope, 100,000 states.
console.log("");
for (const name of ["strict", "lazy"]) {
  const r = spawnSync(process.execPath, ["bin/run-ts.js", "bench/cost-split.ts", name, "100000"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench/cost-split.ts ${name}: ${r.stderr.split("\n")[0]}`);
  process.stdout.write(r.stdout);
}

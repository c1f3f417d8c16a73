/**
 * Where the exhaustive engine's time goes, per expanded state of a built-in
 * policy's race scope (docs/exhaustive.md "Speed"): collects STATES distinct
 * states breadth-first, then times, over those states and every alphabet
 * event, four loops that each add one part of what expanding a state costs:
 * the steps; the steps and every property check (refused steps skipped, as
 * the engine does); the steps and the successors' plain fingerprints
 * (component hashes updated from the parent's); the steps and the
 * fingerprints of the successors' symmetry representatives. A fifth loop
 * fingerprints as the engine does, skipping the successors the
 * recent-successors table (checker/recent-successors.ts) knows as repeats.
 * Each loop runs REPEAT times; the best run is printed. The visited set, the search tree
 * and the replay cache are not in these figures.
 * Usage: node bin/run-ts.js bench/cost-split.ts POLICY [STATES] [race|device]
 */
import { makeSystem, Stepper } from "../model/system.ts";
import { Observation } from "../model/observation.ts";
import { combineComponentHashes, componentHashesInto } from "../model/fingerprint.ts";
import { type State } from "../model/state.ts";
import { PROPERTIES } from "../properties/index.ts";
import { alphabetEvents } from "../checker/scope.ts";
import { symmetryReduction } from "../checker/cpu-symmetry.ts";
import { successorFingerprint } from "../checker/replay-cache.ts";
import { type CanonicalFingerprint } from "../checker/symmetry.ts";
import { FingerprintSet } from "../checker/visited.ts";
import { RecentSuccessors } from "../checker/recent-successors.ts";
import { raceScopeArgs } from "./race-scope-args.ts";

const REPEAT = 3;
const { name, policy, scope, count: statesArg, scopeName } = raceScopeArgs("cost-split.ts", "STATES");
const want = statesArg === undefined ? 100_000 : Number(statesArg);
const sys = makeSystem(scope.config, policy);
const alphabet = alphabetEvents(scope);
const { canonical } = symmetryReduction(sys, alphabet);
const obs = new Observation();
const st = new Stepper(sys, obs);
const nComp = sys.init.length;
const fp = new Uint32Array(2);

function hashesOf(s: State): number[] {
  const h = new Array<number>(nComp * 2).fill(0);
  componentHashesInto(s, h);
  return h;
}

// The states, breadth-first from the initial one, deduplicated by plain fingerprint.
const states: State[] = [sys.init];
const hashes: number[][] = [hashesOf(sys.init)];
const seen = new FingerprintSet(1 << 16);
combineComponentHashes(hashes[0], nComp, fp);
seen.add(fp[0], fp[1]);
for (let i = 0; i < states.length && states.length < want; i++) {
  for (const e of alphabet) {
    const t = st.step(states[i], e);
    if (t === states[i]) continue;
    const h = hashesOf(t);
    combineComponentHashes(h, nComp, fp);
    if (seen.add(fp[0], fp[1])) {
      states.push(t);
      hashes.push(h);
    }
  }
}

const scratch = new Array<number>(nComp * 2).fill(0);
let sink = 0;
/** Steps every event from s and fingerprints each state-changing successor, plainly or by its representative. */
const fingerprints = (canon: CanonicalFingerprint | null) => (s: State, h: readonly number[]) => {
  for (const e of alphabet) {
    const t = st.step(s, e);
    if (t === s) continue;
    successorFingerprint(s, t, h, scratch, canon, fp);
    sink += fp[0] & 1;
  }
};
let recent = new RecentSuccessors();
// Each loop adds one part to the first: the steps; their property checks; fingerprints; representatives;
// and last, representatives only for the successors the table does not know (states[i] is tree node i: BFS order).
const loops: ((s: State, h: readonly number[], i: number) => void)[] = [
  (s) => {
    for (const e of alphabet) if (st.step(s, e) !== s) sink++;
  },
  (s) => {
    for (const e of alphabet) {
      const t = st.step(s, e);
      if (t === s && obs.noop) continue;
      for (const p of PROPERTIES) if (p.check(sys, s, e, obs, t) !== null) sink++;
    }
  },
  fingerprints(null),
  fingerprints(canonical),
  (s, h, i) => {
    for (let ei = 0; ei < alphabet.length; ei++) {
      const t = st.step(s, alphabet[ei]);
      if (t === s) continue;
      if (!recent.duplicate(s, t, h, scratch, canonical, fp, i, ei)) sink += fp[0] & 1;
    }
  },
];

let changing = 0;
for (const s of states) for (const e of alphabet) if (st.step(s, e) !== s) changing++;
console.log(`${name} ${scopeName} scope: ${states.length.toLocaleString("en-US")} states, ${alphabet.length} events, ${(changing / states.length).toFixed(1)} state-changing successors per state; symmetry: ${canonical === null ? "none" : "yes"}`);
const figures: number[] = [];
for (const f of loops) {
  let best = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    recent = new RecentSuccessors();
    const t0 = performance.now();
    for (let i = 0; i < states.length; i++) f(states[i], hashes[i], i);
    best = Math.min(best, performance.now() - t0);
  }
  figures.push((1000 * best) / states.length);
}
if (sink < 0) console.log(sink);
const [steps, withChecks, withFp, withRep, withRecent] = figures;
const parts: [string, number][] = [
  ["steps", steps],
  ["property checks", withChecks - steps],
  ["fingerprints (component hashes, combined)", withFp - steps],
  ["symmetry representative, beyond that", withRep - withFp],
];
const total = steps + (withChecks - steps) + (withRep - steps);
console.log("part of expanding a state                      us/state   share");
for (const [label, us] of parts) console.log(`${label.padEnd(46)}${us.toFixed(2).padStart(9)}${`${((100 * us) / total).toFixed(0)} %`.padStart(8)}`);
console.log(`${"sum".padEnd(46)}${total.toFixed(2).padStart(9)}`);
console.log(`fingerprints and representatives as the engine computes them, skipping the repeats the recent-successors table knows: ${(withRecent - steps).toFixed(2)} us/state, against ${(withRep - steps).toFixed(2)}`);

/**
 * What a partial-order reduction could save on a race scope (docs/exhaustive.md
 * "Partial-order reduction"): searches a built-in policy's race scope up to
 * MAX_STATES and prints, per event kind, how many transitions changed nothing
 * (refused, or an access that hit a cached translation); then, at every 997th
 * state-changing transition's pre-state (up to 300 states), for every pair of
 * events that both change that state, whether the two orders reach the same
 * state. Commuting at one state is necessary for independence, not sufficient:
 * see the docs for what else a reduction needs.
 * Usage: node bin/run-ts.js bench/commute.ts POLICY [MAX_STATES] [race|device]
 */
import { makeSystem, Stepper } from "../model/system.ts";
import { Observation } from "../model/observation.ts";
import { fingerprint } from "../model/fingerprint.ts";
import { type State } from "../model/state.ts";
import { type Event } from "../model/events.ts";
import { PROPERTIES } from "../properties/index.ts";
import { exhaustiveCheck } from "../checker/exhaustive.ts";
import { alphabetEvents } from "../checker/scope.ts";
import { raceScopeArgs } from "./race-scope-args.ts";
import { symmetryReduction } from "../checker/cpu-symmetry.ts";

const { name, policy, scope, count: maxArg, scopeName } = raceScopeArgs("commute.ts", "MAX_STATES");
const sys = makeSystem(scope.config, policy);
const alphabet = alphabetEvents(scope);
const perKind = new Map<string, { n: number; same: number }>();
const sample: State[] = [];
let live = 0;
const observer = {
  step(pre: State, e: Event, _obs: Observation, post: State) {
    const k = perKind.get(e.t) ?? { n: 0, same: 0 };
    k.n++;
    if (pre === post) k.same++;
    else if (live++ % 997 === 0 && sample.length < 300) sample.push(pre);
    perKind.set(e.t, k);
  },
};
const r = exhaustiveCheck(sys, PROPERTIES, alphabet, {
  depth: 200, maxStates: Number(maxArg ?? 50_000), canonical: symmetryReduction(sys, alphabet).canonical, observer,
});
let total = 0, same = 0;
for (const k of perKind.values()) {
  total += k.n;
  same += k.same;
}
const pct = (a: number, b: number) => `${b === 0 ? "-" : ((100 * a) / b).toFixed(1)} %`;
console.log(`${name}, ${scopeName} scope: ${r.states} states, ${total} transitions, ${alphabet.length} events`);
console.log(`transitions that changed nothing: ${same} (${pct(same, total)})`);
for (const [t, k] of perKind) console.log(`  ${t.padEnd(16)} ${String(k.n).padStart(9)}  changed nothing ${pct(k.same, k.n)}`);

const st = new Stepper(sys, new Observation());
const pairs = new Map<string, { n: number; commute: number }>();
let n = 0, commute = 0;
for (const s of sample) {
  const succ = alphabet.map((e) => st.step(s, e));
  const changing = alphabet.map((_, i) => i).filter((i) => succ[i] !== s);
  for (let a = 0; a < changing.length; a++) {
    for (let b = a + 1; b < changing.length; b++) {
      const ea = alphabet[changing[a]], eb = alphabet[changing[b]];
      const same2 = fingerprint(st.step(succ[changing[a]], eb)) === fingerprint(st.step(succ[changing[b]], ea));
      const key = [ea.t, eb.t].sort().join(" / ");
      const p = pairs.get(key) ?? { n: 0, commute: 0 };
      p.n++;
      n++;
      if (same2) {
        p.commute++;
        commute++;
      }
      pairs.set(key, p);
    }
  }
}
console.log(`pairs of state-changing events at ${sample.length} sampled states: ${n}, reaching the same state in both orders: ${commute} (${pct(commute, n)})`);
for (const [k, p] of [...pairs].sort((x, y) => y[1].n - x[1].n)) console.log(`  ${k.padEnd(20)} ${String(p.n).padStart(6)}  same state ${pct(p.commute, p.n)}`);

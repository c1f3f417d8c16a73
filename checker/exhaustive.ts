/**
 * The exhaustive engine: breadth-first search over every execution of a
 * small scope, from the initial state, with a finite event alphabet.
 *
 * - Every transition is checked against every property (a transition into an
 *   already visited state too: the properties are about what the transition
 *   does). The first violation of a property found is a shortest one: all
 *   shorter executions were checked at earlier levels.
 * - States are deduplicated by their 64-bit fingerprint (checker/visited.ts),
 *   which is sound because the model is deterministic: a state's future does
 *   not depend on how it was reached.
 * - Each frontier entry carries its path (event indices), so a counterexample
 *   needs no parent pointers in the visited set, and its per-component
 *   hashes, so a child re-hashes only the components its step copied.
 * - The search ends when every property has been violated, when a level adds
 *   no new state (the space is exhausted: every property that has not been
 *   violated holds in every reachable state of the scope, at any depth), or
 *   at the depth or state bound (it then holds up to that bound).
 */
import { type Event } from "../model/events.ts";
import { componentHashInto, combineComponentHashes } from "../model/fingerprint.ts";
import { Observation } from "../model/observation.ts";
import { type State } from "../model/state.ts";
import { Stepper, type System } from "../model/system.ts";
import { type Property, type Violation } from "../properties/property.ts";
import { FingerprintSet } from "./visited.ts";
import { type FoundViolation } from "./execute.ts";
import { type CanonicalFingerprint } from "./symmetry.ts";

export interface ExhaustiveOptions {
  /** Longest execution explored (events). */
  readonly depth: number;
  /** Stop after this many distinct states. */
  readonly maxStates: number;
  /** Symmetry reduction (checker/symmetry.ts): fingerprints a state's canonical representative. Absent: the state itself. */
  readonly canonical?: CanonicalFingerprint | null;
}

export type StopReason = "all-violated" | "exhausted" | "depth" | "states";

export interface PropertyOutcome {
  readonly property: Property;
  /** The shortest counterexample found (ending at the violating event), or null. */
  readonly events: Event[] | null;
  readonly violation: FoundViolation | null;
  /** Transitions checked and distinct states known when the violation was found (or at the end). */
  readonly states: number;
  readonly transitions: number;
  readonly ms: number;
}

export interface ExhaustiveResult {
  readonly outcomes: PropertyOutcome[];
  /** Transitions checked (every event from every explored state). */
  readonly transitions: number;
  /** Distinct states reached (the visited set). */
  readonly states: number;
  /** Deepest level whose transitions were all checked. */
  readonly depth: number;
  /** The whole reachable space of the scope was explored. */
  readonly exhausted: boolean;
  readonly stopped: StopReason;
  /** Bytes of the visited set per stored state. */
  readonly bytesPerState: number;
  readonly ms: number;
}

interface Entry {
  readonly state: State;
  /** Event indices from the initial state. */
  readonly path: number[];
  /** Per-component hashes (2 words per component). Plain arrays: cheaper to copy than typed ones. */
  readonly hashes: number[];
}

export function exhaustiveCheck(sys: System, props: readonly Property[], alphabet: readonly Event[], opts: ExhaustiveOptions): ExhaustiveResult {
  const t0 = performance.now();
  const obs = new Observation();
  const stepper = new Stepper(sys, obs);
  const visited = new FingerprintSet(1 << 8);
  const fp = new Uint32Array(2);
  const nComp = sys.init.length;
  const found: (PropertyOutcome | null)[] = props.map(() => null);
  // Inert properties (nothing to protect in this configuration) hold without a search.
  const inert = props.map((p) => p.inert?.(sys.cfg) === true);
  let open = inert.filter((x) => !x).length;
  let transitions = 0;

  const rootHashes: number[] = new Array<number>(nComp * 2).fill(0);
  for (let c = 0; c < nComp; c++) componentHashInto(sys.init[c], rootHashes, 2 * c);
  const canonical = opts.canonical ?? null;
  if (canonical !== null) canonical(sys.init, rootHashes, fp);
  else combineComponentHashes(rootHashes, nComp, fp);
  visited.add(fp[0], fp[1]);
  let frontier: Entry[] = [{ state: sys.init, path: [], hashes: rootHashes }];
  const scratch: number[] = rootHashes.slice();
  let depth = 0;
  let stopped: StopReason = "depth";

  const record = (entry: Entry, ei: number, p: number, v: Violation) => {
    const events = [...entry.path, ei].map((i) => alphabet[i]);
    found[p] = {
      property: props[p], events, violation: { ...v, step: events.length - 1 },
      states: visited.size, transitions, ms: performance.now() - t0,
    };
    open--;
  };

  search: while (depth < opts.depth) {
    const next: Entry[] = [];
    for (const entry of frontier) {
      const s = entry.state;
      for (let ei = 0; ei < alphabet.length; ei++) {
        const e = alphabet[ei];
        const t = stepper.step(s, e);
        transitions++;
        for (let p = 0; p < props.length; p++) {
          if (found[p] !== null || inert[p]) continue;
          const v = props[p].check(sys, s, e, obs, t);
          if (v !== null) {
            record(entry, ei, p, v);
            if (open === 0) {
              stopped = "all-violated";
              depth++;
              break search;
            }
          }
        }
        if (t === s) continue; // nothing changed: already visited
        // Re-hash only the components the step copied (copy-on-write identity).
        const h = entry.hashes;
        for (let c = 0; c < nComp; c++) {
          if (t[c] !== s[c]) componentHashInto(t[c], scratch, 2 * c);
          else {
            scratch[2 * c] = h[2 * c];
            scratch[2 * c + 1] = h[2 * c + 1];
          }
        }
        if (canonical !== null) canonical(t, scratch, fp);
        else combineComponentHashes(scratch, nComp, fp);
        if (!visited.add(fp[0], fp[1])) continue;
        const path = entry.path.slice();
        path.push(ei);
        next.push({ state: t, path, hashes: scratch.slice() });
        if (visited.size >= opts.maxStates) {
          stopped = "states";
          break search;
        }
      }
    }
    depth++;
    if (next.length === 0) {
      stopped = "exhausted";
      break;
    }
    frontier = next;
  }
  const ms = performance.now() - t0;
  const outcomes = props.map((property, p) => found[p] ?? { property, events: null, violation: null, states: visited.size, transitions, ms });
  return {
    outcomes, transitions, states: visited.size, depth,
    exhausted: stopped === "exhausted", stopped, bytesPerState: visited.bytes / Math.max(1, visited.size), ms,
  };
}

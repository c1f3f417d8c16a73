/**
 * The random engine: fast-check generates event sequences, runs each from the
 * initial state checking one property on every transition, and shrinks the
 * first failing sequence to a short one. Each sequence is drawn with its own
 * swarm of event weights (arbitraries.ts), recorded with a counterexample.
 * Deterministic for a given seed; a run, its swarm included, can be replayed
 * with fast-check's seed and path.
 */
import fc from "fast-check";
import { type Event, type EventTag } from "../model/events.ts";
import { Observation } from "../model/observation.ts";
import { Stepper, type System } from "../model/system.ts";
import { type Property } from "../properties/property.ts";
import { eventsArbitrary, swarmEventsArbitrary, type Swarm } from "./arbitraries.ts";
import { Executor, type FoundViolation } from "./execute.ts";
import { type StepObserver } from "./coverage.ts";
import { checkDeadline, DeadlineError, msLeft } from "./deadline.ts";

export interface RandomOptions {
  /** Event sequences to try. */
  readonly runs: number;
  readonly seed: number;
  /** Longest generated sequence. */
  readonly maxEvents: number;
  /** fast-check replay path (with the same seed), to jump straight to a failure. */
  readonly path?: string;
  /** Told of every step of the search, up to the first failing sequence (not shrinking): coverage. */
  readonly observer?: StepObserver;
  /** Vary event weights per sequence (swarm testing); default on. Off: every sequence has the plain weights. */
  readonly swarm?: boolean;
  /** Wall-clock deadline (checker/deadline.ts): past it the search throws a DeadlineError naming `where`. */
  readonly deadline?: number;
  readonly where?: string;
  /** Counterexamples to keep (--counterexamples N; default 1): see moreCounterexamples. */
  readonly counterexamples?: number;
}

/** A further counterexample (--counterexamples N > 1): what `--seed S --path P` finds, P being `path`. */
export interface MoreRandomCounterexample {
  readonly events: Event[];
  readonly violation: FoundViolation;
  readonly path: string | null;
  readonly swarm: Swarm | null;
  /** Sequences the scan had run when it met this one's failing run (its run number, 1-based). */
  readonly runs: number;
}

export interface RandomResult {
  readonly verdict: "holds" | "violated";
  /** Sequences run: all of them when the property held, else up to the first failure. */
  readonly runs: number;
  /** The shrunk counterexample (ending at the violating event), or null. */
  readonly events: Event[] | null;
  readonly violation: FoundViolation | null;
  readonly seed: number;
  /** fast-check path of the shrunk counterexample. */
  readonly path: string | null;
  /** Milliseconds to the first failing sequence, and in all (including shrinking). */
  readonly msToFind: number;
  readonly ms: number;
  readonly shrinks: number;
  /** The event weights' factors the counterexample was drawn with; null when it held or swarm was off. */
  readonly swarm: Swarm | null;
  /** Further counterexamples (--counterexamples N > 1), each with another sequence of event kinds. */
  readonly more: readonly MoreRandomCounterexample[];
}

export const DEFAULT_MAX_EVENTS = 24;

/** The kinds drawn for `policy` beyond the common ones: its opt-in events, and guest-access for a policy that mounts memory into a VM's EPT. */
export function drawn(policy: System["policy"]): readonly EventTag[] {
  const extra: EventTag[] = [...(policy.events ?? [])];
  if (policy.eptTable !== undefined) extra.push("guest-access");
  return extra;
}

/** A deferred policy (it has a timer or a flush-queue timer): its sequences also draw stale-access triples and timer flushes (checker/arbitraries.ts). */
export function deferred(policy: System["policy"]): boolean {
  return policy.timer !== undefined || policy.fqTimer !== undefined;
}

/** The sequences a policy's runs draw, without swarm testing. */
function plainSequences(sys: System, opts: RandomOptions): fc.Arbitrary<Event[]> {
  return eventsArbitrary(sys.cfg, opts.maxEvents, undefined, drawn(sys.policy), deferred(sys.policy));
}

/** The sequences a policy's runs draw, each with its swarm. */
function swarmSequences(sys: System, opts: RandomOptions): fc.Arbitrary<{ swarm: Swarm; events: Event[] }> {
  return swarmEventsArbitrary(sys.cfg, opts.maxEvents, drawn(sys.policy), deferred(sys.policy));
}

export function randomCheck(sys: System, prop: Property, opts: RandomOptions): RandomResult {
  const exec = new Executor(sys, [prop]);
  exec.observer = opts.observer ?? null;
  const t0 = performance.now();
  let firstFail = -1;
  const holds = (events: Event[]): boolean => {
    const failed = exec.run(events).violation !== null;
    if (failed && firstFail < 0) {
      firstFail = performance.now();
      exec.observer = null;
    }
    return !failed;
  };
  const where = opts.where ?? `${sys.policy.name} x ${prop.name} (random engine)`;
  checkDeadline(opts.deadline, where);
  // fast-check stops generating and shrinking at the time limit; an interrupted search is not a verdict.
  const params = { seed: opts.seed, numRuns: opts.runs, path: opts.path, endOnFailure: false, interruptAfterTimeLimit: msLeft(opts.deadline) };
  let found: Event[] | null = null;
  let swarm: Swarm | null = null;
  let details: { numRuns: number; counterexamplePath: string | null; numShrinks: number; interrupted: boolean };
  if (opts.swarm === false) {
    const d = fc.check(fc.property(plainSequences(sys, opts), holds), params);
    if (d.failed && d.counterexample !== null) found = d.counterexample[0];
    details = d;
  } else {
    const d = fc.check(fc.property(swarmSequences(sys, opts), (x) => holds(x.events)), params);
    if (d.failed && d.counterexample !== null) ({ events: found, swarm } = d.counterexample[0]);
    details = d;
  }
  if (details.interrupted) throw new DeadlineError(where);
  const ms = performance.now() - t0;
  if (found === null) {
    return { verdict: "holds", runs: details.numRuns, events: null, violation: null, seed: opts.seed, path: null, msToFind: 0, ms, shrinks: 0, swarm: null, more: [] };
  }
  const events = minimize(exec, found);
  const r = exec.run(events);
  const wanted = opts.counterexamples ?? 1;
  return {
    verdict: "violated",
    runs: details.numRuns,
    events,
    violation: r.violation,
    seed: opts.seed,
    path: details.counterexamplePath,
    msToFind: firstFail - t0,
    ms,
    shrinks: details.numShrinks,
    swarm,
    more: wanted > 1 ? moreCounterexamples(sys, prop, opts, events, wanted, where) : [],
  };
}

/**
 * Every property of `props` against one stream of sequences: the random
 * engine of a whole policy row. The cells are exactly those randomCheck
 * gives one property at a time with the same options (same verdict, runs,
 * counterexample, fast-check path and swarm; checked by
 * test/checker/random-row.test.ts), because every property is checked on
 * the same seed's sequences and the model does not depend on what is
 * checked: one pass runs each sequence to its end checking every property
 * not yet violated, noting each property's first failing run; then each
 * violated property's run is replayed and shrunk as `--path RUN` would
 * (fast-check jumps to that run and shrinks it as a search that failed
 * there does). The pass steps the model once per sequence instead of once
 * per property and sequence. `onFirstFailure(p)` is called at property p's
 * first violating step, after the observer saw it and before any later
 * step: where the per-property search stops observing (coverage).
 * Not for `opts.path` (a replay of one cell): use randomCheck.
 */
export function randomCheckAll(sys: System, props: readonly Property[], opts: RandomOptions, onFirstFailure: (p: number) => void = () => {}): RandomResult[] {
  const t0 = performance.now();
  const obs = new Observation();
  const stepper = new Stepper(sys, obs);
  const observer = opts.observer ?? null;
  const open: number[] = props.map((_, p) => p);
  const firstRun = props.map(() => -1);
  const msToFind = props.map(() => 0);
  let run = 0;
  const where = opts.where ?? (props.length === 1 ? `${sys.policy.name} x ${props[0].name} (random engine)` : `${sys.policy.name} (random engine)`);
  // What a step throws (a user policy module's handler, checker/policy-module.ts) is rethrown after
  // the pass, as a per-property search's replay would: fast-check would take it for a failed run.
  let thrown: { error: unknown } | null = null;
  const scan = (events: readonly Event[]): boolean => {
    if (thrown !== null) return true;
    try {
      return scanRun(events);
    } catch (error) {
      thrown = { error };
      return true;
    }
  };
  const scanRun = (events: readonly Event[]): boolean => {
    if ((run & 63) === 0) checkDeadline(opts.deadline, where);
    if (open.length > 0) {
      let s = sys.init;
      for (let i = 0; i < events.length && open.length > 0; i++) {
        const e = events[i];
        const pre = s;
        s = stepper.step(s, e);
        if (observer !== null) observer.step(pre, e, obs, s);
        for (let a = 0; a < open.length; a++) {
          const p = open[a];
          if (props[p].check(sys, pre, e, obs, s) === null) continue;
          firstRun[p] = run;
          msToFind[p] = performance.now() - t0;
          onFirstFailure(p);
          open.splice(a--, 1);
        }
      }
    }
    run++;
    return true;
  };
  checkDeadline(opts.deadline, where);
  const params = { seed: opts.seed, numRuns: opts.runs, interruptAfterTimeLimit: msLeft(opts.deadline) };
  const d = opts.swarm === false
    ? fc.check(fc.property(plainSequences(sys, opts), scan), params)
    : fc.check(fc.property(swarmSequences(sys, opts), (x) => scan(x.events)), params);
  if (thrown !== null) throw (thrown as { error: unknown }).error;
  if (d.interrupted) throw new DeadlineError(where);
  return props.map((prop, p) => {
    if (firstRun[p] < 0) {
      return { verdict: "holds", runs: d.numRuns, events: null, violation: null, seed: opts.seed, path: null, msToFind: 0, ms: performance.now() - t0, shrinks: 0, swarm: null, more: [] };
    }
    // The failing run, shrunk exactly as a search of this property alone that failed there.
    const one = randomCheck(sys, prop, { ...opts, observer: undefined, path: String(firstRun[p]), where: opts.where ?? `${sys.policy.name} x ${prop.name} (random engine)` });
    if (one.verdict !== "violated") throw new Error(`random engine: run ${firstRun[p]} of seed ${opts.seed} violated ${prop.name} in the pass but not on replay`);
    return { ...one, runs: firstRun[p] + 1, msToFind: msToFind[p], ms: performance.now() - t0 };
  });
}

/**
 * Up to `wanted - 1` further counterexamples, each with a sequence of event
 * kinds neither `first` nor an earlier one has. The same seed's runs are
 * scanned for failing ones (at most FAILING_PER_COUNTEREXAMPLE per wanted
 * counterexample, so a property whose failures all shrink to one sequence
 * costs a bounded search; and at most twice as many candidates with new
 * kinds as wanted); each candidate run i is then found again exactly as
 * `check --seed S --path i` finds it (fast-check replays run i and shrinks
 * it, then minimize), so every counterexample kept is reproducible from its
 * recorded seed and path. Deterministic for a seed.
 */
function moreCounterexamples(sys: System, prop: Property, opts: RandomOptions, first: readonly Event[], wanted: number, where: string): MoreRandomCounterexample[] {
  const exec = new Executor(sys, [prop]);
  // Candidates: failing runs whose sequence, minimised as it is (cheap: no
  // fast-check shrinking), has kinds not met before; shrinking them as
  // `--path` would is what costs, so only these are.
  const candidates: number[] = [];
  const seen = new Set([kindKey(first)]);
  const limit = FAILING_PER_COUNTEREXAMPLE * (wanted - 1);
  let run = 0, failing = 0;
  // The scan never reports a failure; it ends early (endOnFailure, no shrinking) once it has enough candidates.
  const scan = (events: Event[]): boolean => {
    if (exec.run(events).violation !== null) {
      failing++;
      const key = kindKey(minimize(exec, events));
      if (!seen.has(key)) {
        seen.add(key);
        candidates.push(run);
      }
    }
    run++;
    return failing < limit && candidates.length < 2 * (wanted - 1);
  };
  const params = { seed: opts.seed, numRuns: opts.runs, endOnFailure: true, interruptAfterTimeLimit: msLeft(opts.deadline) };
  const d = opts.swarm === false
    ? fc.check(fc.property(plainSequences(sys, opts), scan), params)
    : fc.check(fc.property(swarmSequences(sys, opts), (x) => scan(x.events)), params);
  if (d.interrupted) throw new DeadlineError(where);
  const kinds = new Set([kindKey(first)]);
  const out: MoreRandomCounterexample[] = [];
  const holds = (events: Event[]) => exec.run(events).violation === null;
  for (const i of candidates) {
    if (out.length + 1 >= wanted) break;
    checkDeadline(opts.deadline, where);
    const replay = { seed: opts.seed, numRuns: opts.runs, path: String(i), interruptAfterTimeLimit: msLeft(opts.deadline) };
    let found: Event[] | null = null;
    let swarm: Swarm | null = null;
    let path: string | null = null;
    if (opts.swarm === false) {
      const r = fc.check(fc.property(plainSequences(sys, opts), holds), replay);
      if (r.interrupted) throw new DeadlineError(where);
      if (r.failed && r.counterexample !== null) [found, path] = [r.counterexample[0], r.counterexamplePath];
    } else {
      const r = fc.check(fc.property(swarmSequences(sys, opts), (x) => holds(x.events)), replay);
      if (r.interrupted) throw new DeadlineError(where);
      if (r.failed && r.counterexample !== null) [{ events: found, swarm }, path] = [r.counterexample[0], r.counterexamplePath];
    }
    if (found === null) continue;
    const events = minimize(exec, found);
    const key = kindKey(events);
    if (kinds.has(key)) continue;
    kinds.add(key);
    const v = exec.run(events).violation;
    if (v !== null) out.push({ events, violation: v, path, swarm, runs: i + 1 });
  }
  return out;
}

/** Failing runs examined per further counterexample wanted, at most. */
export const FAILING_PER_COUNTEREXAMPLE = 20;

/** The sequence of event kinds, the key by which counterexamples are distinct. */
function kindKey(events: readonly Event[]): string {
  return events.map((e) => e.t).join(" ");
}

/**
 * Greedy one-at-a-time removal after fast-check's shrinking: the result
 * still violates the property and no single event can be removed from it
 * (1-minimal). Cheap, because each try is one short execution.
 */
export function minimize(exec: Executor, events: readonly Event[]): Event[] {
  const first = exec.run(events);
  if (!first.violation) return [...events];
  let cur = events.slice(0, first.violation.step + 1);
  for (let i = cur.length - 1; i >= 0; i--) {
    const cand = cur.slice(0, i).concat(cur.slice(i + 1));
    const r = exec.run(cand);
    if (r.violation) {
      cur = cand.slice(0, r.violation.step + 1);
      i = Math.min(i, cur.length);
    }
  }
  return cur;
}

/**
 * The random engine: fast-check generates event sequences, runs each from the
 * initial state checking one property on every transition, and shrinks the
 * first failing sequence to a short one. Deterministic for a given seed; a
 * run can be replayed with fast-check's seed and path.
 */
import fc from "fast-check";
import { type Event } from "../model/events.ts";
import { type System } from "../model/system.ts";
import { type Property } from "../properties/property.ts";
import { eventsArbitrary } from "./arbitraries.ts";
import { Executor, type FoundViolation } from "./execute.ts";
import { type StepObserver } from "./coverage.ts";

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
}

export const DEFAULT_MAX_EVENTS = 24;

export function randomCheck(sys: System, prop: Property, opts: RandomOptions): RandomResult {
  const exec = new Executor(sys, [prop]);
  exec.observer = opts.observer ?? null;
  const t0 = performance.now();
  let firstFail = -1;
  const details = fc.check(
    fc.property(eventsArbitrary(sys.cfg, opts.maxEvents), (events) => {
      const failed = exec.run(events).violation !== null;
      if (failed && firstFail < 0) {
        firstFail = performance.now();
        exec.observer = null;
      }
      return !failed;
    }),
    { seed: opts.seed, numRuns: opts.runs, path: opts.path, endOnFailure: false },
  );
  const ms = performance.now() - t0;
  if (!details.failed || details.counterexample === null) {
    return { verdict: "holds", runs: details.numRuns, events: null, violation: null, seed: opts.seed, path: null, msToFind: 0, ms, shrinks: 0 };
  }
  const events = minimize(exec, details.counterexample[0]);
  const r = exec.run(events);
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
  };
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

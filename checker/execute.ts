/**
 * Runs a sequence of events from the initial state, checking properties on
 * every transition. This is the loop every engine, replay and benchmark uses.
 */
import { type Event } from "../model/events.ts";
import { Observation } from "../model/observation.ts";
import { type State } from "../model/state.ts";
import { Stepper, type System } from "../model/system.ts";
import { type Property, type Violation } from "../properties/property.ts";
import { NUM_COUNTERS } from "../model/counters.ts";
import { type StepObserver } from "./coverage.ts";

export interface FoundViolation extends Violation {
  /** Index of the violating event. */
  readonly step: number;
}

export interface Execution {
  /** First violation of any checked property, or null. */
  readonly violation: FoundViolation | null;
  /** Events applied (up to and including the violating one). */
  readonly steps: number;
  readonly final: State;
}

/** A reusable executor: one stepper and observation per system. */
export class Executor {
  readonly obs = new Observation();
  readonly stepper: Stepper;
  /** Sum of the counters of the last execution. */
  readonly totals = new Float64Array(NUM_COUNTERS);
  /** Told of every step before the properties are checked (coverage); null: none. */
  observer: StepObserver | null = null;

  constructor(readonly sys: System, readonly props: readonly Property[]) {
    this.stepper = new Stepper(sys, this.obs);
  }

  run(events: readonly Event[]): Execution {
    const { sys, props, obs, stepper, totals } = this;
    totals.fill(0);
    let s = sys.init;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const pre = s;
      s = stepper.step(s, e);
      for (let c = 0; c < NUM_COUNTERS; c++) totals[c] += obs.counters[c];
      if (this.observer !== null) this.observer.step(pre, e, obs, s);
      for (let p = 0; p < props.length; p++) {
        const v = props[p].check(sys, pre, e, obs, s);
        if (v !== null) return { violation: { ...v, step: i }, steps: i + 1, final: s };
      }
    }
    return { violation: null, steps: events.length, final: s };
  }
}

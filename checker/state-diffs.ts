/**
 * The decoded state at boot and what each step of an event sequence changed,
 * as records (model/decode/): for `dmacheck replay --diff` and the HTML
 * report's trace viewer. Re-executes the events on a fresh system; steps
 * after `upTo` (the violating step, 0-based) are not run, as replay's trace
 * stops there.
 */
import { type Event } from "../model/events.ts";
import { Observation } from "../model/observation.ts";
import { Stepper, type System } from "../model/system.ts";
import { decodeState, stateRecords } from "../model/decode/state.ts";
import { diffRecords, type RecordChange } from "../model/decode/diff.ts";
import { type StateRecord } from "../model/decode/record.ts";

export interface StateDiffs {
  /** Every record of the state at boot. */
  readonly initial: readonly StateRecord[];
  /** Per step (index i = step i + 1): the changes, in diffRecords order. */
  readonly steps: readonly (readonly RecordChange[])[];
  /** Every record of the last state reached. */
  readonly final: readonly StateRecord[];
}

export function stateDiffs(sys: System, events: readonly Event[], upTo = events.length - 1): StateDiffs {
  const stepper = new Stepper(sys, new Observation());
  let s = sys.init;
  const initial = stateRecords(decodeState(sys, s));
  let prev = initial;
  const steps: RecordChange[][] = [];
  for (let i = 0; i <= upTo && i < events.length; i++) {
    s = stepper.step(s, events[i]);
    const next = stateRecords(decodeState(sys, s));
    steps.push(diffRecords(prev, next));
    prev = next;
  }
  return { initial, steps, final: prev };
}

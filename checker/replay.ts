/**
 * Replay: re-executes a counterexample's events on its recorded
 * configuration and policy and confirms the recorded violation: the same
 * property, violated at the same step.
 */
import { findAnyPolicy } from "../model/policies/index.ts";
import { type Policy } from "../model/policy.ts";
import { makeSystem } from "../model/system.ts";
import { findProperty } from "../properties/index.ts";
import { type Counterexample } from "../counterexamples/schema.ts";
import { traceEvents, type Trace } from "./trace.ts";

export interface ReplayResult {
  readonly reproduced: boolean;
  readonly trace: Trace;
  /** Why it did not reproduce, in one line, or null. */
  readonly mismatch: string | null;
}

/** Replays `cx` with `policy` (default: the built-in policy it names). */
export function replayCounterexample(cx: Counterexample, policy?: Policy): ReplayResult {
  const pol = policy ?? findAnyPolicy(cx.policy);
  if (!pol) throw new Error(`unknown policy ${cx.policy}`);
  const prop = findProperty(cx.property);
  if (!prop) throw new Error(`unknown property ${cx.property}`);
  const sys = makeSystem(cx.config, pol);
  const trace = traceEvents(sys, [prop], cx.events);
  const v = trace.violation;
  let mismatch: string | null = null;
  if (v === null) mismatch = `no violation of ${cx.property} in ${cx.events.length} events`;
  else if (v.step !== cx.violation.step) mismatch = `${cx.property} is violated at step ${v.step + 1}, not at the recorded step ${cx.violation.step + 1}`;
  return { reproduced: mismatch === null, trace, mismatch };
}

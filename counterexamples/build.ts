/** Builds a counterexample record from a checking result. */
import { type ModelConfig } from "../model/config.ts";
import { type Event } from "../model/events.ts";
import { type PropertyName } from "../model/policy.ts";
import { type Swarm } from "../checker/arbitraries.ts";
import { COUNTEREXAMPLE_FORMAT, type Counterexample } from "./schema.ts";

export interface CounterexampleInput {
  readonly policy: string;
  readonly policyModule: string | null;
  readonly property: PropertyName;
  readonly config: ModelConfig;
  readonly events: readonly Event[];
  readonly step: number;
  readonly explanation: string;
  readonly engine: "random" | "exhaustive";
  readonly seed: number | null;
  readonly path: string | null;
  readonly runs: number;
  readonly ms: number;
  /** The random engine's swarm for the sequence found (recorded as found.swarm); absent or null: none. */
  readonly swarm?: Swarm | null;
}

export function buildCounterexample(i: CounterexampleInput): Counterexample {
  return {
    format: COUNTEREXAMPLE_FORMAT,
    policy: i.policy,
    policyModule: i.policyModule,
    property: i.property,
    config: { ...i.config },
    events: [...i.events],
    violation: { step: i.step, explanation: i.explanation },
    found: { engine: i.engine, seed: i.seed, path: i.path, runs: i.runs, ms: i.ms, ...(i.swarm ? { swarm: i.swarm } : {}) },
  } as Counterexample;
}

/** File name of a cell's counterexample: `<policy>--<property>.json`. */
export function counterexampleFileName(policy: string, property: string): string {
  return `${policy}--${property}.json`;
}

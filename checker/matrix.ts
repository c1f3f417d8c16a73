/**
 * The policy x property matrix: one random-engine check per cell, each
 * violation turned into an explained counterexample.
 */
import { type ModelConfig } from "../model/config.ts";
import { type Policy, type PropertyName } from "../model/policy.ts";
import { makeSystem } from "../model/system.ts";
import { type Property } from "../properties/property.ts";
import { randomCheck } from "./random.ts";
import { traceEvents } from "./trace.ts";
import { buildCounterexample } from "../counterexamples/build.ts";
import { type Counterexample } from "../counterexamples/schema.ts";
import { exhaustiveCheck, type StopReason } from "./exhaustive.ts";
import { alphabetEvents, type Scope } from "./scope.ts";

export interface MatrixOptions {
  readonly config: ModelConfig;
  readonly runs: number;
  readonly seed: number;
  readonly maxEvents: number;
  /** Report 0 for every wall-clock time (byte-identical output for a seed). */
  readonly timing: boolean;
  /** fast-check replay path: start from a recorded failure instead of searching. */
  readonly path?: string;
  /** Swarm testing (checker/arbitraries.ts); default on. */
  readonly swarm?: boolean;
}

export interface PolicyEntry {
  readonly policy: Policy;
  /** Module path for a user policy, null for a built-in one. */
  readonly module: string | null;
}

export type Engine = "random" | "exhaustive";

export interface CellResult {
  readonly engine: Engine;
  readonly policy: string;
  readonly property: PropertyName;
  readonly claimed: boolean;
  readonly verdict: "holds" | "violated";
  /** Random engine: sequences run. Null for the exhaustive engine. */
  readonly runs: number | null;
  /** Exhaustive engine: distinct states when the violation was found, or in all. Null for random. */
  readonly states: number | null;
  /** Exhaustive engine: transitions checked (the same moments). */
  readonly transitions: number | null;
  /** Exhaustive engine: depth searched (the counterexample's length when violated). */
  readonly depth: number | null;
  /** Exhaustive engine: the scope's whole reachable space was explored. */
  readonly exhausted: boolean | null;
  /** Exhaustive engine, a property that holds: what ended the search. */
  readonly bound: "exhausted" | "depth" | "states" | null;
  readonly length: number | null;
  readonly ms: number;
  readonly msToFind: number | null;
  readonly counterexample: Counterexample | null;
  readonly explanation: string | null;
}

export function checkCell(entry: PolicyEntry, prop: Property, opts: MatrixOptions): CellResult {
  const sys = makeSystem(opts.config, entry.policy);
  const seed = opts.seed;
  const r = randomCheck(sys, prop, { runs: opts.runs, seed, maxEvents: opts.maxEvents, path: opts.path, swarm: opts.swarm });
  const time = (ms: number) => (opts.timing ? Math.round(ms) : 0);
  const claimed = entry.policy.claims.includes(prop.name);
  if (r.verdict === "holds" || r.events === null || r.violation === null) {
    return {
      engine: "random", policy: entry.policy.name, property: prop.name, claimed, verdict: "holds", runs: r.runs, ...NOT_EXHAUSTIVE,
      length: null, ms: time(r.ms), msToFind: null, counterexample: null, explanation: null,
    };
  }
  const trace = traceEvents(sys, [prop], r.events);
  const explanation = trace.explanation ?? r.violation.message;
  const cx = buildCounterexample({
    policy: entry.policy.name, policyModule: entry.module, property: prop.name, config: opts.config, events: r.events,
    step: r.violation.step, explanation, engine: "random", seed, path: r.path, runs: r.runs, ms: time(r.ms), swarm: r.swarm,
  });
  return {
    engine: "random", policy: entry.policy.name, property: prop.name, claimed, verdict: "violated", runs: r.runs, ...NOT_EXHAUSTIVE,
    length: r.events.length, ms: time(r.ms), msToFind: time(r.msToFind), counterexample: cx, explanation,
  };
}

const NOT_EXHAUSTIVE = { states: null, transitions: null, depth: null, exhausted: null, bound: null } as const;

export interface ExhaustiveMatrixOptions {
  readonly scope: Scope;
  readonly depth: number;
  readonly maxStates: number;
  readonly timing: boolean;
}

/** Summary of one policy's search, for reports. */
export interface SearchSummary {
  readonly policy: string;
  readonly states: number;
  readonly transitions: number;
  readonly depth: number;
  readonly stopped: StopReason;
  readonly bytesPerState: number;
  readonly ms: number;
}

/** One breadth-first search of a policy's scope, checking every property; one cell per property. */
export function checkPolicyExhaustively(entry: PolicyEntry, props: readonly Property[], opts: ExhaustiveMatrixOptions): { cells: CellResult[]; summary: SearchSummary } {
  const sys = makeSystem(opts.scope.config, entry.policy);
  const alphabet = alphabetEvents(opts.scope);
  const r = exhaustiveCheck(sys, props, alphabet, { depth: opts.depth, maxStates: opts.maxStates });
  const time = (ms: number) => (opts.timing ? Math.round(ms) : 0);
  const cells = r.outcomes.map((o): CellResult => {
    const prop = o.property;
    const claimed = entry.policy.claims.includes(prop.name);
    const base = { engine: "exhaustive" as const, policy: entry.policy.name, property: prop.name, claimed, runs: null, msToFind: null };
    if (o.events === null || o.violation === null) {
      const bound = r.exhausted ? "exhausted" as const : r.stopped === "states" ? "states" as const : "depth" as const;
      return {
        ...base, verdict: "holds", states: r.states, transitions: r.transitions, depth: r.depth, exhausted: r.exhausted, bound,
        length: null, ms: time(r.ms), counterexample: null, explanation: null,
      };
    }
    const trace = traceEvents(sys, [prop], o.events);
    const explanation = trace.explanation ?? o.violation.message;
    const cx = buildCounterexample({
      policy: entry.policy.name, policyModule: entry.module, property: prop.name, config: opts.scope.config, events: o.events,
      step: o.violation.step, explanation, engine: "exhaustive", seed: null, path: null, runs: o.transitions, ms: time(o.ms),
    });
    return {
      ...base, verdict: "violated", states: o.states, transitions: o.transitions, depth: o.events.length, exhausted: false, bound: null,
      length: o.events.length, ms: time(o.ms), counterexample: cx, explanation,
    };
  });
  const summary: SearchSummary = {
    policy: entry.policy.name, states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped,
    bytesPerState: r.bytesPerState, ms: time(r.ms),
  };
  return { cells, summary };
}

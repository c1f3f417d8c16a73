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

export interface MatrixOptions {
  readonly config: ModelConfig;
  readonly runs: number;
  readonly seed: number;
  readonly maxEvents: number;
  /** Report 0 for every wall-clock time (byte-identical output for a seed). */
  readonly timing: boolean;
  /** fast-check replay path: start from a recorded failure instead of searching. */
  readonly path?: string;
}

export interface PolicyEntry {
  readonly policy: Policy;
  /** Module path for a user policy, null for a built-in one. */
  readonly module: string | null;
}

export interface CellResult {
  readonly policy: string;
  readonly property: PropertyName;
  readonly claimed: boolean;
  readonly verdict: "holds" | "violated";
  readonly runs: number;
  readonly length: number | null;
  readonly ms: number;
  readonly msToFind: number | null;
  readonly counterexample: Counterexample | null;
  readonly explanation: string | null;
}

export function checkCell(entry: PolicyEntry, prop: Property, opts: MatrixOptions): CellResult {
  const sys = makeSystem(opts.config, entry.policy);
  const seed = opts.seed;
  const r = randomCheck(sys, prop, { runs: opts.runs, seed, maxEvents: opts.maxEvents, path: opts.path });
  const time = (ms: number) => (opts.timing ? Math.round(ms) : 0);
  const claimed = entry.policy.claims.includes(prop.name);
  if (r.verdict === "holds" || r.events === null || r.violation === null) {
    return { policy: entry.policy.name, property: prop.name, claimed, verdict: "holds", runs: r.runs, length: null, ms: time(r.ms), msToFind: null, counterexample: null, explanation: null };
  }
  const trace = traceEvents(sys, [prop], r.events);
  const explanation = trace.explanation ?? r.violation.message;
  const cx = buildCounterexample({
    policy: entry.policy.name, policyModule: entry.module, property: prop.name, config: opts.config, events: r.events,
    step: r.violation.step, explanation, engine: "random", seed, path: r.path, runs: r.runs, ms: time(r.ms),
  });
  return {
    policy: entry.policy.name, property: prop.name, claimed, verdict: "violated", runs: r.runs, length: r.events.length,
    ms: time(r.ms), msToFind: time(r.msToFind), counterexample: cx, explanation,
  };
}

/**
 * The policy x property matrix: one random-engine check per cell, each
 * violation turned into an explained counterexample.
 */
import { type ModelConfig } from "../model/config.ts";
import { claimsOf, type Policy, type PropertyName } from "../model/policy.ts";
import { makeSystem, type System } from "../model/system.ts";
import { type Event } from "../model/events.ts";
import { type FoundViolation } from "./execute.ts";
import { type Property } from "../properties/property.ts";
import { randomCheck, randomCheckAll, type RandomResult } from "./random.ts";
import { traceEvents } from "./trace.ts";
import { buildCounterexample } from "../counterexamples/build.ts";
import { type Counterexample } from "../counterexamples/schema.ts";
import { exhaustiveCheck, type SearchProgress, type StopReason } from "./exhaustive.ts";
import { alphabetEvents, policyScope, raceScopeFor, raceScopeName, raceScopesFor, type Scope } from "./scope.ts";
import { symmetryReduction } from "./cpu-symmetry.ts";
import { type SearchPool, type SearchSpec } from "./split-search.ts";
import { findAnyPolicy } from "../model/policies/index.ts";
import { findProperty } from "../properties/index.ts";
import { CoverageRecorder, isVacuous, type Coverage } from "./coverage.ts";

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
  /** Wall-clock deadline, a Date.now() time (--time-limit; checker/deadline.ts). */
  readonly deadline?: number;
  /** Counterexamples to keep per cell (--counterexamples N; default 1; checker/random.ts). */
  readonly counterexamples?: number;
  /**
   * The random engine's race pass: the same runs again on the race scope's
   * machine over `base` (raceScopeFor: 2 CPUs, 2 live mappings, the default
   * scope's 10 frames) for the properties the main runs did not violate.
   * Absent or null: none.
   */
  readonly race?: { readonly base: ModelConfig } | null;
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
  /**
   * Exhaustive engine: which search decided the cell: "main" (the scope, exhausted or
   * bounded) or "race" (the race scope searched after it, checker/scope.ts RACE_SCOPE:
   * the violation needs two CPUs, two live mappings or a multi-page buffer). Null for random.
   */
  readonly pass: "main" | "race" | null;
  /** Exhaustive engine, a property that holds: what ended the search. */
  readonly bound: "exhausted" | "depth" | "states" | "decided" | "memory" | "bitstate" | null;
  readonly length: number | null;
  readonly ms: number;
  readonly msToFind: number | null;
  readonly counterexample: Counterexample | null;
  readonly explanation: string | null;
  /** What the search exercised for this cell (checker/coverage.ts): plain data. */
  readonly coverage: Coverage | null;
  /** Holds, but its antecedent was never reached: nothing in the search could have violated it. */
  readonly vacuous: boolean;
  /** Further counterexamples (--counterexamples N > 1), each with another sequence of event kinds; empty otherwise. */
  readonly more: readonly Counterexample[];
}

export function checkCell(entry: PolicyEntry, prop: Property, opts: MatrixOptions): CellResult {
  const sys = makeSystem(opts.config, entry.policy);
  const rec = new CoverageRecorder(sys, [prop]);
  const r = randomCheck(sys, prop, {
    runs: opts.runs, seed: opts.seed, maxEvents: opts.maxEvents, path: opts.path, observer: rec, swarm: opts.swarm, deadline: opts.deadline, counterexamples: opts.counterexamples,
  });
  return randomCell(entry, sys, prop, r, rec.result(0), opts);
}

/**
 * The random engine's row of a policy: the cells checkCell gives one
 * property at a time, the same to the byte, from one pass over the seed's
 * sequences (checker/random.ts randomCheckAll); then, with `opts.race`,
 * the race pass on the race scope's machine for the cells still holding.
 * With `opts.path` (a replay of one run) each cell is its own search, as
 * before, and there is no race pass.
 */
export function checkPolicyRandom(entry: PolicyEntry, props: readonly Property[], opts: MatrixOptions): CellResult[] {
  if (opts.path !== undefined) return props.map((p) => checkCell(entry, p, opts));
  const main = randomRow(entry, props, opts);
  if (opts.race === undefined || opts.race === null) return main;
  // The race pass: what the main runs left holding, on the race scope's machine. A cell it
  // violates is replaced (pass "race"); its counterexample carries that machine.
  const open = props.filter((_, p) => main[p].verdict === "holds");
  if (open.length === 0) return main;
  const config = raceScopeFor(entry.policy, opts.race.base).config;
  const race = randomRow(entry, open, { ...opts, config, race: null });
  let j = 0;
  return main.map((cell) => {
    if (cell.verdict !== "holds") return cell;
    const r = race[j++];
    return r.verdict === "violated" ? { ...r, pass: "race" } : cell;
  });
}

/** One pass of the random engine over a policy's row (randomCheckAll). */
function randomRow(entry: PolicyEntry, props: readonly Property[], opts: MatrixOptions): CellResult[] {
  const sys = makeSystem(opts.config, entry.policy);
  const rec = new CoverageRecorder(sys, props);
  // A property's coverage stops at its first violating step, as its own search's does.
  const coverage: (Coverage | null)[] = props.map(() => null);
  const rs = randomCheckAll(sys, props, {
    runs: opts.runs, seed: opts.seed, maxEvents: opts.maxEvents, observer: rec, swarm: opts.swarm, deadline: opts.deadline, counterexamples: opts.counterexamples,
  }, (p) => {
    coverage[p] = rec.result(p);
  });
  return props.map((prop, p) => randomCell(entry, sys, prop, rs[p], coverage[p] ?? rec.result(p), opts));
}

function randomCell(entry: PolicyEntry, sys: System, prop: Property, r: RandomResult, coverage: Coverage, opts: MatrixOptions): CellResult {
  const seed = opts.seed;
  const time = (ms: number) => (opts.timing ? Math.round(ms) : 0);
  const claimed = claimsOf(entry.policy).includes(prop.name);
  if (r.verdict === "holds" || r.events === null || r.violation === null) {
    return {
      engine: "random", policy: entry.policy.name, property: prop.name, claimed, verdict: "holds", runs: r.runs, ...NOT_EXHAUSTIVE,
      length: null, ms: time(r.ms), msToFind: null, counterexample: null, explanation: null, coverage, vacuous: isVacuous(coverage), more: [],
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
    length: r.events.length, ms: time(r.ms), msToFind: time(r.msToFind), counterexample: cx, explanation, coverage, vacuous: false,
    more: r.more.map((m) => buildCounterexample({
      policy: entry.policy.name, policyModule: entry.module, property: prop.name, config: opts.config, events: m.events, step: m.violation.step,
      explanation: traceEvents(sys, [prop], m.events).explanation ?? m.violation.message, engine: "random", seed, path: m.path, runs: m.runs, ms: time(r.ms), swarm: m.swarm,
    })),
  };
}

const NOT_EXHAUSTIVE = { states: null, transitions: null, depth: null, exhausted: null, bound: null, pass: null } as const;

/** The exhaustive engine's race pass (ExhaustiveMatrixOptions.race). */
export interface RaceOptions {
  readonly base: ModelConfig;
  readonly maxStates: number;
  readonly depth?: number;
}

export interface ExhaustiveMatrixOptions {
  readonly scope: Scope;
  readonly depth: number;
  readonly maxStates: number;
  readonly timing: boolean;
  /** Search until every property is decided, not only the claimed ones (--all-properties). */
  readonly allProperties?: boolean;
  /** Bound on the visited set and the search tree, in MiB (--max-memory). */
  readonly maxMemoryMiB?: number;
  /** Bitstate hashing (--bitstate BITS, --bitstate-hashes K) in place of exhaustive fingerprints. */
  readonly bitstate?: { readonly bits: number; readonly hashes: number };
  /** Progress of the search, for a terminal (called every few hundred states). */
  readonly onProgress?: (p: SearchProgress) => void;
  /** Symmetry reduction where it applies (slots: checker/symmetry.ts; CPUs: checker/cpu-symmetry.ts); false: --no-reduction. Absent: on. */
  readonly reduction?: boolean;
  /** Wall-clock deadline, a Date.now() time (--time-limit; checker/deadline.ts). */
  readonly deadline?: number;
  /** Counterexamples to keep per cell (--counterexamples N; default 1; checker/exhaustive.ts). */
  readonly counterexamples?: number;
  /**
   * The race pass: after the main search, the race scope over `base` (raceScopeFor),
   * searched up to `maxStates` distinct states for the properties the main search left
   * undecided, each to `depth` events (absent: `depth` of these options). Absent or
   * null: no race pass (--no-race, or a scope of the user's own).
   */
  readonly race?: RaceOptions | null;
  /**
   * Worker threads that split each search's levels with this thread
   * (checker/split-search.ts; `check --workers N` on one policy). Same
   * results as without. Absent or null: the search runs on this thread alone.
   */
  readonly pool?: SearchPool | null;
}

/** The race pass of one policy (checker/scope.ts RACE_SCOPE), for reports. */
export interface RaceSummary {
  readonly states: number;
  readonly transitions: number;
  /** Deepest level fully checked. */
  readonly depth: number;
  readonly stopped: StopReason;
  readonly exhausted: boolean;
  readonly symmetry: boolean;
  /** The race scope's machine for this policy (two devices for a policy with per-device state). */
  readonly cpus: number;
  readonly devices: number;
  readonly frames: number;
  readonly maxMappings: number;
  readonly ms: number;
}

/** Summary of one policy's search, for reports. */
export interface SearchSummary {
  readonly policy: string;
  readonly states: number;
  readonly transitions: number;
  readonly depth: number;
  readonly stopped: StopReason;
  readonly bytesPerState: number;
  /** A symmetry reduction (slots, CPUs or both; checker/cpu-symmetry.ts) reduced the search: states are counted up to renaming. */
  readonly symmetry: boolean;
  /** Bitstate mode: estimated probability that some state was omitted; null for an exhaustive search. */
  readonly omission: number | null;
  readonly ms: number;
  /** The race pass's first search (the race scope) after this one, or null when there was none (or nothing left to decide). */
  readonly race: RaceSummary | null;
  /** Every search of the race pass, in order (the race scope, then the device race scope); empty when there was none. */
  readonly races: readonly RaceSummary[];
}

/** One breadth-first search of a policy's scope, checking every property; one cell per property. */
export function checkPolicyExhaustively(entry: PolicyEntry, props: readonly Property[], opts: ExhaustiveMatrixOptions): { cells: CellResult[]; summary: SearchSummary } {
  const sys = makeSystem(opts.scope.config, entry.policy);
  const alphabet = alphabetEvents(policyScope(entry.policy, opts.scope));
  const canonical = opts.reduction === false ? null : symmetryReduction(sys, alphabet).canonical;
  const rec = new CoverageRecorder(sys, props);
  const r = exhaustiveCheck(sys, props, alphabet, {
    depth: opts.depth, maxStates: opts.maxStates, targets: searchTargets(entry, props, opts),
    maxMemoryBytes: opts.maxMemoryMiB === undefined ? undefined : opts.maxMemoryMiB * 1024 * 1024,
    bitstate: opts.bitstate, onProgress: opts.onProgress, canonical, observer: rec, deadline: opts.deadline, counterexamples: opts.counterexamples,
    split: splitOf(entry, props, opts.scope.config, alphabet, canonical !== null, true, opts),
  });
  const time = (ms: number) => (opts.timing ? Math.round(ms) : 0);
  const cells = r.outcomes.map((o, p): CellResult => {
    const prop = o.property;
    const coverage = rec.result(p);
    const claimed = claimsOf(entry.policy).includes(prop.name);
    const base = { engine: "exhaustive" as const, pass: "main" as const, policy: entry.policy.name, property: prop.name, claimed, runs: null, msToFind: null };
    if (o.events === null || o.violation === null) {
      // A bitstate search that ran out of new states is not a proof: some states may have been omitted.
      const bound = r.exhausted ? (r.omission === null ? "exhausted" as const : "bitstate" as const)
        : r.stopped === "states" || r.stopped === "decided" || r.stopped === "memory" ? r.stopped : "depth" as const;
      return {
        ...base, verdict: "holds", states: r.states, transitions: r.transitions, depth: r.depth, exhausted: r.exhausted && r.omission === null, bound,
        length: null, ms: time(r.ms), counterexample: null, explanation: null, coverage, vacuous: isVacuous(coverage), more: [],
      };
    }
    const { cx, explanation } = exhaustiveCounterexample(entry, sys, prop, opts.scope.config, { events: o.events, violation: o.violation, transitions: o.transitions, ms: time(o.ms) });
    return {
      ...base, verdict: "violated", states: o.states, transitions: o.transitions, depth: o.events.length, exhausted: false, bound: null,
      length: o.events.length, ms: time(o.ms), counterexample: cx, explanation, coverage, vacuous: false,
      more: o.more.map((m) => exhaustiveCounterexample(entry, sys, prop, opts.scope.config, { ...m, ms: time(m.ms) }).cx),
    };
  });
  const race = opts.race === undefined || opts.race === null || opts.bitstate !== undefined ? null : racePass(entry, props, cells, opts, opts.race);
  const races = race?.summaries ?? [];
  const summary: SearchSummary = {
    policy: entry.policy.name, states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped,
    bytesPerState: r.bytesPerState, symmetry: canonical !== null, omission: r.omission, ms: time(r.ms), race: races[0] ?? null, races,
  };
  return { cells: race?.cells ?? cells, summary };
}

/** A shortest counterexample of the exhaustive engine, explained by replaying it (`ms` already rounded or zeroed). */
function exhaustiveCounterexample(
  entry: PolicyEntry, sys: System, prop: Property, config: ModelConfig,
  found: { readonly events: Event[]; readonly violation: FoundViolation; readonly transitions: number; readonly ms: number },
): { cx: Counterexample; explanation: string } {
  const explanation = traceEvents(sys, [prop], found.events).explanation ?? found.violation.message;
  const cx = buildCounterexample({
    policy: entry.policy.name, policyModule: entry.module, property: prop.name, config, events: found.events, step: found.violation.step,
    explanation, engine: "exhaustive", seed: null, path: null, runs: found.transitions, ms: found.ms,
  });
  return { cx, explanation };
}

/**
 * The race pass: the race scopes (checker/scope.ts raceScopesFor: the race
 * scope, then the device race scope) searched breadth-first, one after the
 * other, each up to `race.maxStates` states, for the properties the searches
 * before it did not violate. A violation found there replaces the main cell's
 * "holds" (its counterexample carries that scope's machine, so it replays as
 * it is); a cell that still holds keeps the main search's verdict and bound.
 * A search runs only while a claimed property (every property, when none is
 * claimed or with --all-properties) is undecided, and ends once those are
 * violated, as the main one does.
 */
function racePass(
  entry: PolicyEntry, props: readonly Property[], cells: CellResult[], opts: ExhaustiveMatrixOptions, race: RaceOptions,
): { cells: CellResult[]; summaries: RaceSummary[] } {
  const targets = searchTargets(entry, props, opts);
  const out = cells.slice();
  const summaries: RaceSummary[] = [];
  for (const raceScope of raceScopesFor(entry.policy, race.base)) {
    const r = raceSearch(entry, props, out, targets, { ...opts, depth: race.depth ?? opts.depth }, race.maxStates, raceScope);
    if (r === null) break;
    summaries.push(r);
  }
  return { cells: out, summaries };
}

/** One search of the race pass over `raceScope`, replacing in `out` the cells it violates; null when nothing was left to decide. */
function raceSearch(
  entry: PolicyEntry, props: readonly Property[], out: CellResult[], targets: boolean[] | undefined, opts: ExhaustiveMatrixOptions, maxStates: number, raceScope: Scope,
): RaceSummary | null {
  const open = props.map((_, p) => out[p].verdict === "holds");
  if (!props.some((_, p) => open[p] && (targets?.[p] ?? true))) return null;
  const scope = policyScope(entry.policy, raceScope);
  const sys = makeSystem(scope.config, entry.policy);
  const alphabet = alphabetEvents(scope);
  const canonical = opts.reduction === false ? null : symmetryReduction(sys, alphabet).canonical;
  const idx = props.map((_, p) => p).filter((p) => open[p]);
  const rprops = idx.map((p) => props[p]);
  const rtargets = idx.map((p) => targets?.[p] ?? true);
  const c = scope.config;
  const name = raceScopeName(c);
  const onProgress = opts.onProgress;
  const r = exhaustiveCheck(sys, rprops, alphabet, {
    depth: opts.depth, maxStates, targets: rtargets, canonical, deadline: opts.deadline,
    split: splitOf(entry, rprops, scope.config, alphabet, canonical !== null, false, opts),
    where: `${entry.policy.name} (exhaustive engine, ${name})`,
    onProgress: onProgress === undefined ? undefined : (p) => onProgress({ ...p, scope: name }),
  });
  const time = (ms: number) => (opts.timing ? Math.round(ms) : 0);
  r.outcomes.forEach((o, i) => {
    if (o.events === null || o.violation === null) return;
    const p = idx[i];
    const { cx, explanation } = exhaustiveCounterexample(entry, sys, o.property, scope.config, { events: o.events, violation: o.violation, transitions: o.transitions, ms: time(o.ms) });
    out[p] = {
      ...out[p], pass: "race", verdict: "violated", states: o.states, transitions: o.transitions, depth: o.events.length, exhausted: false, bound: null,
      length: o.events.length, ms: time(o.ms), counterexample: cx, explanation, vacuous: false,
    };
  });
  return {
    states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped, exhausted: r.exhausted, symmetry: canonical !== null,
    cpus: c.cpus, devices: c.devices, frames: c.frames, maxMappings: c.maxMappings, ms: time(r.ms),
  };
}

/**
 * The split of a search over opts.pool, when its workers can rebuild it: a
 * built-in policy (found by its name) or a user's module (loaded by its path),
 * and built-in properties. Otherwise null: the search runs on this thread.
 */
function splitOf(
  entry: PolicyEntry, props: readonly Property[], config: ModelConfig, alphabet: readonly Event[], symmetry: boolean, observe: boolean, opts: ExhaustiveMatrixOptions,
): { pool: SearchPool; spec: SearchSpec } | null {
  const pool = opts.pool ?? null;
  if (pool === null) return null;
  if (entry.module === null && findAnyPolicy(entry.policy.name) !== entry.policy) return null;
  if (props.some((p) => findProperty(p.name) !== p)) return null;
  return {
    pool,
    spec: { policy: entry.policy.name, module: entry.module, config, alphabet, properties: props.map((p) => p.name), symmetry, observe, maxLevel: opts.depth + 1 },
  };
}

/**
 * Which properties' verdicts end a policy's search: the ones it claims (a
 * violation decides one; a claim that holds is decided only at exhaustion).
 * With --all-properties, or when none of the selected properties is claimed,
 * every property.
 */
function searchTargets(entry: PolicyEntry, props: readonly Property[], opts: ExhaustiveMatrixOptions): boolean[] | undefined {
  if (opts.allProperties === true) return undefined;
  const claimed = props.map((p) => claimsOf(entry.policy).includes(p.name));
  return claimed.some((c) => c) ? claimed : undefined;
}

/**
 * Coverage: what a run actually exercised, so that a "holds" comes with its
 * witnesses. An observer both engines feed through one hook (StepObserver,
 * called once per applied event, before the properties are checked); it
 * changes nothing in the search. Its result is plain, deterministic data
 * (sorted keys, no Maps, no timings), so a cell computed in a worker thread
 * crosses the boundary as is.
 *
 * A property whose antecedent (properties/property.ts Antecedent) was never
 * reached holds vacuously: nothing in the run could have violated it.
 * See docs/coverage.md.
 */
import { EVENT_TAGS, type Event, type EventTag } from "../model/events.ts";
import { FRAMES } from "../model/geometry.ts";
import { type Observation, SHORT_NAMES } from "../model/observation.ts";
import { frameRole, ROLE_FREE } from "../model/physical-memory.ts";
import { FAIL } from "../model/policy.ts";
import { type State } from "../model/state.ts";
import { OP_MAP, OP_TIMER, OP_UNMAP, type System } from "../model/system.ts";
import { type Property } from "../properties/property.ts";

/** The hook an engine calls after each step (pre-state, event, its observation, post-state). */
export interface StepObserver {
  step(pre: State, e: Event, obs: Observation, post: State): void;
}

export interface EventCoverage {
  /** Steps where the event applied. */
  readonly applied: number;
  /** Steps where it was a no-op, by the reason the model gave. */
  readonly noop: Readonly<Record<string, number>>;
}

/** One DMA API handler of the policy (map, unmap, timer work). */
export interface HandlerCoverage {
  /** Steps that ran it. */
  readonly runs: number;
  /** Runs by the phase the handler was called with ("0" = the call started). */
  readonly phases: Readonly<Record<string, number>>;
  /** Runs that returned DONE (the call returned to the driver), FAIL (a map failed), or a phase (blocked). */
  readonly returned: number;
  readonly failed: number;
  readonly blocked: number;
}

export interface AntecedentCoverage {
  readonly summary: string;
  /** Occurrences of the antecedent (the sum of its cases); 0 = the property holds vacuously. */
  readonly reached: number;
  readonly cases: Readonly<Record<string, number>>;
  readonly context: Readonly<Record<string, number>>;
  /** Why the property holds vacuously (never reached; or no map call returned, for a property about DMA mappings), or null. */
  readonly vacuous: string | null;
}

export interface Coverage {
  /** Steps observed (exhaustive: transitions explored; random: events run before the first failure). */
  readonly transitions: number;
  /** By event kind, in the order of model/events.ts; kinds never tried are left out. */
  readonly events: Readonly<Record<string, EventCoverage>>;
  readonly handlers: { readonly map: HandlerCoverage; readonly unmap: HandlerCoverage; readonly timer: HandlerCoverage };
  /** Steps on which an allocation found a resource exhausted, by resource. */
  readonly shortages: Readonly<Record<string, number>>;
  /** Frames free after boot, of all frames; resources the policy's boot ran out of. */
  readonly bootFreeFrames: number;
  readonly frames: number;
  readonly bootShortages: readonly string[];
  /** The property's antecedent; null when it declares none. */
  readonly antecedent: AntecedentCoverage | null;
  /** When no map ever returned: what was missing, in words (empty otherwise). */
  readonly missing: readonly string[];
}

/**
 * A recorder's counts as plain data, to be added to another recorder's: a
 * split search's workers (checker/split-search.ts) observe their chunks of a
 * level and the search's recorder absorbs them, so its result is the same sum
 * a single recorder would have counted (every count is a sum over steps).
 */
export interface CoverageDelta {
  readonly transitions: number;
  readonly applied: readonly number[];
  /** [event tag index, reason, steps]. */
  readonly noops: readonly (readonly [number, string, number])[];
  readonly handler: readonly number[];
  /** [op, phase, runs]. */
  readonly phases: readonly (readonly [number, number, number])[];
  readonly short: readonly number[];
  readonly mapEventShort: readonly number[];
  readonly mapHandlerShort: readonly number[];
  readonly counts: readonly number[];
}

const TAG_INDEX = new Map<EventTag, number>(EVENT_TAGS.map((t, i) => [t, i]));
/** Tag indices of the events that start a map call. */
const MAP_TAGS = new Set<number>(["map", "map-sg", "alloc-coherent"].map((t) => TAG_INDEX.get(t as EventTag) ?? -1));
const OPS = [OP_MAP, OP_UNMAP, OP_TIMER];
/** Per op: runs, returned, failed, blocked. */
const H_RUNS = 0, H_RETURNED = 1, H_FAILED = 2, H_BLOCKED = 3, H_W = 4;

export class CoverageRecorder implements StepObserver {
  private transitions = 0;
  private readonly applied = new Float64Array(EVENT_TAGS.length);
  private readonly noops: Map<string, number>[] = EVENT_TAGS.map(() => new Map());
  private readonly handler = new Float64Array((OP_TIMER + 1) * H_W);
  private readonly phases: Map<number, number>[] = [new Map(), new Map(), new Map(), new Map()];
  private readonly short = new Float64Array(SHORT_NAMES.length);
  /** By resource: map events that were no-ops for lack of it, and map-handler steps that ran out of it. */
  private readonly mapEventShort = new Float64Array(SHORT_NAMES.length);
  private readonly mapHandlerShort = new Float64Array(SHORT_NAMES.length);
  private readonly offsets: number[] = [];
  private readonly counts: Float64Array;
  private readonly props: readonly Property[];

  constructor(readonly sys: System, props: readonly Property[]) {
    this.props = props;
    let n = 0;
    for (const p of props) {
      this.offsets.push(n);
      const a = p.antecedent;
      if (a !== undefined) n += a.cases.length + (a.context?.length ?? 0);
    }
    this.counts = new Float64Array(n);
  }

  step(pre: State, e: Event, obs: Observation, post: State): void {
    this.transitions++;
    const tag = TAG_INDEX.get(e.t) ?? 0;
    if (obs.noop) {
      const m = this.noops[tag];
      m.set(obs.reason, (m.get(obs.reason) ?? 0) + 1);
    } else this.applied[tag]++;
    const op = obs.handlerOp;
    if (op !== 0) {
      const h = op * H_W;
      this.handler[h + H_RUNS]++;
      const r = obs.handlerResult;
      this.handler[h + (r >= 0 ? H_BLOCKED : r === FAIL ? H_FAILED : H_RETURNED)]++;
      const ph = this.phases[op];
      ph.set(obs.handlerPhase, (ph.get(obs.handlerPhase) ?? 0) + 1);
    }
    const sh = obs.short;
    if (sh !== 0) for (let b = 0; b < SHORT_NAMES.length; b++) if ((sh & (1 << b)) !== 0) this.short[b]++;
    if (sh !== 0 && (op === OP_MAP || (obs.noop && MAP_TAGS.has(tag)))) {
      const into = op === OP_MAP ? this.mapHandlerShort : this.mapEventShort;
      for (let b = 0; b < SHORT_NAMES.length; b++) if ((sh & (1 << b)) !== 0) into[b]++;
    }
    const props = this.props;
    for (let p = 0; p < props.length; p++) {
      const a = props[p].antecedent;
      if (a !== undefined) a.count(this.sys, pre, e, obs, post, this.counts, this.offsets[p]);
    }
  }

  /** The counts since the last call (or since the start), as plain data; the recorder starts again from zero. */
  takeDelta(): CoverageDelta {
    const take = (a: Float64Array) => {
      const out = Array.from(a);
      a.fill(0);
      return out;
    };
    const noops: [number, string, number][] = [];
    this.noops.forEach((m, tag) => {
      for (const [reason, n] of m) noops.push([tag, reason, n]);
      m.clear();
    });
    const phases: [number, number, number][] = [];
    this.phases.forEach((m, op) => {
      for (const [phase, n] of m) phases.push([op, phase, n]);
      m.clear();
    });
    const d: CoverageDelta = {
      transitions: this.transitions, applied: take(this.applied), noops, handler: take(this.handler), phases,
      short: take(this.short), mapEventShort: take(this.mapEventShort), mapHandlerShort: take(this.mapHandlerShort), counts: take(this.counts),
    };
    this.transitions = 0;
    return d;
  }

  /** Adds another recorder's delta (takeDelta) of the same system and properties. */
  absorb(d: CoverageDelta): void {
    this.transitions += d.transitions;
    const add = (into: Float64Array, from: readonly number[]) => {
      for (let i = 0; i < from.length; i++) into[i] += from[i];
    };
    add(this.applied, d.applied);
    for (const [tag, reason, n] of d.noops) this.noops[tag].set(reason, (this.noops[tag].get(reason) ?? 0) + n);
    add(this.handler, d.handler);
    for (const [op, phase, n] of d.phases) this.phases[op].set(phase, (this.phases[op].get(phase) ?? 0) + n);
    add(this.short, d.short);
    add(this.mapEventShort, d.mapEventShort);
    add(this.mapHandlerShort, d.mapHandlerShort);
    add(this.counts, d.counts);
  }

  /** Coverage for property number `p` (of those given to the constructor): plain data. */
  result(p: number): Coverage {
    const events: Record<string, EventCoverage> = {};
    EVENT_TAGS.forEach((t, i) => {
      if (this.applied[i] === 0 && this.noops[i].size === 0) return;
      events[t] = { applied: this.applied[i], noop: sortedRecord(this.noops[i]) };
    });
    const handler = (op: number): HandlerCoverage => {
      const h = op * H_W;
      const phases = new Map([...this.phases[op]].map(([k, v]) => [String(k), v]));
      return {
        runs: this.handler[h + H_RUNS], phases: sortedRecord(phases, true),
        returned: this.handler[h + H_RETURNED], failed: this.handler[h + H_FAILED], blocked: this.handler[h + H_BLOCKED],
      };
    };
    const handlers = { map: handler(OP_MAP), unmap: handler(OP_UNMAP), timer: handler(OP_TIMER) };
    const shortages: Record<string, number> = {};
    SHORT_NAMES.forEach((name, b) => {
      if (this.short[b] > 0) shortages[name] = this.short[b];
    });
    const bootShort = this.sys.bootShort ?? 0;
    const bootShortages = SHORT_NAMES.filter((_, b) => (bootShort & (1 << b)) !== 0);
    const frames = this.sys.cfg.frames;
    let bootFreeFrames = 0;
    for (let f = 0; f < frames; f++) if (frameRole(this.sys.init[FRAMES], f) === ROLE_FREE) bootFreeFrames++;
    const prop = this.props[p];
    const a = prop.antecedent;
    let antecedent: AntecedentCoverage | null = null;
    if (a !== undefined) {
      const at = this.offsets[p];
      const cases: Record<string, number> = {};
      let reached = 0;
      a.cases.forEach((c, i) => {
        cases[c] = this.counts[at + i];
        reached += this.counts[at + i];
      });
      const context: Record<string, number> = {};
      (a.context ?? []).forEach((c, i) => {
        context[c] = this.counts[at + a.cases.length + i];
      });
      const vacuous = reached === 0 ? `never reached: ${a.summary}`
        : a.afterMap === true && handlers.map.returned === 0 ? "no map call ever returned" : null;
      antecedent = { summary: a.summary, reached, cases, context, vacuous };
    }
    const cov = {
      transitions: this.transitions, events, handlers, shortages, bootFreeFrames, frames, bootShortages, antecedent, missing: [] as string[],
    };
    cov.missing = this.missing(cov);
    return cov;
  }

  /** Why no map succeeded, when none did: which resource the scope left no room for. */
  private missing(c: Omit<Coverage, "missing">): string[] {
    if (c.handlers.map.returned > 0) return [];
    const out: string[] = [];
    if (c.bootShortages.length > 0) {
      out.push(`the policy's boot ran out of ${c.bootShortages.join(" and ")}`);
    }
    let short = false;
    SHORT_NAMES.forEach((name, b) => {
      const n = this.mapEventShort[b];
      if (n > 0) out.push(`${fmtCount(n, "map event")} found no ${name} (a no-op)`);
      const h = this.mapHandlerShort[b];
      if (h > 0) out.push(`the map handler ran out of ${name} on ${fmtCount(h, "step")}`);
      short ||= n > 0 || h > 0;
    });
    const failed = c.handlers.map.failed;
    if (failed > 0) {
      const why = short || c.bootShortages.length > 0 ? "" : " with no kernel resource short (a limit of the policy's own, e.g. an empty pool)";
      out.push(`${fmtCount(failed, "map call")} failed (DMA_MAPPING_ERROR)${why}`);
    }
    const tried = [...MAP_TAGS].some((i) => this.applied[i] > 0 || this.noops[i].size > 0);
    if (!tried) out.push("no map event was tried (the alphabet or the sequences have none)");
    out.push(`${c.bootFreeFrames} of ${c.frames} frames were free after boot`);
    return [`no map succeeded: ${out.join("; ")}`];
  }
}

function fmtCount(n: number, what: string): string {
  return `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`;
}

/** A Map as a plain record with sorted keys (numeric order with `numeric`), so the result is the same whatever the visiting order. */
function sortedRecord(m: ReadonlyMap<string, number>, numeric = false): Record<string, number> {
  const keys = [...m.keys()].sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = m.get(k) ?? 0;
  return out;
}

/** A holding property is vacuous when the run never reached the antecedent it declares (see AntecedentCoverage.vacuous). */
export function isVacuous(c: Coverage | null): boolean {
  return c !== null && c.antecedent !== null && c.antecedent.vacuous !== null;
}

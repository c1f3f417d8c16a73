/**
 * A counterexample's trace in the Informal Trace Format (ITF), the JSON trace
 * format of Apalache and Quint (`dmacheck replay FILE --itf OUT`), so that
 * their tools (Quint's trace reader, the ITF trace viewer, itf-rs) can read
 * what dmacheck found. The format is Apalache's ADR-015 "Informal Trace
 * Format in JSON" (apalache docs/src/adr/015adr-trace.md); docs/exhaustive.md
 * "Reading the output" describes what dmacheck puts in it.
 *
 * - A trace is `{"#meta", "vars", "states"}`; state i is
 *   `{"#meta": {"index": i}, <var>: <expr>, ...}` and defines every var.
 * - Integers are written as `{"#bigint": "..."}` only, never as JSON
 *   numbers: ADR-015 allows both, and Quint writes and expects the big form
 *   (quint/src/itf.ts ofItfValue: "We never encode an integer as a JS number").
 * - Sets are `{"#set": [...]}`, maps `{"#map": [[k, v], ...]}`, tuples
 *   `{"#tup": [...]}`, records plain objects, sequences plain arrays.
 * - No record has a field named `tag`: Quint reads such an object as a
 *   variant (ofItfValue isVariant), not a record.
 *
 * State 0 is the booted machine (event `{"t": "init"}`, step 0); state i is
 * the machine after event i (1-based step i). The decoding is deliberately
 * small and stable: frames (role, owners, pins), objects, live mappings, the
 * IOTLB and ATC entries, and the violation at the last state. It re-executes
 * the events once more; it is off the checking path (replay only).
 */
import { type Event } from "../model/events.ts";
import { Observation } from "../model/observation.ts";
import { type Policy } from "../model/policy.ts";
import { type State, type Words } from "../model/state.ts";
import { makeSystem, Stepper, dmaAddress, type System } from "../model/system.ts";
import { ATC, FRAMES, IOTLB, IOTLB_W, levelShift, MAPS, OBJECTS, PDEC } from "../model/geometry.ts";
import { pdecFrame, pdecIr, pdecIw, pdecNextLevel } from "../model/iotlb.ts";
import { frameRole, ROLE_FREE, ROLE_NAMES } from "../model/physical-memory.ts";
import { pinCount } from "../model/pinning.ts";
import { objCount, objFrame, objKind, objOffset, objOwner, objSize, ownerName } from "../model/objects.ts";
import {
  dirName, KIND_NAMES, mDev, mDir, mIova, mKind, mPages, mSegBounce, mSegFrame, mSegLen, mSegOffset, mSegs, MS_FREE, mStatus, STATUS_NAMES,
} from "../model/dma-mapping.ts";
import { PAGE_SIZE } from "../model/config.ts";
import { type ReplayResult } from "../checker/replay.ts";
import { type Counterexample } from "./schema.ts";

/** An ITF expression (ADR-015 "Expressions"), as dmacheck writes them: no plain JSON numbers. */
export type ItfValue =
  | boolean
  | string
  | ItfBigint
  | readonly ItfValue[]
  | { readonly "#tup": readonly ItfValue[] }
  | { readonly "#set": readonly ItfValue[] }
  | { readonly "#map": readonly (readonly [ItfValue, ItfValue])[] }
  | { readonly [field: string]: ItfValue };
export interface ItfBigint {
  readonly "#bigint": string;
}

export interface ItfState {
  readonly "#meta": { readonly index: number };
  readonly [v: string]: ItfValue | { readonly index: number };
}

export interface ItfTrace {
  readonly "#meta": Readonly<Record<string, unknown>>;
  readonly vars: readonly string[];
  readonly states: readonly ItfState[];
}

/** The variables of every state, in this order. */
export const ITF_VARS = ["step", "event", "noop", "frames", "objects", "mappings", "iotlb", "pdec", "atc", "violation"] as const;

/** ADR-015's address, which tools put in `#meta["format-description"]`. */
const FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html";
/** Object kinds (model/objects.ts KIND_*). */
const OBJECT_KINDS = ["none", "kmalloc", "pages", "user", "pool"];

export const big = (n: number): ItfBigint => ({ "#bigint": String(n) });
const set = (xs: readonly ItfValue[]): ItfValue => ({ "#set": xs });
const map = (kvs: readonly (readonly [ItfValue, ItfValue])[]): ItfValue => ({ "#map": kvs });
const tup = (xs: readonly ItfValue[]): ItfValue => ({ "#tup": xs });

/**
 * The ITF trace of `cx` replayed with `policy` (`r` is that replay: its steps
 * give each step's no-op reason, its violation the last state's). `source`
 * is the counterexample file, recorded in `#meta.source`.
 */
export function itfTrace(cx: Counterexample, policy: Policy, r: ReplayResult, source: string): ItfTrace {
  const sys = makeSystem(cx.config, policy);
  const stepper = new Stepper(sys, new Observation());
  const n = r.trace.steps.length;
  const v = r.trace.violation;
  const states: ItfState[] = [decodeState(sys, sys.init, 0, null, null, null)];
  let s = sys.init;
  for (let i = 0; i < n; i++) {
    s = stepper.step(s, cx.events[i]);
    const last = i === n - 1 && v !== null ? { property: cx.property, step: big(i + 1), message: r.trace.explanation ?? v.message } : null;
    states.push(decodeState(sys, s, i + 1, cx.events[i], r.trace.steps[i].noop, last));
  }
  return {
    "#meta": {
      format: "ITF",
      "format-description": FORMAT_DESCRIPTION,
      source,
      description: `Created by dmacheck replay: ${cx.policy} x ${cx.property}, found by the ${cx.found.engine} engine`,
      policy: cx.policy,
      property: cx.property,
      config: cx.config,
      reproduced: r.reproduced,
      violation: v === null ? null : { step: v.step + 1, explanation: r.trace.explanation ?? v.message },
    },
    vars: ITF_VARS,
    states,
  };
}

function decodeState(sys: System, s: State, step: number, e: Event | null, noop: string | null, violation: { [k: string]: ItfValue } | null): ItfState {
  return {
    "#meta": { index: step },
    step: big(step),
    event: e === null ? { t: "init" } : eventValue(e),
    noop: noop ?? "",
    frames: frames(sys, s),
    objects: objects(s[OBJECTS]),
    mappings: mappings(sys, s[MAPS]),
    iotlb: translations(sys, s[IOTLB]),
    pdec: directoryCache(sys, s[PDEC]),
    atc: translations(sys, s[ATC]),
    violation: violation === null ? [] : [violation],
  };
}

/** An event as a record, field for field as in model/events.ts; numbers as big integers. */
export function eventValue(e: Event): ItfValue {
  const out: { [k: string]: ItfValue } = {};
  for (const [k, x] of Object.entries(e)) {
    if (x === undefined) continue;
    out[k] = typeof x === "number" ? big(x) : Array.isArray(x) ? x.map((y: number) => big(y)) : (x as string | boolean);
  }
  return out;
}

/** Frame -> role, owners of the objects in it, pin count. */
function frames(sys: System, s: State): ItfValue {
  const fr = s[FRAMES];
  const owners: Set<string>[] = Array.from({ length: sys.cfg.frames }, () => new Set<string>());
  const ob = s[OBJECTS];
  for (let i = 0; i < objCount(ob); i++) {
    const first = objFrame(ob, i);
    const last = Math.floor((first * PAGE_SIZE + objOffset(ob, i) + objSize(ob, i) - 1) / PAGE_SIZE);
    for (let f = first; f <= last && f < sys.cfg.frames; f++) owners[f].add(ownerName(objOwner(ob, i)));
  }
  const kvs: [ItfValue, ItfValue][] = [];
  for (let f = 0; f < sys.cfg.frames; f++) {
    const role = frameRole(fr, f);
    kvs.push([big(f), {
      role: ROLE_NAMES[role] ?? `role ${role}`,
      owners: set(role === ROLE_FREE ? [] : [...owners[f]].sort()),
      pins: big(pinCount(fr, f)),
    }]);
  }
  return map(kvs);
}

/** Live allocated objects, in the model's (frame, offset) order. */
function objects(ob: Words): ItfValue {
  const out: ItfValue[] = [];
  for (let i = 0; i < objCount(ob); i++) {
    out.push({
      frame: big(objFrame(ob, i)), offset: big(objOffset(ob, i)), size: big(objSize(ob, i)),
      kind: OBJECT_KINDS[objKind(ob, i)] ?? `kind ${objKind(ob, i)}`, owner: ownerName(objOwner(ob, i)),
    });
  }
  return out;
}

/** Mapping slot -> the DMA mapping in it (free slots left out). */
function mappings(sys: System, mp: Words): ItfValue {
  const kvs: [ItfValue, ItfValue][] = [];
  for (let m = 0; m < sys.cfg.maxMappings; m++) {
    if (mStatus(mp, m) === MS_FREE) continue;
    const segments: ItfValue[] = [];
    for (let i = 0; i < mSegs(mp, m); i++) {
      segments.push({ frame: big(mSegFrame(mp, m, i)), offset: big(mSegOffset(mp, m, i)), len: big(mSegLen(mp, m, i)), bounce: big(mSegBounce(mp, m, i)) });
    }
    kvs.push([big(m), {
      status: STATUS_NAMES[mStatus(mp, m)], kind: KIND_NAMES[mKind(mp, m)], dir: dirName(mDir(mp, m)), dev: big(mDev(mp, m)),
      // The DMA address the driver was given (0 until the policy assigns one).
      address: big(mIova(mp, m) === 0 ? 0 : dmaAddress(mp, m)), pages: big(mPages(mp, m)), segments,
    }]);
  }
  return map(kvs);
}

/** (device, IOVA) -> the cached translation: frame and permissions (model/iotlb.ts layout; the ATC has the same). */
function translations(sys: System, c: Words): ItfValue {
  const kvs: [ItfValue, ItfValue][] = [];
  const g = sys.g;
  for (let i = 0; i * IOTLB_W < c.length; i++) {
    const w0 = c[i * IOTLB_W];
    if ((w0 & 1) === 0) continue;
    const dev = Math.floor(i / g.winPages);
    const iova = (g.winBase + (i % g.winPages)) * PAGE_SIZE;
    kvs.push([tup([big(dev), big(iova)]), { frame: big(c[i * IOTLB_W + 1]), read: (w0 & 2) !== 0, write: (w0 & 4) !== 0 }]);
  }
  return map(kvs);
}

/**
 * (device, table level, first IOVA the entry spans) -> the cached directory
 * entry: the next table's frame and level, and the permissions accumulated
 * down to it (model/iotlb.ts PDE-cache layout).
 */
function directoryCache(sys: System, c: Words): ItfValue {
  const kvs: [ItfValue, ItfValue][] = [];
  const g = sys.g;
  for (let dev = 0; dev < sys.cfg.devices; dev++) {
    for (let level = 2; level <= sys.cfg.iommuLevels; level++) {
      for (let p = 0; p < g.pdecCount[level]; p++) {
        const e = c[dev * g.pdecPerDomain + g.pdecOffset[level] + p];
        if (e === 0) continue;
        const iova = (g.pdecFirst[level] + p) * 2 ** levelShift(level) * PAGE_SIZE;
        kvs.push([tup([big(dev), big(level), big(iova)]), { frame: big(pdecFrame(e)), nextLevel: big(pdecNextLevel(e)), read: pdecIr(e), write: pdecIw(e) }]);
      }
    }
  }
  return map(kvs);
}

/**
 * The trace as JSON text: the trace's keys one per line, each state on its
 * own lines with one variable per line (so a diff of two traces reads by
 * state and variable), trailing newline. Deterministic: the same trace gives
 * the same bytes.
 */
export function encodeItf(t: ItfTrace): string {
  const lines: string[] = ["{"];
  lines.push(`  "#meta": ${JSON.stringify(t["#meta"])},`);
  lines.push(`  "vars": ${JSON.stringify(t.vars)},`);
  lines.push(`  "states": [`);
  t.states.forEach((st, i) => {
    const fields = Object.entries(st).map(([k, x]) => `      ${JSON.stringify(k)}: ${JSON.stringify(x)}`);
    lines.push(`    {\n${fields.join(",\n")}\n    }${i === t.states.length - 1 ? "" : ","}`);
  });
  lines.push("  ]");
  lines.push("}");
  return lines.join("\n") + "\n";
}

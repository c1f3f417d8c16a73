/**
 * Detailed replay: re-executes events with the observation's notes on, and
 * explains a violation in plain words with the history of the frame involved
 * ("frame 7 has held a kmalloc-64 object of the kernel since step 5").
 * Step numbers in text are 1-based (step 1 is the first event).
 */
import { type Event, formatEvent } from "../model/events.ts";
import { FAULT_NAMES, FAULT_NONE, Observation, SOURCE_NAMES } from "../model/observation.ts";
import { Stepper, type System } from "../model/system.ts";
import { type Property } from "../properties/property.ts";
import { countersToRecord, type CounterName } from "../model/counters.ts";
import { type FoundViolation } from "./execute.ts";
import { MAPS } from "../model/geometry.ts";
import { MS_FREE, MS_MAPPING, mDev, mIova, mPages, mStatus } from "../model/dma-mapping.ts";

/** A mapping that ended during the trace: its device and IOVA range, how it ended, and at which (1-based) step. */
interface Ended {
  readonly dev: number;
  readonly first: number;
  readonly pages: number;
  readonly failedMap: boolean;
  readonly step: number;
}

export interface TraceStep {
  /** 1-based step number. */
  readonly step: number;
  readonly event: Event;
  readonly text: string;
  readonly noop: string | null;
  readonly notes: readonly string[];
  readonly counters: Partial<Record<CounterName, number>>;
}

export interface Trace {
  readonly steps: readonly TraceStep[];
  readonly violation: FoundViolation | null;
  /** Violation message plus the frame's history, or null. */
  readonly explanation: string | null;
}

export function traceEvents(sys: System, props: readonly Property[], events: readonly Event[]): Trace {
  const obs = new Observation();
  obs.detail = true;
  const stepper = new Stepper(sys, obs);
  const history = new Map<number, { text: string; step: number }>();
  const ended: Ended[] = [];
  const steps: TraceStep[] = [];
  let s = sys.init;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const pre = s;
    s = stepper.step(s, e);
    const counters: Partial<Record<CounterName, number>> = {};
    for (const [k, v] of Object.entries(countersToRecord(obs.counters))) if (v !== 0) counters[k as CounterName] = v;
    const text = e.t === "resume" && e.cpu % sys.g.contexts === sys.g.timerCtx ? `${formatEvent(e)} (timer context)` : formatEvent(e);
    steps.push({ step: i + 1, event: e, text, noop: obs.noop ? obs.reason : null, notes: [...obs.notes, ...accessNotes(obs)], counters });
    for (const v of props) {
      const found = v.check(sys, pre, e, obs, s);
      if (found === null) continue;
      const violation = { ...found, step: i };
      return { steps, violation, explanation: explain(endedBy(violation, ended), history) };
    }
    for (const n of obs.frameNotes) history.set(n.frame, { text: n.text, step: i + 1 });
    for (let m = 0; m < sys.cfg.maxMappings; m++) {
      const st = mStatus(pre[MAPS], m);
      if (st === MS_FREE || mStatus(s[MAPS], m) !== MS_FREE || mIova(pre[MAPS], m) === 0) continue;
      ended.push({ dev: mDev(pre[MAPS], m), first: mIova(pre[MAPS], m), pages: mPages(pre[MAPS], m), failedMap: st === MS_MAPPING, step: i + 1 });
    }
  }
  return { steps, violation: null, explanation: null };
}

/** Per device access: each performed segment's frame and translation source, and the fault that stopped it, if any. */
function accessNotes(obs: Observation): string[] {
  if (obs.dev < 0) return [];
  const out: string[] = [];
  const verb = obs.write ? "wrote" : "read";
  for (let i = 0; i < obs.nseg; i++) {
    const addr = obs.segIovaPfn[i] * 4096 + obs.segOffset[i];
    out.push(`dev${obs.dev} ${verb} ${obs.segLen[i]} byte(s) at 0x${addr.toString(16)}: frame ${obs.segFrame[i]} +0x${obs.segOffset[i].toString(16)}, through ${SOURCE_NAMES[obs.segSource[i]] ?? "no translation"}`);
  }
  if (obs.fault !== FAULT_NONE) out.push(`dev${obs.dev} access faulted at page 0x${obs.faultIovaPfn.toString(16)}: ${FAULT_NAMES[obs.fault]}`);
  return out;
}

/**
 * iotlb-coherence says a stale translation's "unmap had already returned"
 * (its check sees only the state, where an ended mapping leaves no trace);
 * when the mapping last covering that IOVA page of the device ended in a
 * failed map (the map's undo, DMA_MAPPING_ERROR), the trace says so instead.
 */
function endedBy(v: FoundViolation, ended: readonly Ended[]): FoundViolation {
  if (v.property !== "iotlb-coherence" || v.dev === undefined || v.iovaPfn === undefined || !v.message.endsWith("; its unmap had already returned")) return v;
  for (let j = ended.length - 1; j >= 0; j--) {
    const x = ended[j];
    if (x.dev !== v.dev || v.iovaPfn < x.first || v.iovaPfn >= x.first + x.pages) continue;
    if (!x.failedMap) return v;
    const message = `${v.message.slice(0, -"its unmap had already returned".length)}the map it was made for had already failed (DMA_MAPPING_ERROR at step ${x.step})`;
    return { ...v, message };
  }
  return v;
}

function explain(v: FoundViolation, history: Map<number, { text: string; step: number }>): string {
  if (v.frame === undefined) return v.message;
  const h = history.get(v.frame);
  if (!h) return `${v.message} (since boot)`;
  return `${v.message}; frame ${v.frame} has ${h.text} since step ${h.step}`;
}

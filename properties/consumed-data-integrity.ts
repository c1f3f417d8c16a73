/**
 * consumed-data-integrity: once the kernel consumes a received buffer, the
 * device cannot change it.
 *
 * The kernel consumes a driver's buffer from the moment its unmap returns
 * while the driver still holds it (an `unmap` without `free`: the driver has
 * passed the received data to the stack, which reads it) until the buffer is
 * freed (given back: to the allocator, or to the pool for the device's next
 * receive). In the state: a live object owned by a driver that no mapping in
 * progress or live (status mapping, mapped or unmapping) names. No new event
 * is needed: the model's `unmap` already separates "the device may still
 * write" (before it returns) from "the kernel owns the data" (after).
 *
 * Formally: for every transition whose observation contains a device write
 * by device d, no byte of any performed segment lies in an object owned by a
 * driver that no live or in-progress mapping names, in the post-state.
 *
 * This is byte-confinement narrowed to the bytes the kernel is reading:
 * a pool allocator that keeps its pages mapped (damn, page_pool) grants the
 * pool page wholesale (page-confinement holds), yet a buffer in it that the
 * stack is reading stays writable by the device, which can then change data
 * after the kernel checked it (Markettos et al., Thunderclap, NDSS'19: the
 * time-of-check-to-time-of-use window on packet buffers).
 */
import { PAGE_SIZE } from "../model/config.ts";
import { MAPS, OBJECTS } from "../model/geometry.ts";
import { MS_FREE, mSegFrame, mSegGen, mSegLen, mSegOffset, mSegs, mStatus } from "../model/dma-mapping.ts";
import { describeObject, findSegmentObject, objCount, objFrame, objOffset, objOwner, objSize, OWNER_USER } from "../model/objects.ts";
import { type State } from "../model/state.ts";
import { type Antecedent, type Property, type Violation } from "./property.ts";
import { hex, sourceName } from "./describe.ts";

/** Whether object `i` is named by a segment of a mapping that is in progress or live. */
function named(s: State, maxMappings: number, i: number): boolean {
  const mp = s[MAPS];
  const ob = s[OBJECTS];
  for (let m = 0; m < maxMappings; m++) {
    if (mStatus(mp, m) === MS_FREE) continue;
    for (let seg = 0; seg < mSegs(mp, m); seg++) {
      if (findSegmentObject(ob, mSegFrame(mp, m, seg), mSegOffset(mp, m, seg), mSegLen(mp, m, seg), mSegGen(mp, m, seg)) === i) return true;
    }
  }
  return false;
}

/** Whether object `i` is a driver's buffer the kernel is consuming (held after its unmap returned). */
export function consumed(s: State, maxMappings: number, i: number): boolean {
  return objOwner(s[OBJECTS], i) > OWNER_USER && !named(s, maxMappings, i);
}

/** The first object the kernel consumes that overlaps physical bytes [start, end), or -1. */
export function consumedObjectIn(s: State, maxMappings: number, start: number, end: number): number {
  const ob = s[OBJECTS];
  for (let i = 0; i < objCount(ob); i++) {
    const a = objFrame(ob, i) * PAGE_SIZE + objOffset(ob, i);
    if (a < end && start < a + objSize(ob, i) && consumed(s, maxMappings, i)) return i;
  }
  return -1;
}

/** Whether frame `f` holds a buffer the kernel consumes. */
function frameHoldsConsumed(s: State, maxMappings: number, f: number): boolean {
  return consumedObjectIn(s, maxMappings, f * PAGE_SIZE, (f + 1) * PAGE_SIZE) >= 0;
}

/**
 * A device write that reached a frame holding a buffer the kernel consumes
 * (whether or not it hit the buffer's bytes): only then could the check fail.
 */
const antecedent: Antecedent = {
  summary: "a device write reaching a frame that holds a buffer the kernel is consuming",
  afterMap: true,
  cases: ["write into a consumed buffer's frame"],
  context: ["other device write"],
  count(sys, _pre, _e, obs, post, counts, at): void {
    if (obs.dev < 0 || !obs.write) return;
    for (let i = 0; i < obs.nseg; i++) {
      if (frameHoldsConsumed(post, sys.cfg.maxMappings, obs.segFrame[i])) counts[at]++;
      else counts[at + 1]++;
    }
  },
};

export const consumedDataIntegrity: Property = {
  name: "consumed-data-integrity",
  summary: "a device never changes a received buffer the kernel is consuming (held after its unmap, until freed)",
  antecedent,
  check(sys, _pre, _e, obs, post): Violation | null {
    if (obs.dev < 0 || !obs.write) return null;
    for (let i = 0; i < obs.nseg; i++) {
      const f = obs.segFrame[i];
      const start = f * PAGE_SIZE + obs.segOffset[i];
      const j = consumedObjectIn(post, sys.cfg.maxMappings, start, start + obs.segLen[i]);
      if (j < 0) continue;
      return {
        property: "consumed-data-integrity",
        dev: obs.dev,
        frame: f,
        iovaPfn: obs.segIovaPfn[i],
        message: `device ${obs.dev} wrote bytes ${hex(obs.segOffset[i])}..${hex(obs.segOffset[i] + obs.segLen[i] - 1)} of frame ${f} ` +
          `through ${sourceName(obs.segSource[i])} for IOVA ${hex(obs.segIovaPfn[i] * PAGE_SIZE + obs.segOffset[i])}, ` +
          `inside ${describeObject(post[OBJECTS], j)}, which the kernel is consuming: its unmap returned and the driver holds it`,
      };
    }
    return null;
  },
};

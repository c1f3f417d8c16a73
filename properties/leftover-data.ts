/**
 * leftover-data: a device never reads data that belongs to another owner.
 *
 * Every byte of memory holds some owner's data or zeroes (model/physical-
 * memory.ts, frame word w3, and the objects): the bytes of a live object are
 * its owner's; a page-table frame's are the kernel's; a user or guest page's
 * are user data; a live bounce slot's copy is the data of the driver whose
 * buffer it copies; every other byte (a free frame, a free slab slot, pool
 * space no buffer holds, bounce padding) holds what its frame's last users
 * left there, which the frame's contents word records. The page allocator
 * does not clear what it hands out unless asked to (page tables, user pages,
 * coherent buffers, zeroed pools are zeroed; slab pages, pool pages and
 * bounce padding are not unless the policy zeroes them).
 *
 * Formally: for every transition whose observation contains a device read by
 * device d, every byte of every performed segment holds zeroes or data of
 * the driver of d, in the post-state. This holds even for bytes granted to d:
 * a grant says the device may touch the bytes, not that what they hold is
 * the device's to see.
 *
 * Sources: Linux kernel/dma/swiotlb.c and drivers/iommu/dma-iommu.c
 * iommu_dma_map_swiotlb ("Untrusted devices should not see padding areas with
 * random leftover kernel data", so the padding is zeroed); the DMA_FROM_DEVICE
 * info leak fixed by ddbd89deb7d3 "swiotlb: fix info leak with
 * DMA_FROM_DEVICE" (CVE-2022-0854); Markettos et al., Thunderclap (NDSS'19):
 * whatever the IOMMU exposes beside a buffer is readable.
 */
import { PAGE_SIZE } from "../model/config.ts";
import { FRAMES, MAPS, OBJECTS } from "../model/geometry.ts";
import { MS_FREE, mDev, mSegBounce, mSegLen, mSegOffset, mSegs, mStatus } from "../model/dma-mapping.ts";
import { describeObject, objCount, objFrame, objOffset, objOwner, objSize, OWNER_USER, ownerDriver } from "../model/objects.ts";
import {
  CONTENTS_ZERO, contentsName, contentsOf, contentsProcess, frameAux, frameContents, frameRole, liveFrameContents, ROLE_BOUNCE, ROLE_USER,
} from "../model/physical-memory.ts";
import { type State, type Words } from "../model/state.ts";
import { type Property, type Violation } from "./property.ts";
import { describeFrame, hex, sourceName } from "./describe.ts";
import { deviceReadAntecedent } from "./antecedent.ts";

/** Where a byte's contents come from (for messages and tests). */
export const FROM_COPY = 0, FROM_OBJECT = 1, FROM_ROLE = 2, FROM_LEFTOVER = 3;

/** Scratch result of contentsAt. */
export class Contents {
  /** Contents code (physical-memory.ts: 0 zeroes, owner + 1, CONTENTS_MIXED). */
  code = 0;
  /** End (exclusive) of the run of bytes from `pos` with the same origin, within the frame. */
  end = 0;
  from = FROM_LEFTOVER;
  /** The object, or the mapping, the bytes belong to (-1 otherwise). */
  which = -1;
}

/** Whose data physical byte `pos` holds in `s`, and for how many bytes from it the answer is the same. */
export function contentsAt(s: State, maxMappings: number, pos: number, out: Contents): Contents {
  const f = Math.floor(pos / PAGE_SIZE);
  const fr = s[FRAMES];
  let next = (f + 1) * PAGE_SIZE;
  // A live bounce slot's copy of its buffer, in the slot frames that buffer currently owns.
  if (frameRole(fr, f) === ROLE_BOUNCE && frameAux(fr, f) !== 0) {
    const m = frameAux(fr, f) - 1;
    const mp = s[MAPS];
    if (m < maxMappings && mStatus(mp, m) !== MS_FREE) {
      for (let seg = 0; seg < mSegs(mp, m); seg++) {
        const slot = mSegBounce(mp, m, seg);
        if (slot < 0) continue;
        const a = slot * PAGE_SIZE + (mSegOffset(mp, m, seg) % PAGE_SIZE);
        const b = a + mSegLen(mp, m, seg);
        if (a <= pos && pos < b) return set(out, contentsOf(ownerDriver(mDev(mp, m))), Math.min(b, next), FROM_COPY, m);
        if (a > pos && a < next) next = a;
      }
    }
  }
  const ob = s[OBJECTS];
  for (let i = 0; i < objCount(ob); i++) {
    const a = objFrame(ob, i) * PAGE_SIZE + objOffset(ob, i);
    const b = a + objSize(ob, i);
    if (a <= pos && pos < b) return set(out, objectContents(fr, objOwner(ob, i), f), Math.min(b, (f + 1) * PAGE_SIZE), FROM_OBJECT, i);
    if (a > pos && a < next) next = a;
  }
  const rc = liveFrameContents(fr, f);
  if (rc >= 0) return set(out, rc, (f + 1) * PAGE_SIZE, FROM_ROLE, -1);
  return set(out, frameContents(fr, f), next, FROM_LEFTOVER, -1);
}

/**
 * Whose data an object of `owner` in frame `f` holds: its owner's; a user
 * page (owner OWNER_USER, on a user frame) holds its process's
 * (liveFrameContents).
 */
function objectContents(fr: Words, owner: number, f: number): number {
  return owner === OWNER_USER && frameRole(fr, f) === ROLE_USER ? liveFrameContents(fr, f) : contentsOf(owner);
}

function set(out: Contents, code: number, end: number, from: number, which: number): Contents {
  out.code = code;
  out.end = end;
  out.from = from;
  out.which = which;
  return out;
}

const scratch = new Contents();

/** The first byte of [start, end) holding data neither zero nor the driver of `dev`'s, or -1; `scratch` describes it. */
export function firstForeignByte(s: State, maxMappings: number, dev: number, start: number, end: number, out = scratch): number {
  const own = contentsOf(ownerDriver(dev));
  let pos = start;
  while (pos < end) {
    contentsAt(s, maxMappings, pos, out);
    if (out.code !== CONTENTS_ZERO && out.code !== own) return pos;
    pos = out.end;
  }
  return -1;
}

function origin(s: State, c: Contents, f: number): string {
  if (c.from === FROM_OBJECT) return `a live ${describeObject(s[OBJECTS], c.which)}`;
  if (c.from === FROM_COPY) return `mapping #${c.which}'s bounce copy`;
  if (c.from === FROM_ROLE) return describeFrame(s, f);
  return `left there by an earlier user of frame ${f} and never zeroed (the frame is now ${describeFrame(s, f)})`;
}

/**
 * The user clause (several processes, ModelConfig.processes): a user read by
 * process p of frame f finds no byte holding another process's data (what a
 * pool page carries from one process to the next when it is not zeroed
 * between them: MAIO). The kernel's data in a frame a process reaches is
 * user-confinement's; device data is what the process receives. With one
 * process there is no other process's data, so the clause never fires.
 */
function otherProcessByte(s: State, maxMappings: number, proc: number, f: number, out: Contents): number {
  for (let pos = f * PAGE_SIZE; pos < (f + 1) * PAGE_SIZE; pos = out.end) {
    contentsAt(s, maxMappings, pos, out);
    const p = contentsProcess(out.code);
    if (p >= 0 && p !== proc) return pos;
  }
  return -1;
}

export const leftoverData: Property = {
  name: "leftover-data",
  antecedent: deviceReadAntecedent,
  summary: "a device never reads bytes holding another owner's data, granted or not (leftovers of reused memory); nor a process another process's",
  check(sys, _pre, e, obs, post): Violation | null {
    if (obs.userFrame >= 0 && e.t === "user-touch" && !e.write) {
      const f = obs.userFrame;
      const bad = otherProcessByte(post, sys.cfg.maxMappings, obs.userProc, f, scratch);
      if (bad < 0) return null;
      return {
        property: "leftover-data",
        frame: f,
        message: `user process ${obs.userProc} read frame ${f}; byte ${hex(bad - f * PAGE_SIZE)} holds data of user process ${contentsProcess(scratch.code)}: ${origin(post, scratch, f)}`,
      };
    }
    if (obs.dev < 0 || obs.write) return null;
    for (let i = 0; i < obs.nseg; i++) {
      const f = obs.segFrame[i];
      const start = f * PAGE_SIZE + obs.segOffset[i];
      const bad = firstForeignByte(post, sys.cfg.maxMappings, obs.dev, start, start + obs.segLen[i]);
      if (bad < 0) continue;
      const c = new Contents();
      contentsAt(post, sys.cfg.maxMappings, bad, c);
      const bf = Math.floor(bad / PAGE_SIZE);
      return {
        property: "leftover-data",
        dev: obs.dev,
        frame: bf,
        iovaPfn: obs.segIovaPfn[i],
        message: `device ${obs.dev} read bytes ${hex(obs.segOffset[i])}..${hex(obs.segOffset[i] + obs.segLen[i] - 1)} of frame ${f} ` +
          `through ${sourceName(obs.segSource[i])} for IOVA ${hex(obs.segIovaPfn[i] * PAGE_SIZE + obs.segOffset[i])}; ` +
          `byte ${hex(bad - bf * PAGE_SIZE)} of frame ${bf} holds ${contentsName(c.code)}: ${origin(post, c, bf)}`,
      };
    }
    return null;
  },
};

/** Plain-words descriptions of memory, for violation messages (off the hot path). */
import { PAGE_SIZE } from "../model/config.ts";
import { FRAMES, MAPS, OBJECTS } from "../model/geometry.ts";
import { MS_FREE, mSegFrame, mSegLen, mSegOffset, mSegs, mStatus } from "../model/dma-mapping.ts";
import { describeObject, objCount, objFrame, objOffset, objSize } from "../model/objects.ts";
import {
  F_DETACHED, F_STALE, frameAux, frameFlags, frameRole, ROLE_BOUNCE, ROLE_FREE, ROLE_IOMMU_PT, ROLE_MMU_PT, ROLE_NAMES,
  ROLE_SLAB,
} from "../model/physical-memory.ts";
import { type State } from "../model/state.ts";
import { KMALLOC_CLASSES } from "../model/config.ts";
import { SOURCE_NAMES } from "../model/observation.ts";

/** What frame `f` holds now, e.g. "a kmalloc-64 slab", "free", "an IOMMU page table of dom 0". */
export function describeFrame(s: State, f: number): string {
  const fr = s[FRAMES];
  const role = frameRole(fr, f);
  if (role === ROLE_FREE) return "free";
  if (role === ROLE_SLAB) {
    const objs = objectsIn(s, f);
    const slab = `a kmalloc-${KMALLOC_CLASSES[frameAux(fr, f)]} slab`;
    return objs.length === 0 ? slab : `${slab} holding ${objs.length > 3 ? `${objs.slice(0, 3).join(", ")} and ${objs.length - 3} more` : objs.join(", ")}`;
  }
  if (role === ROLE_IOMMU_PT) {
    const detached = (frameFlags(fr, f) & F_DETACHED) !== 0;
    return `an IOMMU page table of dom ${frameAux(fr, f) & 0xff}${detached ? " (unlinked, not yet freed)" : ""}`;
  }
  if (role === ROLE_MMU_PT) return "a CPU page table";
  const objs = objectsIn(s, f);
  return objs.length > 0 ? objs.join(", ") : `a ${ROLE_NAMES[role]} frame`;
}

function objectsIn(s: State, f: number): string[] {
  const ob = s[OBJECTS];
  const out: string[] = [];
  for (let i = 0; i < objCount(ob); i++) {
    const a = objFrame(ob, i) * PAGE_SIZE + objOffset(ob, i);
    const b = a + objSize(ob, i);
    if (b <= f * PAGE_SIZE || a >= (f + 1) * PAGE_SIZE) continue;
    // An object that starts in an earlier frame is named by where it starts, never by a negative offset.
    const at = a >= f * PAGE_SIZE ? `at +0x${(a - f * PAGE_SIZE).toString(16)}` : `starting at frame ${Math.floor(a / PAGE_SIZE)} +0x${(a % PAGE_SIZE).toString(16)}`;
    out.push(`a ${describeObject(ob, i)} ${at}`);
  }
  return out;
}

/** What lies at physical byte `addr`: the object covering it, or the kind of free space. */
export function describeByte(s: State, addr: number, maxMappings: number): string {
  const ob = s[OBJECTS];
  for (let i = 0; i < objCount(ob); i++) {
    const a = objFrame(ob, i) * PAGE_SIZE + objOffset(ob, i);
    if (a <= addr && addr < a + objSize(ob, i)) {
      const buf = bufferIn(s, maxMappings, a, addr);
      const where = `byte +0x${(addr - a).toString(16)} of a ${describeObject(ob, i)}`;
      return buf === null ? where : `${where}, beyond the ${buf}-byte buffer mapped there (allocation slack)`;
    }
  }
  const f = Math.floor(addr / PAGE_SIZE);
  const role = frameRole(s[FRAMES], f);
  if (role === ROLE_SLAB) return `a free slot of ${describeFrame(s, f)} (it may hold a freed object's data)`;
  if (role === ROLE_BOUNCE) {
    const owner = frameAux(s[FRAMES], f) - 1;
    if (owner >= 0) return `${(frameFlags(s[FRAMES], f) & F_STALE) !== 0 ? "bounce-slot padding holding leftover data of an earlier mapping (not zeroed), in a slot" : "a bounce slot"} owned now by mapping #${owner}`;
    return (frameFlags(s[FRAMES], f) & F_STALE) !== 0
      ? "bounce-slot padding holding leftover data of an earlier mapping (not zeroed)"
      : "a bounce frame outside any live slot";
  }
  return describeFrame(s, f);
}

/** Length of a live mapping's segment that starts at object address `a` but ends before `addr`, or null. */
function bufferIn(s: State, maxMappings: number, a: number, addr: number): number | null {
  const mp = s[MAPS];
  for (let m = 0; m < maxMappings; m++) {
    if (mStatus(mp, m) === MS_FREE) continue;
    for (let seg = 0; seg < mSegs(mp, m); seg++) {
      const start = mSegFrame(mp, m, seg) * PAGE_SIZE + mSegOffset(mp, m, seg);
      if (start === a && addr >= a + mSegLen(mp, m, seg)) return mSegLen(mp, m, seg);
    }
  }
  return null;
}

/** How a segment was translated, e.g. "an IOTLB entry" (with an article unless `article` is false). */
export function sourceName(src: number, article = true): string {
  const n = SOURCE_NAMES[src] ?? "translation";
  return article ? `${/^[aeiouIO]/.test(n) ? "an" : "a"} ${n}` : n;
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

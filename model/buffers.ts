/**
 * Driver buffers behind DMA mappings: allocated by the driver (kmalloc or
 * whole pages) just before its map call, freed by the driver when the unmap
 * has returned (or kept, for a buffer the driver recycles).
 */
import { MAPS } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { type Tx, type Words } from "./state.ts";
import {
  allocPagesObject, findSegmentObject, freeObject, KIND_PAGES, kmalloc, objCount, objFrame, objGen, objOffset, objOwner, objSize, ownerDriver,
  OWNER_USER,
} from "./objects.ts";
import { addSegment, mReleased, mSegFrame, mSegGen, mSegOffset, mSegs, setReleased, mSegLen, MS_FREE, mStatus } from "./dma-mapping.ts";
import { OBJECTS } from "./geometry.ts";
import { ROLE_IO_BUFFER, ROLE_KERNEL } from "./physical-memory.ts";

/**
 * Allocates a driver buffer for device `dev` and appends it to mapping `m`
 * as a segment: kmalloc (slab, or pages above 8 KiB) or 2^order pages.
 * Returns false when memory or the model's tables are exhausted.
 */
export function allocBuffer(tx: Tx, m: number, dev: number, pages: boolean, size: number, order: number, obs: Observation): boolean {
  const i = pages
    ? allocPagesObject(tx, order, ownerDriver(dev), ROLE_IO_BUFFER, KIND_PAGES, obs)
    : kmalloc(tx, size, ownerDriver(dev), ROLE_KERNEL, obs);
  if (i < 0) return false;
  const ob = tx.c[OBJECTS];
  const len = pages ? objSize(ob, i) : size;
  return addSegment(tx, m, objFrame(ob, i), objOffset(ob, i), len, objGen(ob, i));
}

/** Frees the buffer objects of mapping `m` that are still allocated. */
export function releaseBuffer(tx: Tx, m: number, obs: Observation): void {
  if (mReleased(tx.c[MAPS], m)) return;
  const n = mSegs(tx.c[MAPS], m);
  for (let s = 0; s < n; s++) {
    const mp = tx.c[MAPS];
    const i = findSegmentObject(tx.c[OBJECTS], mSegFrame(mp, m, s), mSegOffset(mp, m, s), mSegLen(mp, m, s), mSegGen(mp, m, s));
    if (i >= 0) freeObject(tx, i, obs);
  }
  setReleased(tx, m);
  if (obs.detail) obs.note(`driver freed the buffer of mapping #${m} (${n} segment${n > 1 ? "s" : ""}, ${totalLen(tx.c[MAPS], m)} bytes)`);
}

function totalLen(mp: Words, m: number): number {
  let t = 0;
  for (let s = 0; s < mSegs(mp, m); s++) t += mSegLen(mp, m, s);
  return t;
}

/** Whether object `i` is named by a segment of a mapping in progress or live. */
export function namedByMapping(ob: Words, mp: Words, maxMappings: number, i: number): boolean {
  for (let m = 0; m < maxMappings; m++) {
    if (mStatus(mp, m) === MS_FREE) continue;
    for (let seg = 0; seg < mSegs(mp, m); seg++) {
      if (findSegmentObject(ob, mSegFrame(mp, m, seg), mSegOffset(mp, m, seg), mSegLen(mp, m, seg), mSegGen(mp, m, seg)) === i) return true;
    }
  }
  return false;
}

/**
 * The (k mod n)-th, in object-table order, of the n buffers the kernel holds
 * (drivers' objects no mapping names: received data being consumed, as
 * consumed-data-integrity defines it), or -1 when there is none.
 */
export function nthHeldBuffer(ob: Words, mp: Words, maxMappings: number, k: number): number {
  let n = 0;
  for (let i = 0; i < objCount(ob); i++) if (objOwner(ob, i) > OWNER_USER && !namedByMapping(ob, mp, maxMappings, i)) n++;
  if (n === 0) return -1;
  let want = k % n;
  for (let i = 0; i < objCount(ob); i++) {
    if (objOwner(ob, i) > OWNER_USER && !namedByMapping(ob, mp, maxMappings, i) && want-- === 0) return i;
  }
  return -1;
}


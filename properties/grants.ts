/**
 * Grants, derived from the live DMA mappings: a buffer segment is granted to
 * its mapping's device, in its mapping's direction, from the moment the map
 * call starts until the unmap call returns, and only while the object it
 * names (frame, offset, generation) is still allocated: a grant never
 * transfers to whatever later reuses that memory.
 *
 * Grants follow the buffer that owns the bytes, not the device:
 * - a bounced segment (policies/bounce.ts) is granted in its bounce slot for
 *   as long as its mapping lives and owns the slot (the slot frames' aux =
 *   mapping + 1): the copy of the buffer, and the slot's padding while that
 *   padding holds no leftover data (F_STALE clear, i.e. zeroed since the slot
 *   was last released). Leftover bytes of an earlier mapping, and a slot
 *   another mapping has taken over, are granted to nobody;
 * - a permanent pool frame (shadow, io-pool) of device d is page-granted to d
 *   wholesale (frameGranted: it holds only d's I/O data), but byte by byte a
 *   pool buffer (a live object there) is granted only through its own live
 *   mapping, like any buffer; only the pool's free space (bytes no live
 *   object covers) is granted to d, in both directions.
 */
import { PAGE_SIZE } from "../model/config.ts";
import { FRAMES, MAPS, OBJECTS } from "../model/geometry.ts";
import { FRAME_W } from "../model/geometry.ts";
import { F_STALE, frameAux, frameRole, ROLE_IO_POOL, ROLE_SHADOW } from "../model/physical-memory.ts";
import {
  dirAllowsRead, dirAllowsWrite, MS_FREE, mDev, mDir, mSegBounce, mSegFrame, mSegGen, mSegLen, mSegOffset, mSegs, mStatus,
  segPages,
} from "../model/dma-mapping.ts";
import { findSegmentObject, objCount, objFrame, objOffset, objSize } from "../model/objects.ts";
import { type State, type Words } from "../model/state.ts";

/** Whether segment s of mapping m is an effective grant (its object is still allocated). */
export function segmentLive(s: State, m: number, seg: number): boolean {
  const mp = s[MAPS];
  return findSegmentObject(s[OBJECTS], mSegFrame(mp, m, seg), mSegOffset(mp, m, seg), mSegLen(mp, m, seg), mSegGen(mp, m, seg)) >= 0;
}

/** Physical byte range [start, end) of segment s of mapping m. */
export function segStart(mp: Words, m: number, seg: number): number {
  return mSegFrame(mp, m, seg) * PAGE_SIZE + mSegOffset(mp, m, seg);
}

/**
 * Whether frame `f` belongs to a pool device `dev` owns for good (shadow
 * buffers, a DMA-aware allocator's pool): such frames hold only that device's
 * I/O data, permanently mapped for it, so all their bytes are granted to it
 * in both directions. A pool frame given back to the page allocator stops
 * being one, and with it the grant.
 */
export function devicePoolFrame(s: State, dev: number, f: number): boolean {
  const role = frameRole(s[FRAMES], f);
  return (role === ROLE_SHADOW || role === ROLE_IO_POOL) && frameAux(s[FRAMES], f) === dev;
}

/** Does frame `f` hold any bytes effectively granted to `dev` (any direction)? */
export function frameGranted(s: State, maxMappings: number, dev: number, f: number): boolean {
  if (devicePoolFrame(s, dev, f)) return true;
  const mp = s[MAPS];
  for (let m = 0; m < maxMappings; m++) {
    if (mStatus(mp, m) === MS_FREE || mDev(mp, m) !== dev) continue;
    for (let seg = 0; seg < mSegs(mp, m); seg++) {
      const slot = mSegBounce(mp, m, seg);
      if (slot >= 0 && f >= slot && f < slot + segPages(mSegOffset(mp, m, seg), mSegLen(mp, m, seg)) && frameAux(s[FRAMES], f) === m + 1) return true;
      const start = segStart(mp, m, seg);
      const end = start + mSegLen(mp, m, seg);
      if (end <= f * PAGE_SIZE || start >= (f + 1) * PAGE_SIZE) continue;
      if (segmentLive(s, m, seg)) return true;
    }
  }
  return false;
}

/**
 * The first byte of [start, end) not granted to `dev` for this kind of access,
 * or -1 when every byte is granted.
 */
export function firstUngrantedByte(s: State, maxMappings: number, dev: number, write: boolean, start: number, end: number): number {
  const mp = s[MAPS];
  let pos = start;
  while (pos < end) {
    const f = Math.floor(pos / PAGE_SIZE);
    if (devicePoolFrame(s, dev, f)) {
      // Pool space no buffer holds is the pool device's; a pool buffer's bytes go by its mapping, below.
      const free = poolFreeEnd(s, f, pos);
      if (free > pos) {
        pos = free;
        continue;
      }
    }
    let next = -1;
    for (let m = 0; m < maxMappings && next < 0; m++) {
      if (mStatus(mp, m) === MS_FREE || mDev(mp, m) !== dev) continue;
      const dir = mDir(mp, m);
      if (write ? !dirAllowsWrite(dir) : !dirAllowsRead(dir)) continue;
      for (let seg = 0; seg < mSegs(mp, m); seg++) {
        const a = segStart(mp, m, seg);
        const b = a + mSegLen(mp, m, seg);
        if (a <= pos && pos < b && segmentLive(s, m, seg)) {
          next = b;
          break;
        }
        const slot = mSegBounce(mp, m, seg);
        if (slot < 0 || frameAux(s[FRAMES], f) !== m + 1) continue;
        const off = mSegOffset(mp, m, seg) % PAGE_SIZE;
        const len = mSegLen(mp, m, seg);
        const copy = slot * PAGE_SIZE + off;
        const slotEnd = (slot + segPages(off, len)) * PAGE_SIZE;
        if (copy <= pos && pos < copy + len) {
          next = copy + len;
          break;
        }
        if (pos >= slot * PAGE_SIZE && pos < slotEnd && (s[FRAMES][f * FRAME_W] & F_STALE) === 0) {
          next = pos < copy ? copy : Math.min((f + 1) * PAGE_SIZE, slotEnd);
          break;
        }
      }
    }
    if (next < 0) return pos;
    pos = next;
  }
  return -1;
}

/**
 * In pool frame `f`, the end of the run of bytes from `pos` that no live
 * object covers (pool space no buffer holds), or `pos` when an object covers
 * `pos`.
 */
function poolFreeEnd(s: State, f: number, pos: number): number {
  const ob = s[OBJECTS];
  let end = (f + 1) * PAGE_SIZE;
  for (let i = 0; i < objCount(ob); i++) {
    const a = objFrame(ob, i) * PAGE_SIZE + objOffset(ob, i);
    const b = a + objSize(ob, i);
    if (a <= pos && pos < b) return pos;
    if (a > pos && a < end) end = a;
  }
  return end;
}

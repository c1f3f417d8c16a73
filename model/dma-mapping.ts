/**
 * Live DMA mappings: what the driver handed to the DMA API and is therefore
 * granted to the device, from the moment its map call starts until its unmap
 * call returns (the DMA API contract, Linux Documentation/core-api/dma-api.rst).
 *
 * Record (MAP_W words):
 *   w0: status (bits 0..2) | kind (3..4) | direction (5..6) | free-after-unmap (7)
 *       | buffer already released (8) | device (16..23)
 *   w1: first IOVA page (0 until the policy assigns one; for passthrough the
 *       physical page)
 *   w2: IOVA pages the mapping covers
 *   w3: number of buffer segments
 *   then per segment: frame, offset, length in bytes, object generation, and
 *   the first frame + 1 of the swiotlb slot the segment is bounced through
 *   (0: not bounced; see policies/bounce.ts).
 * A segment is one allocated object (a kmalloc object or a page block), or a
 * byte range inside one (narrowSegment: frame + offset is then the range's
 * first byte, not the object's); the generation identifies the allocation,
 * so a grant never transfers to whatever reuses its memory.
 */
import { PAGE_SIZE } from "./config.ts";
import { type Direction, DIRECTIONS } from "./events.ts";
import { MAPS, MAP_W, SEG_MAX, SEG_W } from "./geometry.ts";
import { type Tx, type Words, zeroWords } from "./state.ts";

export const MS_FREE = 0, MS_MAPPING = 1, MS_MAPPED = 2, MS_UNMAPPING = 3;
export const STATUS_NAMES = ["free", "mapping", "mapped", "unmapping"];
export const MK_SINGLE = 0, MK_SG = 1, MK_COHERENT = 2;
export const KIND_NAMES = ["dma_map_single", "dma_map_sg", "dma_alloc_coherent"];
export const DIR_TO_DEVICE = 0, DIR_FROM_DEVICE = 1, DIR_BIDIRECTIONAL = 2;
const M_FREE_AFTER = 1 << 7;
const M_RELEASED = 1 << 8;

export function dirCode(d: Direction): number {
  return DIRECTIONS.indexOf(d);
}
/** Device may read memory (DMA_TO_DEVICE or BIDIRECTIONAL): IOMMU_READ, AMD IR. */
export function dirAllowsRead(dir: number): boolean {
  return dir !== DIR_FROM_DEVICE;
}
/** Device may write memory (DMA_FROM_DEVICE or BIDIRECTIONAL): IOMMU_WRITE, AMD IW. */
export function dirAllowsWrite(dir: number): boolean {
  return dir !== DIR_TO_DEVICE;
}

export function mStatus(mp: Words, m: number): number {
  return mp[m * MAP_W] & 7;
}
export function mKind(mp: Words, m: number): number {
  return (mp[m * MAP_W] >>> 3) & 3;
}
export function mDir(mp: Words, m: number): number {
  return (mp[m * MAP_W] >>> 5) & 3;
}
export function mFreeAfter(mp: Words, m: number): boolean {
  return (mp[m * MAP_W] & M_FREE_AFTER) !== 0;
}
export function mReleased(mp: Words, m: number): boolean {
  return (mp[m * MAP_W] & M_RELEASED) !== 0;
}
export function mDev(mp: Words, m: number): number {
  return (mp[m * MAP_W] >>> 16) & 0xff;
}
export function mIova(mp: Words, m: number): number {
  return mp[m * MAP_W + 1];
}
export function mPages(mp: Words, m: number): number {
  return mp[m * MAP_W + 2];
}
export function mSegs(mp: Words, m: number): number {
  return mp[m * MAP_W + 3];
}
export function mSegFrame(mp: Words, m: number, i: number): number {
  return mp[m * MAP_W + 4 + i * SEG_W];
}
export function mSegOffset(mp: Words, m: number, i: number): number {
  return mp[m * MAP_W + 5 + i * SEG_W];
}
export function mSegLen(mp: Words, m: number, i: number): number {
  return mp[m * MAP_W + 6 + i * SEG_W];
}
export function mSegGen(mp: Words, m: number, i: number): number {
  return mp[m * MAP_W + 7 + i * SEG_W];
}
/** First frame of the bounce slot segment i is bounced through, or -1 when it is not bounced. */
export function mSegBounce(mp: Words, m: number, i: number): number {
  return mp[m * MAP_W + 8 + i * SEG_W] - 1;
}
export function setSegBounce(tx: Tx, m: number, i: number, frame: number): void {
  tx.w(MAPS)[m * MAP_W + 8 + i * SEG_W] = frame + 1;
}
/** IOVA pages segment i occupies: its bytes rounded out to whole granules (Linux iova_align(size + iova_off)). */
export function segPages(offset: number, len: number): number {
  return Math.ceil(((offset % PAGE_SIZE) + len) / PAGE_SIZE);
}

/** Lowest free mapping slot, or -1. */
export function freeMappingSlot(tx: Tx): number {
  const mp = tx.c[MAPS];
  for (let m = 0; m < tx.g.cfg.maxMappings; m++) if ((mp[m * MAP_W] & 7) === MS_FREE) return m;
  return -1;
}

export function initMapping(tx: Tx, m: number, kind: number, dir: number, dev: number): void {
  const mp = tx.w(MAPS);
  zeroWords(mp, m * MAP_W, (m + 1) * MAP_W);
  mp[m * MAP_W] = MS_MAPPING | (kind << 3) | (dir << 5) | (dev << 16);
}

export function addSegment(tx: Tx, m: number, frame: number, offset: number, len: number, gen: number): boolean {
  const mp = tx.w(MAPS);
  const n = mp[m * MAP_W + 3];
  if (n >= SEG_MAX) return false;
  const b = m * MAP_W + 4 + n * SEG_W;
  mp[b] = frame;
  mp[b + 1] = offset;
  mp[b + 2] = len;
  mp[b + 3] = gen;
  mp[m * MAP_W + 3] = n + 1;
  mp[m * MAP_W + 2] += segPages(offset, len);
  return true;
}

/**
 * The driver maps only [off, off + len) of segment i's allocation (dma_map_page
 * of a sub-range, dma_map_single of an interior pointer): the segment keeps
 * naming its object by generation, but starts `off` bytes in and is `len`
 * long. Callers keep the range inside the allocation.
 */
export function narrowSegment(tx: Tx, m: number, i: number, off: number, len: number): void {
  const mp = tx.w(MAPS);
  const b = m * MAP_W + 4 + i * SEG_W;
  mp[m * MAP_W + 2] -= segPages(mp[b + 1], mp[b + 2]);
  mp[b + 1] += off;
  mp[b + 2] = len;
  mp[m * MAP_W + 2] += segPages(mp[b + 1], len);
}

export function setStatus(tx: Tx, m: number, status: number): void {
  const mp = tx.w(MAPS);
  mp[m * MAP_W] = (mp[m * MAP_W] & ~7) | status;
}
export function setFreeAfter(tx: Tx, m: number, v: boolean): void {
  const mp = tx.w(MAPS);
  mp[m * MAP_W] = v ? mp[m * MAP_W] | M_FREE_AFTER : mp[m * MAP_W] & ~M_FREE_AFTER;
}
export function setReleased(tx: Tx, m: number): void {
  tx.w(MAPS)[m * MAP_W] |= M_RELEASED;
}
export function setIova(tx: Tx, m: number, pfn: number): void {
  tx.w(MAPS)[m * MAP_W + 1] = pfn;
}
export function clearMapping(tx: Tx, m: number): void {
  zeroWords(tx.w(MAPS), m * MAP_W, (m + 1) * MAP_W);
}

/** Slot of the k-th (mod count) mapping whose map call has returned and that is not being unmapped, or -1. */
export function nthMapped(mp: Words, maxMappings: number, k: number): number {
  let count = 0;
  for (let m = 0; m < maxMappings; m++) if ((mp[m * MAP_W] & 7) === MS_MAPPED) count++;
  if (count === 0) return -1;
  let want = k % count;
  for (let m = 0; m < maxMappings; m++) {
    if ((mp[m * MAP_W] & 7) !== MS_MAPPED) continue;
    if (want === 0) return m;
    want--;
  }
  return -1;
}

export function dirName(dir: number): Direction {
  return DIRECTIONS[dir];
}

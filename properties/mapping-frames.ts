/**
 * Which IOVA pages a live mapping covers and which frames hold its buffer:
 * shared by dma-integrity, availability and iotlb-coherence's exemption for
 * a mapping whose call is in progress.
 */
import { PAGE_SIZE } from "../model/config.ts";
import { MAPS } from "../model/geometry.ts";
import { MS_FREE, mDev, mIova, mPages, mSegBounce, mSegFrame, mSegLen, mSegOffset, mSegs, mStatus, segPages } from "../model/dma-mapping.ts";
import { type State, type Words } from "../model/state.ts";
import { devicePoolFrame } from "./grants.ts";

/** Whether live mapping `m` has an IOVA range covering page `v` (an IOVA of 0 means none is assigned yet). */
export function coversPage(mp: Words, m: number, v: number): boolean {
  const first = mIova(mp, m);
  return mStatus(mp, m) !== MS_FREE && first !== 0 && v >= first && v < first + mPages(mp, m);
}

/**
 * Whether frame `f` holds mapping `m`'s buffer: one of its segments' frames,
 * one of its bounce slots' frames, or a frame of a pool its device owns for
 * good (shadow pages, a DMA-aware allocator's pool: the model does not record
 * which pool page holds which mapping's copy).
 */
export function mappingHoldsFrame(s: State, m: number, f: number): boolean {
  const mp = s[MAPS];
  for (let i = 0; i < mSegs(mp, m); i++) {
    const off = mSegOffset(mp, m, i);
    const n = segPages(off, mSegLen(mp, m, i));
    const first = mSegFrame(mp, m, i) + Math.floor(off / PAGE_SIZE);
    if (f >= first && f < first + n) return true;
    const slot = mSegBounce(mp, m, i);
    if (slot >= 0 && f >= slot && f < slot + n) return true;
  }
  return devicePoolFrame(s, mDev(mp, m), f);
}

/**
 * The IOVA byte range [start, end) the DMA API handed out for segment `i` of
 * mapping `m`: segments follow one another from the mapping's first IOVA page,
 * each rounded out to whole granules, the buffer at its offset in its first
 * granule (Kernel.mapSegments' layout; Linux iommu_dma_map_sg).
 */
export function segIovaRange(mp: Words, m: number, i: number, out: { start: number; end: number }): void {
  let page = mIova(mp, m);
  for (let j = 0; j < i; j++) page += segPages(mSegOffset(mp, m, j), mSegLen(mp, m, j));
  out.start = page * PAGE_SIZE + (mSegOffset(mp, m, i) % PAGE_SIZE);
  out.end = out.start + mSegLen(mp, m, i);
}

/**
 * The IOVA allocator of each domain: a bitmap over the modelled IOVA window.
 * Like Linux's alloc_iova with size_aligned (drivers/iommu/iova.c), a range
 * of n pages starts at a multiple of the next power of two of n. The model
 * takes the lowest free range (Linux searches top-down and keeps per-CPU
 * caches of recently freed ranges; both hand a just-freed range out again
 * soon, which is the behaviour isolation depends on). Pages under a table
 * an unmap is tearing down stay reserved until the table is freed
 * (underDetachedTable).
 */
import { FRAMES, IOVA } from "./geometry.ts";
import { underDetachedTable } from "./iommu-page-table.ts";
import { type Tx, type Words } from "./state.ts";

function isFree(bm: Words, base: number, i: number): boolean {
  return (bm[base + (i >>> 5)] & (1 << (i & 31))) === 0;
}

/**
 * Allocates `pages` IOVA pages for domain `dom`; returns the first page number
 * or -1. Unless `sizeAligned` is false (an IOVA the caller chooses, as a VFIO
 * user's VFIO_IOMMU_MAP_DMA does: any page boundary), the range starts at a
 * multiple of the next power of two of `pages`.
 */
export function allocIova(tx: Tx, dom: number, pages: number, sizeAligned = true): number {
  const g = tx.g;
  if (pages <= 0 || pages > g.winPages) return -1;
  let align = 1;
  while (sizeAligned && align < pages) align <<= 1;
  const bm0 = tx.c[IOVA];
  const base = dom * g.bitmapWords;
  const fr = tx.c[FRAMES];
  // First aligned absolute page number at or above the window base.
  let start = Math.ceil(g.winBase / align) * align;
  for (; start + pages <= g.winBase + g.winPages; start += align) {
    let ok = true;
    for (let p = 0; p < pages && ok; p++) ok = isFree(bm0, base, start - g.winBase + p) && !underDetachedTable(fr, g.cfg.frames, dom, start + p);
    if (!ok) continue;
    const bm = tx.w(IOVA);
    for (let p = 0; p < pages; p++) {
      const i = start - g.winBase + p;
      bm[base + (i >>> 5)] |= 1 << (i & 31);
    }
    return start;
  }
  return -1;
}

/** Returns pages [first, first+pages) of domain `dom` to the allocator. */
export function freeIova(tx: Tx, dom: number, first: number, pages: number): void {
  const g = tx.g;
  const bm = tx.w(IOVA);
  const base = dom * g.bitmapWords;
  for (let p = 0; p < pages; p++) {
    const i = first - g.winBase + p;
    if (i < 0 || i >= g.winPages) continue;
    bm[base + (i >>> 5)] &= ~(1 << (i & 31));
  }
}

/** Whether IOVA page `v` of domain `dom` is allocated. */
export function iovaAllocated(tx: { g: { winBase: number; winPages: number; bitmapWords: number } }, bm: Words, dom: number, v: number): boolean {
  const i = v - tx.g.winBase;
  if (i < 0 || i >= tx.g.winPages) return false;
  return !isFree(bm, dom * tx.g.bitmapWords, i);
}

/**
 * The IOVA allocator of each domain: a bitmap over the modelled IOVA window.
 * Like Linux's alloc_iova with size_aligned (drivers/iommu/iova.c), a range
 * of n pages starts at a multiple of the next power of two of n. The model
 * takes the lowest free range (Linux searches top-down and keeps per-CPU
 * caches of recently freed ranges; both hand a just-freed range out again
 * soon, which is the behaviour isolation depends on). When an unmap unlinks
 * a table, the other pages under it are held back until that table is freed
 * (reserveUnderTable): a second bitmap per domain, after every domain's
 * allocation bitmap.
 */
import { FRAMES, IOVA } from "./geometry.ts";
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
  const held = heldBase(g, dom);
  // First aligned absolute page number at or above the window base.
  let start = Math.ceil(g.winBase / align) * align;
  for (; start + pages <= g.winBase + g.winPages; start += align) {
    let ok = true;
    for (let p = 0; p < pages && ok; p++) ok = isFree(bm0, base, start - g.winBase + p) && isFree(bm0, held, start - g.winBase + p);
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

function heldBase(g: { cfg: { devices: number }; bitmapWords: number }, dom: number): number {
  return (g.cfg.devices + dom) * g.bitmapWords;
}

/**
 * An unmap of IOVA pages [own, own+ownPages) unlinked a table of domain `dom`
 * spanning IOVA pages [first, first+span): every other page of the window in
 * it is held back from the allocator until the table is freed
 * (releaseUnderTable), whether it is free now or still allocated to a
 * mapping another CPU is unmapping (its entries already cleared, its IOVA not
 * yet freed). Linux frees a table only when the unmapped range covers it
 * whole (VT-d dma_pte_clear_level, "If range covers entire pagetable, free
 * it"), so no page under a table being freed can be handed out before the
 * invalidation has completed; the model frees a table as soon as it is empty,
 * and holding back the other pages keeps that guarantee. The unmapping
 * range's own pages are not held: a policy that frees them before its
 * invalidation completes lets them be reused, which is its bug to show.
 */
export function reserveUnderTable(tx: Tx, dom: number, first: number, span: number, own: number, ownPages: number): void {
  const g = tx.g;
  const lo = Math.max(first, g.winBase), hi = Math.min(first + span, g.winBase + g.winPages);
  if (lo >= hi) return;
  const held = heldBase(g, dom);
  const bm0 = tx.c[IOVA];
  let bm: Words | null = null;
  for (let v = lo; v < hi; v++) {
    const i = v - g.winBase;
    if ((v >= own && v < own + ownPages) || !isFree(bm0, held, i)) continue;
    bm ??= tx.w(IOVA);
    bm[held + (i >>> 5)] |= 1 << (i & 31);
  }
}

/**
 * The table spanning [first, first+span) was freed: its held-back pages
 * return, except those `stillHeld` (frames, frame count, domain, page) says
 * another unlinked table covers. A plain function, not a closure: this runs
 * inside unmap and flush steps.
 */
export function releaseUnderTable(
  tx: Tx, dom: number, first: number, span: number, stillHeld: (fr: Words, frames: number, dom: number, v: number) => boolean,
): void {
  const g = tx.g;
  const lo = Math.max(first, g.winBase), hi = Math.min(first + span, g.winBase + g.winPages);
  const held = heldBase(g, dom);
  for (let v = lo; v < hi; v++) {
    const i = v - g.winBase;
    if (isFree(tx.c[IOVA], held, i) || stillHeld(tx.c[FRAMES], g.cfg.frames, dom, v)) continue;
    tx.w(IOVA)[held + (i >>> 5)] &= ~(1 << (i & 31));
  }
}

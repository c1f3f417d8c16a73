/**
 * The IOVA allocator of each domain: a bitmap over the modelled IOVA window,
 * after Linux's alloc_iova_fast and alloc_iova (drivers/iommu/iova.c):
 * - a request below the rcache limit (1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1) =
 *   32 pages, IOVA_RANGE_CACHE_MAX_SIZE 6) is rounded up to a power of two
 *   and the whole rounded range is allocated (alloc_iova_fast: "waste a bit
 *   of space rounding up anything cacheable"); the pages past the request
 *   are marked in a third bitmap (the rounding tail) so freeIova, which is
 *   given the request's size, frees them too (free_iova frees the node);
 * - a range of n pages starts at a multiple of the next power of two of n
 *   (alloc_iova with size_aligned);
 * - the search is top-down from the window's limit
 *   (__alloc_and_insert_iova_range takes the highest free aligned range at
 *   or below limit_pfn). Linux starts below its last allocation (cached_node)
 *   and keeps per-CPU caches of recently freed ranges; the model takes the
 *   highest free range, which likewise hands a just-freed range out again
 *   soon (the behaviour isolation depends on).
 * When an unmap unlinks a table, the other pages under it are held back
 * until that table is freed (reserveUnderTable): a second bitmap per domain,
 * after every domain's allocation bitmap. Layout of IOVA: allocation bitmaps,
 * held-back bitmaps, rounding-tail bitmaps, each one per domain.
 */
import { FRAMES, IOVA } from "./geometry.ts";
import { type Tx, type Words } from "./state.ts";

function isFree(bm: Words, base: number, i: number): boolean {
  return (bm[base + (i >>> 5)] & (1 << (i & 31))) === 0;
}

/** Linux drivers/iommu/iova.c IOVA_RANGE_CACHE_MAX_SIZE: alloc_iova_fast rounds requests below 1 << (6 - 1) pages up to a power of two. */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;
export const IOVA_RCACHE_LIMIT_PAGES = 1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1);

/** The pages a size-aligned request of `pages` takes (alloc_iova_fast's roundup_pow_of_two below the rcache limit). */
export function iovaAllocPages(pages: number): number {
  if (pages >= IOVA_RCACHE_LIMIT_PAGES) return pages;
  let n = 1;
  while (n < pages) n <<= 1;
  return n;
}

/**
 * Allocates `pages` IOVA pages for domain `dom`; returns the first page number
 * or -1. Unless `sizeAligned` is false (an IOVA the caller chooses, as a VFIO
 * user's VFIO_IOMMU_MAP_DMA does: any page boundary, exactly `pages`), the
 * request is rounded up below the rcache limit, the range starts at a
 * multiple of the next power of two of `pages`, and the highest such free
 * range in the window is taken (Linux alloc_iova_fast). A caller-chosen
 * range is the lowest free run (a VFIO user's choice; any rule would do).
 */
export function allocIova(tx: Tx, dom: number, pages: number, sizeAligned = true): number {
  const g = tx.g;
  if (pages <= 0 || pages > g.winPages) return -1;
  const take = sizeAligned ? iovaAllocPages(pages) : pages;
  if (take > g.winPages) return -1;
  let align = 1;
  while (sizeAligned && align < pages) align <<= 1;
  const bm0 = tx.c[IOVA];
  const base = dom * g.bitmapWords;
  const held = heldBase(g, dom);
  const top = g.winBase + g.winPages;
  // Top-down: the highest aligned start whose range ends at or below the window's limit (Linux
  // __alloc_and_insert_iova_range: new_pfn = (high_pfn - size) & align_mask). Caller-chosen: lowest first.
  let start = sizeAligned ? Math.floor((top - take) / align) * align : g.winBase;
  const step = sizeAligned ? -align : 1;
  for (; start >= g.winBase && start + take <= top; start += step) {
    let ok = true;
    for (let p = 0; p < take && ok; p++) ok = isFree(bm0, base, start - g.winBase + p) && isFree(bm0, held, start - g.winBase + p);
    if (!ok) continue;
    const bm = tx.w(IOVA);
    const tail = tailBase(g, dom);
    for (let p = 0; p < take; p++) {
      const i = start - g.winBase + p;
      bm[base + (i >>> 5)] |= 1 << (i & 31);
      if (p >= pages) bm[tail + (i >>> 5)] |= 1 << (i & 31);
    }
    return start;
  }
  return -1;
}

/**
 * Returns pages [first, first+pages) of domain `dom` to the allocator, with
 * the rounding tail allocIova added after them (Linux free_iova_fast frees
 * the whole rounded node).
 */
export function freeIova(tx: Tx, dom: number, first: number, pages: number): void {
  const g = tx.g;
  const bm = tx.w(IOVA);
  const base = dom * g.bitmapWords;
  const tail = tailBase(g, dom);
  for (let p = 0; p < pages; p++) {
    const i = first - g.winBase + p;
    if (i < 0 || i >= g.winPages) continue;
    bm[base + (i >>> 5)] &= ~(1 << (i & 31));
  }
  for (let i = first - g.winBase + pages; i >= 0 && i < g.winPages && !isFree(bm, tail, i); i++) {
    bm[base + (i >>> 5)] &= ~(1 << (i & 31));
    bm[tail + (i >>> 5)] &= ~(1 << (i & 31));
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

function tailBase(g: { cfg: { devices: number }; bitmapWords: number }, dom: number): number {
  return (2 * g.cfg.devices + dom) * g.bitmapWords;
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
 * range's own pages (with its rounding tail) are not held: a policy that frees them before its
 * invalidation completes lets them be reused, which is its bug to show.
 */
export function reserveUnderTable(tx: Tx, dom: number, first: number, span: number, own: number, ownPages: number): void {
  const g = tx.g;
  const lo = Math.max(first, g.winBase), hi = Math.min(first + span, g.winBase + g.winPages);
  if (lo >= hi) return;
  const held = heldBase(g, dom);
  const bm0 = tx.c[IOVA];
  // The range's own allocation includes its rounding tail (allocIova).
  const tail = tailBase(g, dom);
  let ownEnd = own + ownPages;
  while (ownEnd < g.winBase + g.winPages && ownEnd >= g.winBase && !isFree(bm0, tail, ownEnd - g.winBase)) ownEnd++;
  let bm: Words | null = null;
  for (let v = lo; v < hi; v++) {
    const i = v - g.winBase;
    if ((v >= own && v < ownEnd) || !isFree(bm0, held, i)) continue;
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

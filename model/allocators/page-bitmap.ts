/**
 * A first-fit bitmap over the pages of a fixed pool, kept in policy words
 * (Kernel.pol): the slot allocator of shadow buffers and of the swiotlb
 * bounce pool (Linux swiotlb_search_pool_area also scans first fit). One bit
 * per page, 32 pages a word, from word `base`.
 */
import { type Kernel } from "../kernel.ts";

/** Policy words a bitmap of `pages` pages takes. */
export function bitmapWords(pages: number): number {
  return Math.ceil(pages / 32);
}

/**
 * Pages of a boot-time pool: a power of two, at most `max`, at most a quarter
 * of the IOVA window (small scopes keep memory for everything else), and one
 * buddy block.
 */
export function poolPages(k: Kernel, max: number): number {
  let n = max;
  while (n > 1 && (n > k.windowPages / 4 || n > 1 << k.maxOrder)) n >>= 1;
  return n;
}

function used(k: Kernel, base: number, page: number): boolean {
  return (k.pol(base + (page >>> 5)) & (1 << (page & 31))) !== 0;
}

/** Marks pages [first, first + count) in use or free. */
export function markPages(k: Kernel, base: number, first: number, count: number, inUse: boolean): void {
  for (let p = first; p < first + count; p++) {
    const w = base + (p >>> 5);
    const bit = 1 << (p & 31);
    k.setPol(w, inUse ? k.pol(w) | bit : k.pol(w) & ~bit);
  }
}

/** First page of the lowest run of `want` free pages among `pages`, or -1. */
export function findFreePages(k: Kernel, base: number, pages: number, want: number): number {
  for (let first = 0; first + want <= pages; first++) {
    let free = true;
    for (let p = first; p < first + want && free; p++) free = !used(k, base, p);
    if (free) return first;
  }
  return -1;
}

/** First page in use among `pages`, or -1 (no-leak asks at quiescent states: every slot must be back). */
export function firstUsedPage(k: Kernel, base: number, pages: number): number {
  for (let p = 0; p < pages; p++) if (used(k, base, p)) return p;
  return -1;
}

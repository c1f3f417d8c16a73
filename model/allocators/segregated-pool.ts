/**
 * Segregated I/O pools: memory with a role (Markuze, "The Case for Memory
 * Segregation", LPC 2021; DAMN, ASPLOS'18; MAIO). Each device has a pool of
 * compound pages taken from the page allocator, mapped once and for good in
 * the device's IOMMU domain, that holds nothing but that device's I/O
 * buffers. Kernel objects are never placed there: the pool's frames are not
 * free in the buddy allocator, and the slab allocator only takes free frames.
 *
 * - Role metadata lives in each page's own frame record ("extra metadata in
 *   the tail pages of compound pages"): role io-pool, the owning device (aux),
 *   and the page's permanent IOVA (role data bits 0..12: its page in the
 *   IOVA window + 1, 0 until the page is mapped), so that dma_map of
 *   a pool buffer is a lookup, not a page-table update.
 * - Buffers up to one page are carved by page_frag (Linux mm/page_frag_cache.c
 *   page_frag_alloc: downward from the end of the current page; when a
 *   buffer does not fit below the lowest one still live there, another free
 *   pool page is taken). Linux keeps the carving offset in the cache and
 *   rewinds it only once the page is used up and every fragment is back; the
 *   model derives it from the fragments still live (just below the lowest),
 *   which places buffers the same way while they are all live and keeps the
 *   state free of history (docs/exhaustive.md). Larger buffers, up to a
 *   compound page, take a whole free compound page.
 * - Every 4 KiB page has its own reference count (role data bits 13..31: "the
 *   individual page ref_count is used by get/put_page rather than the head
 *   page's"). A put that drops a page's count to zero returns the page to the
 *   pool, still mapped: it never goes back to the page allocator.
 *
 * Pool state per device, in policy words from `base + dev * POOL_WORDS`: the
 * current page_frag page + 1 (0: none), and the number of compound pages in
 * the pool.
 *
 * Invariant (tested): a frame of a pool never holds a kernel object.
 */
import { PAGE_SIZE } from "../config.ts";
import { FRAMES, FRAME_W } from "../geometry.ts";
import { type Kernel } from "../kernel.ts";
import { OBJECTS } from "../geometry.ts";
import {
  allocPoolObject, findObjectAt, freeObject, KIND_POOL, objCount, objFrame, objKind, objOffset, ownerDriver,
} from "../objects.ts";
import { F_HEAD, freeFrames, frameAux, frameData, frameRole, ROLE_IO_POOL, setFrameData } from "../physical-memory.ts";

export const POOL_WORDS = 2;
const CUR = 0, PAGES = 1;

/** Names of the pool words of `devices` devices (Policy.stateWordNames), from the pools' base word. */
export function poolWordNames(devices: number): string[] {
  return Array.from({ length: devices }, (_, d) => [`dev${d} pool current page_frag frame + 1`, `dev${d} pool compound pages`]).flat();
}

const IOVA_BITS = 13; // window pages + 1: the window is at most 4096 pages (model/config.ts)
const IOVA_MASK = (1 << IOVA_BITS) - 1;

export interface PoolLayout {
  /** First policy word of the pools' state. */
  readonly base: number;
  /** Order of a compound page (2^order pages). */
  readonly order: number;
  /** Compound pages a device's pool may grow to. */
  readonly maxCompound: number;
  /**
   * Whether a compound page joining the pool is zeroed (__GFP_ZERO). Its
   * frames come from the page allocator with their previous owner's data, and
   * the whole page is mapped for the device at once: without zeroing, the
   * device reads those leftovers (leftover-data). Absent: zeroed.
   */
  readonly zero?: boolean;
}

/** Whether frame `f` belongs to device `dev`'s pool. */
export function poolFrame(k: Kernel, dev: number, f: number): boolean {
  const fr = k.tx.c[FRAMES];
  return frameRole(fr, f) === ROLE_IO_POOL && frameAux(fr, f) === dev;
}

/** The permanent IOVA page of pool frame `f` (from its own frame record), or -1 when it is not mapped. */
export function poolIova(k: Kernel, f: number): number {
  const v = frameData(k.tx.c[FRAMES], f) & IOVA_MASK;
  return v === 0 ? -1 : k.tx.g.winBase + v - 1;
}

/** References held on pool frame `f`. */
export function poolRefs(k: Kernel, f: number): number {
  return frameData(k.tx.c[FRAMES], f) >>> IOVA_BITS;
}

function setRefs(k: Kernel, f: number, refs: number): void {
  const fr = k.tx.w(FRAMES);
  setFrameData(fr, f, (frameData(fr, f) & IOVA_MASK) | (refs << IOVA_BITS));
}

function word(L: PoolLayout, dev: number, w: number): number {
  return L.base + dev * POOL_WORDS + w;
}

/**
 * Grows `dev`'s pool by one compound page: frames from the page allocator,
 * an IOVA range, every page mapped read-write for the device for good (new
 * entries need no invalidation). Returns the head frame or -1.
 */
function grow(k: Kernel, L: PoolLayout, dev: number): number {
  if (k.pol(word(L, dev, PAGES)) >= L.maxCompound) return -1;
  const n = 1 << L.order;
  const iova = k.allocIova(dev, n);
  if (iova < 0) return -1;
  const f = k.allocPoolFrames(dev, L.order, ROLE_IO_POOL, L.zero !== false);
  if (f < 0) {
    k.freeIova(dev, iova, n);
    return -1;
  }
  for (let i = 0; i < n; i++) {
    if (k.mapPage(dev, iova + i, f + i, true, true)) setFrameData(k.tx.w(FRAMES), f + i, iova + i - k.tx.g.winBase + 1);
    else {
      // Out of page-table memory: the partly mapped compound page stays in the
      // pool (mapped pages are only ever its own), but this growth fails.
      k.setPol(word(L, dev, PAGES), k.pol(word(L, dev, PAGES)) + 1);
      return -1;
    }
  }
  k.setPol(word(L, dev, PAGES), k.pol(word(L, dev, PAGES)) + 1);
  k.note(`I/O pool of dev${dev}: compound page ${f}..${f + n - 1} mapped for good at IOVA pages 0x${iova.toString(16)}+${n}`);
  return f;
}

/** Grows `dev`'s pool by one compound page now (a pool set up ahead of its first buffer: MAIO's registered memory); the head frame or -1. */
export function poolGrow(k: Kernel, L: PoolLayout, dev: number): number {
  return grow(k, L, dev);
}

/** Lowest free page (no references, not page_frag's current page) of `dev`'s pool, or -1. */
function freePage(k: Kernel, L: PoolLayout, dev: number): number {
  const cur = k.pol(word(L, dev, CUR)) - 1;
  for (let f = 0; f < k.tx.g.cfg.frames; f++) {
    if (f !== cur && poolFrame(k, dev, f) && poolRefs(k, f) === 0 && mapped(k, f)) return f;
  }
  return -1;
}

/** A pool page whose permanent mapping was built (grow can stop half way when out of table memory). */
function mapped(k: Kernel, f: number): boolean {
  return poolIova(k, f) >= 0;
}

/** Head of a compound page of `dev`'s pool all of whose pages are free, or -1. */
function freeCompound(k: Kernel, L: PoolLayout, dev: number): number {
  const fr = k.tx.c[FRAMES];
  const n = 1 << L.order;
  const cur = k.pol(word(L, dev, CUR)) - 1;
  for (let f = 0; f + n <= k.tx.g.cfg.frames; f += n) {
    if (!poolFrame(k, dev, f) || (fr[f * FRAME_W] & F_HEAD) === 0) continue;
    let free = true;
    for (let i = 0; i < n && free; i++) free = f + i !== cur && poolRefs(k, f + i) === 0 && mapped(k, f + i);
    if (free) return f;
  }
  return -1;
}

/**
 * Allocates `bytes` from `dev`'s pool, recorded as an object of `dev`'s
 * driver. With `whole`, even a buffer of a page or less takes a whole free
 * compound page rather than a page_frag fragment (Linux page_pool_alloc_pages
 * beside page_pool_alloc_frag). Returns the physical byte address of the buffer, or -1 (larger than
 * a compound page, no memory, IOVA or room to grow, or the model's object
 * table is full).
 */
export function poolAlloc(k: Kernel, L: PoolLayout, dev: number, bytes: number, whole = false): number {
  const n = 1 << L.order;
  if (bytes <= 0 || bytes > n * PAGE_SIZE) return -1;
  if (bytes > PAGE_SIZE || whole) {
    let f = freeCompound(k, L, dev);
    if (f < 0) f = grow(k, L, dev);
    if (f < 0) return -1;
    if (!record(k, dev, f * PAGE_SIZE, bytes)) return -1;
    const pages = Math.ceil(bytes / PAGE_SIZE);
    for (let i = 0; i < pages; i++) setRefs(k, f + i, 1);
    return f * PAGE_SIZE;
  }
  // page_frag_alloc: carve downward, below the lowest fragment still live in the current page.
  let cur = k.pol(word(L, dev, CUR)) - 1;
  let offset = cur < 0 ? -1 : lowestLive(k, cur) - bytes;
  if (offset < 0) {
    let f = freePage(k, L, dev);
    if (f < 0) f = grow(k, L, dev);
    if (f < 0) return -1;
    cur = f;
    offset = PAGE_SIZE - bytes;
    k.setPol(word(L, dev, CUR), cur + 1);
  }
  if (!record(k, dev, cur * PAGE_SIZE + offset, bytes)) return -1;
  setRefs(k, cur, poolRefs(k, cur) + 1);
  return cur * PAGE_SIZE + offset;
}

/** Records the buffer as an object of `dev`'s driver (what grants and traces name); false when the object table is full. */
function record(k: Kernel, dev: number, addr: number, bytes: number): boolean {
  return allocPoolObject(k.tx, Math.floor(addr / PAGE_SIZE), addr % PAGE_SIZE, bytes, ownerDriver(dev), k.obs) >= 0;
}

/** Offset of the lowest live pool buffer in frame `f`, or PAGE_SIZE when none is. */
function lowestLive(k: Kernel, f: number): number {
  const ob = k.tx.c[OBJECTS];
  let low = PAGE_SIZE;
  for (let i = 0; i < objCount(ob); i++) if (objFrame(ob, i) === f && objKind(ob, i) === KIND_POOL) low = Math.min(low, objOffset(ob, i));
  return low;
}

/** What a put does with a page whose last reference it drops. */
export type PutRule = "keep-in-pool" | "free-to-buddy";

/**
 * Frees the buffer of `bytes` at physical address `addr` and drops the
 * references it holds (put_page on each page it covers). A page left without references stays
 * in the pool, mapped, ready for the next buffer; with "free-to-buddy" (the
 * broken damn) a compound page with no references left goes back to the page
 * allocator while the IOMMU still maps it.
 */
export function poolPut(k: Kernel, L: PoolLayout, dev: number, addr: number, bytes: number, rule: PutRule): void {
  const first = Math.floor(addr / PAGE_SIZE);
  const last = Math.floor((addr + bytes - 1) / PAGE_SIZE);
  const i = findObjectAt(k.tx.c[OBJECTS], first, addr % PAGE_SIZE);
  if (i >= 0 && objKind(k.tx.c[OBJECTS], i) === KIND_POOL) freeObject(k.tx, i, k.obs);
  for (let f = first; f <= last; f++) if (poolRefs(k, f) > 0) setRefs(k, f, poolRefs(k, f) - 1);
  if (rule !== "free-to-buddy") return;
  const cur = k.pol(word(L, dev, CUR)) - 1;
  const n = 1 << L.order;
  const head = first - (first % n);
  for (let i = 0; i < n; i++) if (poolRefs(k, head + i) > 0) return;
  if (cur >= head && cur < head + n) {
    k.setPol(word(L, dev, CUR), 0);
  }
  k.setPol(word(L, dev, PAGES), k.pol(word(L, dev, PAGES)) - 1);
  k.note(`BROKEN: I/O pool page ${head}..${head + n - 1} of dev${dev} returned to the page allocator, still mapped for the device`);
  freeFrames(k.tx, head, L.order, k.obs);
}

/**
 * BROKEN (maio-tail-freed-while-mapped): pool page `f`, a tail page of its
 * compound page whose last reference was just put, goes back to the page
 * allocator as an order-0 page (put_page on a tail treated as on a page of
 * its own) while the compound page's head stays in the pool, mapped for the
 * device and the user. page_frag forgets it if it was carving from it.
 */
export function poolFreeTail(k: Kernel, L: PoolLayout, dev: number, f: number): void {
  if (poolCurrent(k, L, dev) === f) k.setPol(word(L, dev, CUR), 0);
  k.note(`BROKEN: tail page ${f} of dev${dev}'s I/O pool returned to the page allocator, still mapped for the device and the user`);
  freeFrames(k.tx, f, 0, k.obs);
}

/** The page page_frag currently carves from in `dev`'s pool, or -1. */
export function poolCurrent(k: Kernel, L: PoolLayout, dev: number): number {
  return k.pol(word(L, dev, CUR)) - 1;
}

/** Pages of `dev`'s pool that are mapped, hold no reference and are not page_frag's current page (free for the next buffer). */
export function poolFreePages(k: Kernel, L: PoolLayout, dev: number): number {
  const cur = poolCurrent(k, L, dev);
  let n = 0;
  for (let f = 0; f < k.tx.g.cfg.frames; f++) if (f !== cur && poolFrame(k, dev, f) && poolRefs(k, f) === 0 && mapped(k, f)) n++;
  return n;
}

/**
 * Page `f` (a whole compound page when order 0) leaves `dev`'s pool for good:
 * its permanent IOVA is forgotten (the caller unmaps it next, or queues its
 * unmap) and the pool may grow again. The frames keep role io-pool until the
 * last put frees them (poolRelease).
 */
export function poolForget(k: Kernel, L: PoolLayout, dev: number, f: number): void {
  const fr = k.tx.w(FRAMES);
  setFrameData(fr, f, frameData(fr, f) & ~IOVA_MASK);
  if (poolCurrent(k, L, dev) === f) k.setPol(word(L, dev, CUR), 0);
  k.setPol(word(L, dev, PAGES), k.pol(word(L, dev, PAGES)) - 1);
}

/**
 * A user process takes pool page `f` of `dev` (MAIO: get_page for a page
 * granted to it): one more reference, so the pool does not hand the page to
 * the device while the process holds it, and page_frag stops carving from it.
 */
export function poolTake(k: Kernel, L: PoolLayout, dev: number, f: number): void {
  if (poolCurrent(k, L, dev) === f) k.setPol(word(L, dev, CUR), 0);
  setRefs(k, f, poolRefs(k, f) + 1);
}

/** Drops the reference a user process held on pool page `f` (put_page): the page is back in the pool when none is left. */
export function poolDrop(k: Kernel, f: number): void {
  if (poolRefs(k, f) > 0) setRefs(k, f, poolRefs(k, f) - 1);
}

/** Head frame of `dev`'s first compound page, or -1 (MAIO's pool has one). */
export function poolHead(k: Kernel, dev: number): number {
  const fr = k.tx.c[FRAMES];
  for (let f = 0; f < k.tx.g.cfg.frames; f++) if (poolFrame(k, dev, f) && (fr[f * FRAME_W] & F_HEAD) !== 0) return f;
  return -1;
}

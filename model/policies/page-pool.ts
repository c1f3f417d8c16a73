/**
 * page-pool@<iommu>: Linux's network page_pool (net/core/page_pool.c) with
 * PP_FLAG_DMA_MAP, over an IOMMU policy underneath (strict, lazy, bounce).
 *
 * - Each device (one rx queue) has a pool of order-0 pages. A page is
 *   DMA-mapped once, when it enters the pool (page_pool_dma_map), and stays
 *   mapped while it recycles: the driver's receive buffers come from the pool
 *   already mapped, so dma_map of one is a lookup of its page's IOVA and
 *   "unmap" only hands the buffer to the stack (Linux: dma_sync_single_for_cpu,
 *   no unmap). The pool reuses the segregated-pool allocator
 *   (model/allocators/segregated-pool.ts) with order-0 pages.
 * - A received buffer up to a page is a fragment (page_pool_alloc_frag:
 *   several fragments share one page, each holding a reference); a
 *   page-sized driver buffer (`pages`) takes a whole page
 *   (page_pool_alloc_pages).
 * - When the stack frees a buffer (unmap +free: the skb is freed,
 *   page_pool_put_page) and its page is left without references, the page is
 *   recycled: it stays in the pool, mapped. If the pool already keeps
 *   POOL_RING free pages (the ptr_ring is full), the page leaves the pool for
 *   good (page_pool_return_page): it is unmapped through the IOMMU policy
 *   underneath (strict: clear, invalidate, wait; lazy: flush queue) and then
 *   given back to the page allocator.
 * - Buffers that are not receive buffers (to-device, bidirectional) and
 *   buffers larger than a page are ordinary buffers mapped by the policy
 *   underneath.
 *
 * Pages enter the pool as the page allocator hands them out (page_pool
 * allocates without __GFP_ZERO) and are mapped for reading and writing, as
 * drivers with an XDP program map them (DMA_BIDIRECTIONAL, for XDP_TX).
 *
 * Everything lives in the state: the pool's words follow the underlying
 * policy's words; each page's IOVA and references are in its frame record.
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { type ModelConfig, PAGE_SIZE } from "../config.ts";
import { MAPS } from "../geometry.ts";
import { mFreeAfter } from "../dma-mapping.ts";
import {
  type PoolLayout, POOL_WORDS, poolWordNames, poolAlloc, poolCurrent, poolForget, poolFrame, poolFreePages, poolIova, poolPut, poolRefs,
} from "../allocators/segregated-pool.ts";
import { strict } from "./strict.ts";
import { lazy } from "./lazy.ts";
import { bounce } from "./bounce.ts";
import { damn } from "./damn.ts";

/** Pages a device's pool may grow to: Linux sizes it by the rx ring (pool_size); scaled to half the scope's IOVA window, at most 4. */
const MAX_POOL_PAGES = 4;
/**
 * Free pages the pool keeps for recycling before an emptied page leaves it
 * (Linux: the pool's ptr_ring of pool_size entries; page_pool_recycle_in_ring
 * fails when it is full and page_pool_return_page unmaps the page). Scaled to
 * the model's few frames.
 */
export const POOL_RING = 1;

/** How a variant treats a page leaving the pool: unmap it first (correct), or give it back still mapped (broken). */
export type ReleaseRule = "unmap-then-free" | "free-mapped";

/**
 * When an XDP_TX'd pool buffer goes back to the pool: at the transmit
 * completion, the tx mapping's unmap +free (correct: Linux mlx5e_free_xdpsq_desc
 * returns the page to its pool from the tx completion queue), or as soon as
 * it is queued for transmit, while the NIC still reads it (broken).
 */
export type XdpTxRule = "at-completion" | "at-submit";

function words(under: Policy, cfg: ModelConfig): number {
  return typeof under.stateWords === "function" ? under.stateWords(cfg) : under.stateWords ?? 0;
}

function layout(k: Kernel, under: Policy): PoolLayout {
  const pages = Math.max(1, Math.min(MAX_POOL_PAGES, Math.floor(k.windowPages / 2)));
  return { base: words(under, k.tx.g.cfg), order: 0, maxCompound: pages, zero: false };
}

/** Whether mapping `m` is a pool buffer: one segment inside one page of its device's pool, mapped. */
function poolMapping(k: Kernel, m: number): boolean {
  if (k.segments(m) !== 1 || k.segPages(m, 0) !== 1) return false;
  const f = k.segFirstFrame(m, 0);
  return poolFrame(k, k.dev(m), f) && poolIova(k, f) >= 0;
}

/**
 * Whether the unmap of pool mapping `m` ends with its page leaving the pool:
 * the stack frees the buffer, it holds the page's last reference, the page
 * is not page_frag's current page, and the pool already keeps POOL_RING free pages.
 */
function leaves(k: Kernel, L: PoolLayout, m: number): boolean {
  const f = k.segFirstFrame(m, 0);
  const dev = k.dev(m);
  return mFreeAfter(k.tx.c[MAPS], m) && poolRefs(k, f) === 1 && poolCurrent(k, L, dev) !== f && poolFreePages(k, L, dev) >= POOL_RING;
}

/** page_pool over the IOMMU policy `under`; `release` says how a page leaves the pool. */
export function makePagePool(name: string, summary: string, under: Policy, release: ReleaseRule = "unmap-then-free", xdpTx: XdpTxRule = "at-completion"): Policy {
  return {
    name,
    summary,
    // Not byte-confinement nor consumed-data-integrity: a pool page stays mapped while the stack reads a buffer in it (docs/policies/page-pool.md).
    claims: under.claims.filter((p) => p !== "byte-confinement" && p !== "dma-integrity" && p !== "leftover-data"),
    stateWords: (cfg) => words(under, cfg) + POOL_WORDS * cfg.devices, // one pool per device
    perDeviceState: true, // a page_pool per device (rx queue): the race scope gives it two devices
    stateWordNames: (cfg) => {
      const own = under.stateWordNames?.(cfg) ?? [];
      return [...Array.from({ length: words(under, cfg) }, (_, i) => own[i] ?? `${under.name} word ${i}`), ...poolWordNames(cfg.devices)];
    },
    staleBound: under.staleBound,
    ...(under.held === undefined ? {} : { held: under.held }),
    ...(under.timer === undefined ? {} : { timer: under.timer }),
    ...(under.fqTimer === undefined ? {} : { fqTimer: under.fqTimer }),
    ...(under.boot === undefined ? {} : { boot: under.boot }),
    attach: under.attach,
    events: ["xdp-tx"], // a received page retransmitted (random engine)
    allocBuffer(k: Kernel, m: number, bytes: number, pages: boolean): boolean {
      // Only receive buffers come from the pool (drivers use it for their rx rings).
      if (bytes > PAGE_SIZE || k.deviceReads(m) || !k.deviceWrites(m)) return k.allocDriverBuffer(m, bytes, pages);
      const L = layout(k, under);
      const addr = poolAlloc(k, L, k.dev(m), bytes, pages);
      if (addr < 0) return false;
      if (k.addPoolBuffer(m, addr, bytes)) return true;
      poolPut(k, L, k.dev(m), addr, bytes, "keep-in-pool");
      return false;
    },
    freeBuffer(k: Kernel, m: number): void {
      const L = layout(k, under);
      const dev = k.dev(m);
      for (let i = 0; i < k.segments(m); i++) {
        const f = k.segFrame(m, i);
        if (!k.segLive(m, i) || !poolFrame(k, dev, f)) continue;
        const [addr, size] = k.segObject(m, i);
        poolPut(k, L, dev, addr, size, "keep-in-pool"); // page_pool_put_page: recycled, still mapped
        // A page that left the pool goes back to the page allocator with its last reference.
        if (poolIova(k, f) < 0 && poolRefs(k, f) === 0) k.freePoolFrames(f, 0);
      }
      k.releaseBuffer(m);
    },
    map(k: Kernel, m: number, phase: number): number {
      if (phase === 0 && poolMapping(k, m)) {
        // A pool buffer: an rx buffer, or (to-device: only an xdp-tx makes one) a received page retransmitted
        // (XDP_TX). Either way the page is mapped DMA_BIDIRECTIONAL already: a lookup, no map work.
        const f = k.segFirstFrame(m, 0);
        k.setIova(m, poolIova(k, f));
        if (xdpTx === "at-submit" && !k.deviceWrites(m)) {
          const [addr, size] = k.segObject(m, 0);
          if (addr >= 0) poolPut(k, layout(k, under), k.dev(m), addr, size, "keep-in-pool");
          k.note(`BROKEN: XDP_TX buffer in page ${f} back in the pool of dev${k.dev(m)} while the NIC still transmits it`);
        }
        return DONE;
      }
      return under.map(k, m, phase);
    },
    unmap(k: Kernel, m: number, phase: number): number {
      if (phase === 0 && poolMapping(k, m)) {
        const L = layout(k, under);
        if (!leaves(k, L, m)) return DONE; // handed to the stack, or recycled: no DMA API work
        // Out of the pool at once (never handed out again), so a retried phase 0 goes straight to the policy underneath.
        poolForget(k, L, k.dev(m), k.segFirstFrame(m, 0));
        if (release === "free-mapped") {
          k.note(`BROKEN: pool page ${k.segFirstFrame(m, 0)} leaves the pool of dev${k.dev(m)} without being unmapped`);
          return DONE;
        }
        k.note(`page_pool: the ring of dev${k.dev(m)} is full, page ${k.segFirstFrame(m, 0)} leaves the pool (page_pool_return_page)`);
      }
      // A leaving page's IOVA range is the mapping's own (one page): the policy underneath unmaps it.
      return under.unmap(k, m, phase);
    },
  };
}

export const pagePoolStrict = makePagePool("page-pool@strict", "page_pool: rx pages stay mapped while they recycle; strict underneath", strict);
export const pagePoolLazy = makePagePool("page-pool@lazy", "page_pool: rx pages stay mapped while they recycle; lazy underneath", lazy);
export const pagePoolBounce = makePagePool("page-pool@bounce", "page_pool: rx pages stay mapped while they recycle; bounce underneath", bounce);

/**
 * page_pool over DAMN's segregated allocator. The page provider underneath
 * page_pool is DAMN (model/policies/damn.ts) rather than the page allocator:
 * - page_pool_alloc_pages / page_pool_alloc_frag take pages from DAMN's
 *   per-device pool, which are already mapped for good, so PP_FLAG_DMA_MAP's
 *   page_pool_dma_map is DAMN's lookup of the page's permanent IOVA (nothing
 *   written);
 * - page_pool_return_page (the ptr_ring is full) hands the page back to
 *   DAMN's pool with put_page: DAMN never unmaps, so the page stays mapped
 *   for the same device and never reaches the page allocator;
 * - DAMN zeroes a compound page as it joins its pool, so page_pool's pages
 *   (allocated without __GFP_ZERO) come zeroed.
 * A free page in page_pool's ring and a free page in DAMN's pool are both
 * mapped read-write for the same device only and hold only its I/O data:
 * no property, counter or device access tells them apart, so the model keeps
 * one free set (DAMN's) and the policy's steps are DAMN's. That is the
 * finding: over DAMN, page_pool's "mapped while recycling" is what DAMN
 * already does for every buffer (docs/policies/page-pool.md).
 */
export const pagePoolDamn: Policy = {
  ...damn,
  events: ["xdp-tx"],
  name: "page-pool@damn",
  summary: "page_pool over DAMN's allocator: pages come from DAMN's pool, mapped for good, and go back to it mapped",
};

/** Broken: a page leaving the pool for good goes back to the page allocator without page_pool_return_page's unmap. */
export const pagePoolReleaseMapped = makePagePool(
  "page-pool-release-mapped",
  "BROKEN page_pool: a page leaving the pool is freed while still mapped",
  strict,
  "free-mapped",
);

/** Broken: an XDP_TX'd page goes back to the pool when it is queued for transmit, not at the transmit completion. */
export const pagePoolXdpRecycleEarly = makePagePool(
  "page-pool-xdp-recycle-early",
  "BROKEN page_pool: an XDP_TX page is recycled while the NIC still transmits it",
  strict,
  "unmap-then-free",
  "at-submit",
);

/** The page_pool policies (model/policies/index.ts NET_POLICIES): selectable by name, not in the default run. */
export const PAGE_POOL_POLICIES: readonly Policy[] = [pagePoolStrict, pagePoolLazy, pagePoolBounce, pagePoolDamn];

/** Broken page_pool variants: selectable by name, not in the default run. */
export const PAGE_POOL_BROKEN_POLICIES: readonly Policy[] = [pagePoolReleaseMapped, pagePoolXdpRecycleEarly];

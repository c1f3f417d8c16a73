/**
 * maio: MAIO, "a Memory Allocator for I/O which facilitates overhead-free
 * zero-copy networking for user-space applications" (the memory-segregation
 * seed; Markuze, "The Case for Memory Segregation", LPC 2021; "Rethinking
 * Zero Copy Networking with MAIO", netdev 0x15, github.com/Markuze/maio;
 * docs/reference/morsels.md#memory-segregation). I/O-only pages shared by
 * the user process, the kernel and the NIC:
 *
 * - The pool is built on compound pages (MAIO: 2 MiB huge pages the process
 *   registers, init_hp_memory), scaled to the model: one compound page of
 *   2^order pages, the largest that fits the process's user pages, half the
 *   IOVA window and the buddy allocator. It is set up at boot, zeroed (the
 *   process's memory comes from the fault path, which clears it), and
 *   mapped twice for good: into the process at user pages 0..2^order-1
 *   (the MMU side; every frame gets F_USER_SHARED, the grant user-confinement
 *   reads) and into the NIC's (device 0's) IOMMU domain, read-write, as
 *   page_pool maps its pages with PP_FLAG_DMA_MAP (Linux
 *   include/net/page_pool/types.h) and DAMN its pool (model/policies/damn.ts).
 * - The NIC's buffers up to a compound page come from the pool: fragments
 *   carved from a page as page_frag does (Linux net/core/page_pool.c
 *   page_pool_alloc_frag, mm/page_frag_cache.c), larger ones a whole free
 *   compound page (model/allocators/segregated-pool.ts). dma_map is a lookup
 *   of the page's permanent IOVA, dma_unmap nothing: on receive the page
 *   passes to the process without a copy (it reads it through its own
 *   mapping), on send the process wrote the data in place.
 * - Every 4 KiB tail page has its own reference count ("the individual page
 *   ref_count is used by get/put_page rather than the head page's"); reclaim
 *   is put_page, per page: a page whose last reference goes stays in the
 *   pool, mapped in both, for the next buffer. It never goes back to the
 *   page allocator.
 * - Other buffers (other devices, larger than a compound page), and every
 *   buffer of a process without user pages (no MAIO memory registered), are
 *   ordinary buffers mapped and unmapped as strict does.
 *
 * The process's zero-copy accesses are the existing user-touch events on
 * user pages 0..2^order-1; no event is added. The broken variant
 * `maio-tail-freed-while-mapped` gives a tail page whose last reference is
 * put back to the page allocator as a page of its own while the head, and
 * with it the whole compound page, is still mapped for the process and the
 * NIC.
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { PAGE_SIZE } from "../config.ts";
import { FRAMES, FRAME_W } from "../geometry.ts";
import { F_USER_SHARED } from "../physical-memory.ts";
import { mapUserFrame } from "../mmu.ts";
import {
  type PoolLayout, POOL_WORDS, poolAlloc, poolFrame, poolFreeTail, poolGrow, poolIova, poolPut, poolRefs, poolWordNames,
} from "../allocators/segregated-pool.ts";
import { mapWithIova, strict } from "./strict.ts";
import { poolMapped } from "./damn.ts";

/** The NIC whose receive queue the process registered its MAIO memory with. */
export const MAIO_DEV = 0;

/** How put_page treats a tail page left without references: keep it in the pool (MAIO), or free it to the page allocator (broken). */
export type TailRule = "keep-in-pool" | "free-tail";

/** MAIO's pool: one compound page, sized to the process's user pages and half the IOVA window; null when the process has no user pages. */
export function maioLayout(k: Kernel): PoolLayout | null {
  const limit = Math.min(k.tx.g.cfg.userPages, Math.floor(k.windowPages / 2), 1 << k.maxOrder);
  if (limit < 1) return null;
  let order = 0;
  while (2 << order <= limit) order++;
  return { base: 0, order, maxCompound: 1, zero: true };
}

/** MAIO with the given put_page rule for tail pages. */
export function makeMaio(name: string, summary: string, tail: TailRule): Policy {
  return {
    name,
    summary,
    // Not byte-confinement nor dma-integrity (fragments share a page, a buffer handed over stays mapped), as damn;
    // not leftover-data: a recycled page keeps what the process wrote in it (docs/policies/maio.md).
    claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "stale-window", "no-leak", "availability", "user-confinement"],
    stateWords: POOL_WORDS, // device 0's pool only
    stateWordNames: () => poolWordNames(1),
    attach: () => "translate",
    boot(k: Kernel): void {
      const L = maioLayout(k);
      if (L === null) return;
      const head = poolGrow(k, L, MAIO_DEV); // mapped for the NIC for good
      if (head < 0) return;
      const fr = k.tx.w(FRAMES);
      for (let i = 0; i < 1 << L.order; i++) {
        fr[(head + i) * FRAME_W] |= F_USER_SHARED;
        mapUserFrame(k.tx, i, head + i, k.obs); // and into the process, at user page i
      }
      k.note(`MAIO: compound page ${head}..${head + (1 << L.order) - 1} shared by the process (user pages 0..${(1 << L.order) - 1}) and dev${MAIO_DEV}`);
    },
    allocBuffer(k: Kernel, m: number, bytes: number, pages: boolean): boolean {
      const L = maioLayout(k);
      if (L === null || k.dev(m) !== MAIO_DEV || bytes > PAGE_SIZE << L.order) return k.allocDriverBuffer(m, bytes, pages);
      const addr = poolAlloc(k, L, MAIO_DEV, bytes);
      if (addr < 0) return false;
      if (k.addPoolBuffer(m, addr, bytes)) return true;
      poolPut(k, L, MAIO_DEV, addr, bytes, "keep-in-pool");
      return false;
    },
    freeBuffer(k: Kernel, m: number): void {
      const L = maioLayout(k);
      for (let i = 0; L !== null && i < k.segments(m); i++) {
        if (!k.segLive(m, i) || !poolFrame(k, MAIO_DEV, k.segFrame(m, i))) continue;
        const [addr, size] = k.segObject(m, i);
        poolPut(k, L, MAIO_DEV, addr, size, "keep-in-pool"); // put_page on every page the buffer covers
        if (tail === "keep-in-pool") continue;
        const n = 1 << L.order;
        for (let f = Math.floor(addr / PAGE_SIZE); f <= Math.floor((addr + size - 1) / PAGE_SIZE); f++) {
          // A tail page (not its compound page's head: compound pages are naturally aligned buddy blocks) without references.
          if (f % n !== 0 && poolFrame(k, MAIO_DEV, f) && poolRefs(k, f) === 0) poolFreeTail(k, L, MAIO_DEV, f);
        }
      }
      k.releaseBuffer(m);
    },
    map(k: Kernel, m: number, phase: number): number {
      if (phase === 0 && poolMapped(k, m)) {
        k.setIova(m, poolIova(k, k.segFirstFrame(m, 0)));
        return DONE;
      }
      return mapWithIova(k, m, phase);
    },
    unmap(k: Kernel, m: number, phase: number): number {
      if (phase === 0 && poolMapped(k, m)) return DONE; // the page passes to the process: no unmap, no copy
      return strict.unmap(k, m, phase);
    },
  };
}

export const maio: Policy = makeMaio(
  "maio",
  "MAIO: a pool of compound pages shared by the process and the NIC, mapped in both for good, per-page put_page, zero-copy send and receive",
  "keep-in-pool",
);

/** Broken: put_page frees a tail page left without references to the page allocator while its compound page is still mapped. */
export const maioTailFreedWhileMapped: Policy = makeMaio(
  "maio-tail-freed-while-mapped",
  "BROKEN MAIO: a tail page returns to the page allocator while the head is still mapped for the process and the NIC",
  "free-tail",
);

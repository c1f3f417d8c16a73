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
 * The process's zero-copy accesses are user-touch events on user pages
 * 0..2^order-1. The process returns a page itself with a `user-put` event
 * (put_page by the process: the received buffers the kernel holds in that
 * page are consumed and freed, their references dropped).
 *
 * Several processes on one pool (ModelConfig.processes P > 1, each owning
 * w = userPages / P user pages): the compound page is sized to w, and each
 * process has a window of user pages p*w..p*w+2^order-1 over it whose PTEs are
 * present only while the page behind is granted to it. A `user-get` grants
 * pool page i to the process asking at its window page i (a received buffer
 * the kernel holds there is delivered; a free page is taken to send from):
 * the kernel takes a reference, records the grant in the frame (F_USER_SHARED
 * and the process, user-confinement's ghost state) and maps it into that
 * process (vm_insert_page); a page granted to another process, or holding a
 * buffer the NIC may still use, is refused. `user-put` ends the grant: the
 * PTE is zapped with a TLB shootdown, the received buffers there are freed
 * and the reference dropped, and the page is back in the pool, mapped for
 * the NIC, not zeroed: the next process it is granted to reads what the last
 * one left (leftover-data's user clause). MAIO's own multi-process rules are
 * not published; this is the grant discipline user-confinement asks for.
 *
 * Broken variants: `maio-tail-freed-while-mapped` gives a tail page whose
 * last reference is put back to the page allocator as a page of its own
 * while the head, and with it the whole compound page, is still mapped for
 * the process and the NIC; `maio-grant-granted` lets process B be granted
 * (and map) a page still granted to process A, whose mapping stays.
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { PAGE_SIZE } from "../config.ts";
import { FRAMES, FRAME_W } from "../geometry.ts";
import { processesOf } from "../config.ts";
import { F_USER_PROC_MASK, F_USER_PROC_SHIFT, F_USER_SHARED, frameFlags, userSharedProcess } from "../physical-memory.ts";
import { mapUserFrame, markUserWindow, pagesPerProcess, processOf, PTE_IO_WINDOW, unmapUserFrame } from "../mmu.ts";
import {
  type PoolLayout, POOL_WORDS, poolAlloc, poolDrop, poolFrame, poolFreeTail, poolGrow, poolHead, poolIova, poolPut, poolRefs, poolTake, poolWordNames,
} from "../allocators/segregated-pool.ts";
import { MAPS, OBJECTS } from "../geometry.ts";
import { namedByMapping } from "../buffers.ts";
import { KIND_POOL, objCount, objFrame, objKind, objOffset, objOwner, objSize, ownerDriver } from "../objects.ts";
import { mapWithIova, strict } from "./strict.ts";
import { poolMapped } from "./damn.ts";

/** The NIC whose receive queue the process registered its MAIO memory with. */
export const MAIO_DEV = 0;

/** How put_page treats a tail page left without references: keep it in the pool (MAIO), or free it to the page allocator (broken). */
export type TailRule = "keep-in-pool" | "free-tail";

/** What user-get does with a page granted to another process: refuse (MAIO), or grant it anyway (broken). */
export type GrantRule = "exclusive" | "grant-granted";

/** MAIO's pool: one compound page, sized to each process's user pages and half the IOVA window; null when the process has no user pages. */
export function maioLayout(k: Kernel): PoolLayout | null {
  const limit = Math.min(pagesPerProcess(k.tx.g.cfg), Math.floor(k.windowPages / 2), 1 << k.maxOrder);
  if (limit < 1) return null;
  let order = 0;
  while (2 << order <= limit) order++;
  return { base: 0, order, maxCompound: 1, zero: true };
}

/**
 * The received buffers the kernel holds in pool frame `f` (no mapping names
 * them) are consumed: put_page on each, as the driver's `unmap +free` does.
 */
function putHeld(k: Kernel, L: PoolLayout, f: number): number {
  let n = 0;
  for (let i = objCount(k.tx.c[OBJECTS]) - 1; i >= 0; i--) {
    const ob = k.tx.c[OBJECTS]; // copied on the first free
    if (objFrame(ob, i) !== f || objKind(ob, i) !== KIND_POOL || objOwner(ob, i) !== ownerDriver(MAIO_DEV)) continue;
    if (namedByMapping(k.tx.c[OBJECTS], k.tx.c[MAPS], k.tx.g.cfg.maxMappings, i)) continue;
    poolPut(k, L, MAIO_DEV, f * PAGE_SIZE + objOffset(ob, i), objSize(ob, i), "keep-in-pool");
    n++;
  }
  return n;
}

/** Whether a buffer in pool frame `f` is named by a mapping (the NIC may still use it). */
function nicUses(k: Kernel, f: number): boolean {
  const ob = k.tx.c[OBJECTS];
  for (let i = 0; i < objCount(ob); i++) {
    if (objFrame(ob, i) === f && objKind(ob, i) === KIND_POOL && namedByMapping(ob, k.tx.c[MAPS], k.tx.g.cfg.maxMappings, i)) return true;
  }
  return false;
}

/** The pool frame behind user page `page` (its process is processOf(page)), or -1 when there is none. */
function behind(k: Kernel, L: PoolLayout | null, page: number): number {
  if (L === null) return -1;
  const i = page - processOf(k.tx.g.cfg, page) * pagesPerProcess(k.tx.g.cfg);
  const head = poolHead(k, MAIO_DEV);
  return head < 0 || i >= 1 << L.order ? -1 : head + i;
}
const NOT_MAIO = "not MAIO memory";

/** MAIO with the given put_page rule for tail pages and grant rule for several processes. */
export function makeMaio(name: string, summary: string, tail: TailRule, grant: GrantRule = "exclusive"): Policy {
  return {
    name,
    summary,
    // Not byte-confinement nor dma-integrity (fragments share a page, a buffer handed over stays mapped), as damn;
    // not leftover-data: a recycled page keeps what the process wrote in it (docs/policies/maio.md).
    claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "stale-window", "no-leak", "availability", "user-confinement"],
    stateWords: POOL_WORDS, // device 0's pool only
    cpuSymmetric: false, // userGet zaps a PTE with a TLB shootdown from Kernel.ctx: per-CPU TLBs, not renamed
    stateWordNames: () => poolWordNames(1),
    attach: () => "translate",
    events: ["user-get", "user-put"], // the process gets and puts pool pages itself (random engine)
    boot(k: Kernel): void {
      const L = maioLayout(k);
      if (L === null) return;
      const head = poolGrow(k, L, MAIO_DEV); // mapped for the NIC for good
      if (head < 0) return;
      const P = processesOf(k.tx.g.cfg);
      if (P > 1) {
        // Several processes: each gets a window over the pool, granted page by page (user-get).
        const w = pagesPerProcess(k.tx.g.cfg);
        for (let p = 0; p < P; p++) for (let i = 0; i < 1 << L.order; i++) markUserWindow(k.tx, p * w + i, k.obs);
        k.note(`MAIO: compound page ${head}..${head + (1 << L.order) - 1} for dev${MAIO_DEV}, granted to ${P} processes page by page`);
        return;
      }
      const fr = k.tx.w(FRAMES);
      for (let i = 0; i < 1 << L.order; i++) {
        fr[(head + i) * FRAME_W] |= F_USER_SHARED;
        mapUserFrame(k.tx, i, head + i, k.obs); // and into the process, at user page i
      }
      k.note(`MAIO: compound page ${head}..${head + (1 << L.order) - 1} shared by the process (user pages 0..${(1 << L.order) - 1}) and dev${MAIO_DEV}`);
    },
    userGet(k: Kernel, page: number): string | null {
      const L = maioLayout(k);
      const f = behind(k, L, page);
      if (f < 0) return NOT_MAIO;
      if (processesOf(k.tx.g.cfg) === 1) return "MAIO maps its whole pool into its one process for good";
      const proc = processOf(k.tx.g.cfg, page);
      const fr = k.tx.c[FRAMES];
      if ((frameFlags(fr, f) & F_USER_SHARED) !== 0) {
        const q = userSharedProcess(fr, f);
        if (q === proc) return "the page is already granted to this process";
        if (grant === "exclusive") return `the page is granted to process ${q}`;
        k.note(`BROKEN: page ${f}, granted to process ${q}, is granted to process ${proc} too; process ${q} keeps its mapping`);
      } else if (nicUses(k, f)) return "the NIC may still use a buffer in the page";
      poolTake(k, L!, MAIO_DEV, f); // get_page for the process
      const w = k.tx.w(FRAMES);
      w[f * FRAME_W] = (w[f * FRAME_W] & ~F_USER_PROC_MASK) | F_USER_SHARED | (proc << F_USER_PROC_SHIFT);
      if (!mapUserFrame(k.tx, page, f, k.obs)) return "out of memory for the process's page tables";
      k.note(`MAIO: page ${f} granted to process ${proc} at its user page ${page}`);
      return null;
    },
    userPut(k: Kernel, page: number): string | null {
      const L = maioLayout(k);
      const f = behind(k, L, page);
      if (f < 0) return NOT_MAIO;
      if (processesOf(k.tx.g.cfg) === 1) {
        // One process, mapped for good: put_page on the received buffers the kernel holds there.
        return putHeld(k, L!, f) > 0 ? null : "the process holds no received buffer in that page";
      }
      const proc = processOf(k.tx.g.cfg, page);
      const fr = k.tx.c[FRAMES];
      if ((frameFlags(fr, f) & F_USER_SHARED) === 0 || userSharedProcess(fr, f) !== proc) return "the page is not granted to this process";
      unmapUserFrame(k.tx, k.ctx, page, PTE_IO_WINDOW, k.obs); // zap the PTE, shoot down the TLBs
      const w = k.tx.w(FRAMES);
      w[f * FRAME_W] &= ~(F_USER_SHARED | F_USER_PROC_MASK);
      putHeld(k, L!, f);
      poolDrop(k, f); // the process's own reference: the page is back in the pool, not zeroed
      k.note(`MAIO: process ${proc} put page ${f} back in the pool`);
      return null;
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

/** Broken: with several processes, process B is granted (and maps) a page still granted to process A, whose mapping stays. */
export const maioGrantGranted: Policy = makeMaio(
  "maio-grant-granted",
  "BROKEN MAIO: a process is granted a pool page still granted to another process, which keeps its mapping",
  "keep-in-pool",
  "grant-granted",
);

/** Broken: put_page frees a tail page left without references to the page allocator while its compound page is still mapped. */
export const maioTailFreedWhileMapped: Policy = makeMaio(
  "maio-tail-freed-while-mapped",
  "BROKEN MAIO: a tail page returns to the page allocator while the head is still mapped for the process and the NIC",
  "free-tail",
);

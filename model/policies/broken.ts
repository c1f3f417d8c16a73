/**
 * Deliberately broken variants of the built-in policies. They exist to show
 * that each property can fail and that the checker catches the bug classes
 * real drivers have had; `dmacheck check --policy <name>` accepts them.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { PAGE_SIZE } from "../config.ts";
import { type Kernel } from "../kernel.ts";
import { TAG_FQ } from "../iommu-page-table.ts";
import { lazy, lazyUnmap } from "./lazy.ts";
import { flushAfterMap, linuxPdeRule, MAP_CLEANUP, MAP_FAIL_WAIT, MAP_NP_FLUSH, MAP_START, mapWithIova, strict, UNMAP_START, UNMAP_WAIT, unmapAndQueueSync, unmapStart } from "./strict.ts";
import { shadow } from "./shadow.ts";
import { fns } from "./fns.ts";
import { makeBounce } from "./bounce.ts";
import { makeDamn } from "./damn.ts";
import { vfio } from "./vfio.ts";
import { stepwiseMap, vfioStepwise } from "./vfio-stepwise.ts";
import { makeMorselPolicy } from "./morsel.ts";
import { makeMorselViewPolicy } from "./morsel-views.ts";
import { exitToVmm, viommu } from "./viommu.ts";
import { candWord, coiommu, dtt, hostLock, hostUnmapQueue, roomForUnmap, U_CLAIM, U_SCAN, U_WAIT, unpinFinish, unpinScan } from "./coiommu.ts";

/** Strict, but the driver's page is freed before the completion wait: reuse while the IOTLB still maps it. */
export const strictFreeBeforeWait: Policy = {
  ...strict,
  name: "strict-free-before-wait",
  summary: "BROKEN strict: frees the data page before the completion wait",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) {
      const r = strict.unmap(k, m, phase);
      if (r === UNMAP_WAIT) k.releaseBuffer(m);
      return r;
    }
    return strict.unmap(k, m, phase);
  },
};

/**
 * Strict, but the IOVA goes back to the allocator as soon as the invalidation
 * is queued, before the completion wait: another map of the device gets the
 * same IOVA while the first mapping's translation may still be cached, and
 * its DMA goes through that stale entry to the first mapping's frame.
 */
export const strictFreeIovaBeforeWait: Policy = {
  ...strict,
  name: "strict-free-iova-before-wait",
  summary: "BROKEN strict: frees the IOVA before the completion wait, so the next map reuses it under a stale IOTLB entry",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) {
      const r = unmapStart(k, m, "always");
      if (r === UNMAP_WAIT) k.freeIova(k.dev(m), k.iova(m), k.pages(m));
      return r;
    }
    if (!k.completionDone()) return UNMAP_WAIT;
    k.freeDetachedTables();
    return DONE;
  },
};

/**
 * Strict with a domain lock in a policy word (1 while held), as drivers
 * serialise a domain's IOVA and page-table updates: a map takes it and drops
 * it when it returns, an unmap waits for it before it clears its entries.
 * But a map that fails (no IOVA, no frame for a table) returns its error
 * with the lock still held, so the next map or unmap, on any CPU, spins on
 * it forever: a hang, which only call-progress sees (the mapping stays
 * live, so no isolation property fails). The classic missing unlock on an
 * error path.
 */
export const strictLockErrorPath: Policy = {
  ...strict,
  name: "strict-lock-error-path",
  summary: "BROKEN strict: a map that fails keeps the domain lock, so the next map or unmap spins forever",
  stateWords: 1,
  stateWordNames: () => ["domain lock"],
  map(k: Kernel, m: number, phase: number): number {
    if (phase === MAP_START) {
      if (k.pol(0) !== 0) return MAP_START;
      k.setPol(0, 1);
    }
    const r = strict.map(k, m, phase);
    if (r === DONE) k.setPol(0, 0); // the bug: FAIL keeps it
    return r;
  },
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START && k.pol(0) !== 0) return UNMAP_START;
    return strict.unmap(k, m, phase);
  },
};

/** Strict whose unmap never gives the IOVA back: the window runs out. */
export const strictLeakIova: Policy = {
  ...strict,
  name: "strict-leak-iova",
  summary: "BROKEN strict: never frees the IOVA of an unmapped buffer",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) return unmapStart(k, m, "always");
    if (!k.completionDone()) return UNMAP_WAIT;
    k.freeDetachedTables();
    return DONE;
  },
};

/** Strict whose unmap never frees the page-table frames it emptied: they stay detached for good. */
export const strictLeakTables: Policy = {
  ...strict,
  name: "strict-leak-tables",
  summary: "BROKEN strict: never frees the emptied page-table frames",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) return unmapStart(k, m, "always");
    if (!k.completionDone()) return UNMAP_WAIT;
    k.freeIova(k.dev(m), k.iova(m), k.pages(m));
    return DONE;
  },
};

/**
 * Strict whose unmap is off by one page: it clears and invalidates the
 * neighbouring IOVA page instead of its own, so a live mapping placed there
 * loses its translation under the driver's feet (and its own page stays
 * mapped).
 */
export const strictUnmapOffByOne: Policy = {
  ...strict,
  name: "strict-unmap-off-by-one",
  summary: "BROKEN strict: unmaps [iova+1, iova+1+pages), the neighbour's page, instead of its own",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) return unmapAndQueueSync(k, k.dev(m), k.iova(m) + 1, k.pages(m)) ? UNMAP_WAIT : UNMAP_START;
    return strict.unmap(k, m, phase);
  },
};

/**
 * Strict that sizes a mapping's IOVA range from the buffer's length alone
 * (as if Linux __iommu_dma_map computed iova_align(size) without adding
 * iova_off, the start's offset into its granule). A buffer that starts
 * inside a page and crosses into the next (a page-aligned length at an
 * unaligned start, a sub-range of a larger block) gets one page too few:
 * the device's access to its last bytes faults, and the next mapping is
 * given that IOVA page. Whole buffers never show it (kmalloc objects do not
 * cross pages; page blocks start page-aligned): only ranges inside an
 * allocation do.
 */
export const strictRangeNoOffset: Policy = {
  ...strict,
  name: "strict-range-no-offset",
  summary: "BROKEN strict: sizes the IOVA range from the length without the start's offset, so a range crossing a page loses its last page",
  map(k: Kernel, m: number, phase: number): number {
    const dev = k.dev(m);
    const n = lengthPages(k, m);
    if (phase === MAP_START) {
      const iova = k.allocIova(dev, n);
      if (iova < 0) return FAIL;
      k.setIova(m, iova);
      if (mapLengthPages(k, m)) return DONE;
    }
    // Out of table frames part-way: undone as strict undoes it (clear, invalidate, wait), then the IOVA is freed.
    if (phase !== MAP_FAIL_WAIT) return unmapAndQueueSync(k, dev, k.iova(m), n) ? MAP_FAIL_WAIT : MAP_CLEANUP;
    if (!k.completionDone()) return MAP_FAIL_WAIT;
    k.freeDetachedTables();
    k.freeIova(dev, k.iova(m), n);
    return FAIL;
  },
  unmap(k: Kernel, m: number, phase: number): number {
    const n = lengthPages(k, m);
    if (phase === UNMAP_START) return unmapAndQueueSync(k, k.dev(m), k.iova(m), n) ? UNMAP_WAIT : UNMAP_START;
    if (!k.completionDone()) return UNMAP_WAIT;
    k.freeDetachedTables();
    k.freeIova(k.dev(m), k.iova(m), n);
    return DONE;
  },
};

/** IOVA pages strict-range-no-offset reserves: each segment's length in whole pages, ignoring where it starts. */
function lengthPages(k: Kernel, m: number): number {
  let n = 0;
  for (let i = 0; i < k.segments(m); i++) n += Math.ceil(k.segLen(m, i) / PAGE_SIZE);
  return n;
}

/** Maps each segment's length in whole pages from its first frame, contiguously from the mapping's IOVA. */
function mapLengthPages(k: Kernel, m: number): boolean {
  let v = k.iova(m);
  for (let i = 0; i < k.segments(m); i++) {
    const first = k.segFirstFrame(m, i);
    const pages = Math.ceil(k.segLen(m, i) / PAGE_SIZE);
    for (let p = 0; p < pages; p++, v++) if (!k.mapPage(k.dev(m), v, first + p, k.deviceReads(m), k.deviceWrites(m))) return false;
  }
  return true;
}

/**
 * vfio-stepwise whose failed map clears what it mapped and frees its tables,
 * IOVA and pins without invalidating. A translation a device cached between
 * two of the map's page writes (each ends a step: a preemption point)
 * survives the failure, and the device reaches the freed buffer through it.
 * Mapped atomically the same undo would be harmless: nothing could have cached
 * the half-built mapping. Not in BROKEN_POLICIES: the default scope cannot make
 * a map fail part-way (docs/policies.md has a scope that does).
 */
export const vfioUndoNoInvalidate: Policy = {
  ...vfioStepwise,
  name: "vfio-undo-no-invalidate",
  summary: "BROKEN vfio-stepwise: a map failing part-way clears its entries and unpins without invalidating the IOTLB",
  map: (k, m, phase) => stepwiseMap(k, m, phase, "no-invalidate"),
};

/** Strict, but emptied page-table frames are freed before the invalidation is even queued. */
export const strictFreeTablesEarly: Policy = {
  ...strict,
  name: "strict-free-tables-early",
  summary: "BROKEN strict: frees page-table frames before the invalidation",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) {
      if (k.cmdSpace() < 2) return UNMAP_START;
      k.unmapPages(k.dev(m), k.iova(m), k.pages(m));
      k.freeDetachedTables();
      k.invalidatePages(k.dev(m), k.iova(m), k.pages(m), true);
      k.completionWait();
      return UNMAP_WAIT;
    }
    return strict.unmap(k, m, phase);
  },
};

/** Strict, but the completion wait is queued before the invalidation, so the wait can finish first. */
export const strictWaitBeforeInvalidate: Policy = {
  ...strict,
  name: "strict-wait-before-invalidate",
  summary: "BROKEN strict: queues COMPLETION_WAIT before INVALIDATE_IOMMU_PAGES",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) {
      if (k.cmdSpace() < 2) return UNMAP_START;
      k.unmapPages(k.dev(m), k.iova(m), k.pages(m));
      k.completionWait();
      k.invalidatePages(k.dev(m), k.iova(m), k.pages(m), true);
      return UNMAP_WAIT;
    }
    return strict.unmap(k, m, phase);
  },
};

/** Strict, but the invalidation leaves directory entries cached (PDE bit clear) while table frames are reclaimed. */
export const strictNoPde: Policy = {
  ...strict,
  name: "strict-no-pde",
  summary: "BROKEN strict: invalidates leaves only (PDE=0) yet frees emptied tables",
  unmap: (k, m, phase) => (phase === UNMAP_START ? unmapStart(k, m, "never") : strict.unmap(k, m, phase)),
};

/** Lazy, but emptied table frames go back to the allocator at unmap instead of waiting in the flush queue. */
export const lazyFreeTablesAtUnmap: Policy = {
  ...lazy,
  name: "lazy-free-tables-at-unmap",
  summary: "BROKEN lazy: frees page-table frames at unmap, before the flush",
  unmap(k: Kernel, m: number, phase: number): number {
    const r = lazy.unmap(k, m, phase);
    if (r === DONE) k.freeDetachedTables(TAG_FQ);
    return r;
  },
};

/**
 * Lazy without the flush timer: deferred unmaps are flushed only when a CPU's
 * ring is full, so a stale IOTLB entry stays usable for as long as fewer than
 * fqSize later unmaps happen on that CPU, however much time passes (the stale
 * window never closes on a quiet device).
 */
export const lazyNoTimer: Policy = {
  ...lazy,
  name: "lazy-no-timer",
  summary: "BROKEN lazy: never arms the flush timer, so the stale window closes only when a ring fills",
  unmap: (k, m, phase) => lazyUnmap(k, m, phase, false),
};

/**
 * Shadow "optimised" to zero copy: the driver's own buffer is mapped for the
 * device and, like a shadow page, never unmapped. Once the driver frees the
 * buffer, the device still reaches whatever reuses that memory.
 */
export const shadowZeroCopy: Policy = {
  ...shadow,
  name: "shadow-zero-copy",
  summary: "BROKEN shadow: maps the driver's buffer itself and never unmaps it",
  map: (k, m, phase) => mapWithIova(k, m, phase),
  unmap: () => DONE,
};

/** F&S that never invalidates directory entries, not even when it reclaims the table they point at. */
export const fnsNeverPde: Policy = {
  ...fns,
  name: "fns-never-pde",
  summary: "BROKEN fns: keeps page-walk caches even when a table page is reclaimed",
  unmap: (k, m, phase) => (phase === UNMAP_START ? unmapStart(k, m, "never") : fns.unmap(k, m, phase)),
};

/** Bounce that copies into a slot but has the IOMMU map the original pages: the slab neighbours are exposed again. */
export const bounceMapOriginal: Policy = makeBounce(
  "bounce-map-original",
  "BROKEN bounce: maps the whole original page instead of the bounce slot",
  { zeroPadding: true, mapSlot: false },
);

/** Bounce that does not zero slot padding: the device reads what an earlier mapping left in the slot. */
export const bounceNoZeroPadding: Policy = makeBounce(
  "bounce-no-zero-padding",
  "BROKEN bounce: leaves the bounce slot's padding as the last mapping left it",
  { zeroPadding: false, mapSlot: true },
);

/**
 * Bounce whose slot allocator forgets to mark a slot in use: two live
 * buffers share one slot, the second copy overwrites the first, and the
 * device reaches the second buffer's bytes through the first one's mapping.
 */
export const bounceSharedSlot: Policy = makeBounce(
  "bounce-shared-slot",
  "BROKEN bounce: never marks a bounce slot in use, so two live buffers can share it",
  { zeroPadding: true, mapSlot: true, shareSlots: true },
);

/** DAMN whose put hands a pool page without references back to the page allocator while the IOMMU still maps it. */
export const damnFreeToBuddy: Policy = makeDamn(
  "damn-free-to-buddy",
  "BROKEN damn: returns an emptied pool page to the page allocator while it is still mapped",
  "free-to-buddy",
);

/**
 * DAMN whose pool grows with pages as the page allocator hands them out, not
 * zeroed: the whole compound page is mapped for the device at once, so the
 * device reads what the frames' previous owner (the kernel) left there.
 */
export const damnUnzeroedPool: Policy = makeDamn(
  "damn-unzeroed-pool",
  "BROKEN damn: maps new pool pages without zeroing them, exposing their previous owner's data",
  "keep-in-pool",
  false,
);

/** VFIO that unpins the pages as soon as the invalidation is queued, before it has completed. */
export const vfioUnpinBeforeWait: Policy = {
  ...vfio,
  name: "vfio-unpin-before-wait",
  summary: "BROKEN vfio: unpins every page before the IOTLB invalidation completes",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) {
      k.count("containerLocks");
      const r = unmapStart(k, m, "always");
      if (r === UNMAP_WAIT) k.unpinMapping(m);
      return r;
    }
    return strict.unmap(k, m, phase);
  },
};

/** VFIO whose unmap forgets to unpin: the pages stay pinned after DMA is over. */
export const vfioLeakPin: Policy = {
  ...vfio,
  name: "vfio-leak-pin",
  summary: "BROKEN vfio: unmaps and invalidates but never unpins the pages",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) return vfio.unmap(k, m, phase);
    return strict.unmap(k, m, phase);
  },
};

/**
 * viommu whose VMM lets the vCPU go on as soon as it has queued the host
 * invalidation: the guest's wait descriptor is completed before the host's
 * COMPLETION_WAIT has run, so the guest's unmap returns (and the driver frees
 * the buffer) while the host IOTLB may still translate the IOVA.
 */
export const viommuAsyncInvalidate: Policy = {
  ...viommu,
  name: "viommu-async-invalidate",
  summary: "BROKEN viommu: the VMM completes the guest's invalidation wait before the host invalidation has executed",
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase !== UNMAP_START) return viommu.unmap(k, m, phase);
    if (k.cmdSpace() < k.invalidationCommands(k.dev(m))) return UNMAP_START;
    k.unmapPages(k.dev(m), k.iova(m), k.pages(m));
    // The host invalidation is queued, but nobody waits for it.
    k.invalidatePages(k.dev(m), k.iova(m), k.pages(m), true);
    k.count("iommuPteWrites", k.pages(m));
    exitToVmm(k, k.pages(m), "unmap: invalidation and wait");
    // Emptied table frames stay detached until a later wait on this context (not freed early).
    k.freeIova(k.dev(m), k.iova(m), k.pages(m));
    k.unpinMapping(m);
    return DONE;
  },
};

/** A phase of strict-narrow-no-invalidate's map (numbered apart from strict's). */
const MAP_NARROW = 40;

/**
 * Strict whose map first makes every entry readable and writable and, after
 * a preemption point (as vfio_pin_map_dma's cond_resched between chunks),
 * narrows each one to the DMA direction, without an invalidation: a
 * translation a device cached in between keeps the right the tables no
 * longer give (Linux drivers/iommu/amd/io_pgtable.c iommu_v1_map_pages
 * flushes the domain's pages whenever it overwrote a present entry,
 * `updated`). Once the map has returned, the device still
 * writes a to-device buffer (or reads a from-device one) through its IOTLB.
 * Caught only by iotlb-coherence's rule that a cached translation of a
 * mapping no call is working on agrees with the tables now.
 */
export const strictNarrowNoInvalidate: Policy = {
  ...strict,
  name: "strict-narrow-no-invalidate",
  summary: "BROKEN strict: maps read/write, then narrows the entries to the DMA direction after a preemption point, without invalidating",
  map(k: Kernel, m: number, phase: number): number {
    if (phase === MAP_NARROW) {
      // The bug: the rights are lowered in place (same frames, so no table frame is needed) and nothing is invalidated.
      if (!k.mapSegments(m)) return mapWithIova(k, m, MAP_CLEANUP);
      return k.cachingMode ? flushAfterMap(k, m, MAP_NP_FLUSH) : DONE;
    }
    if (phase !== MAP_START) return mapWithIova(k, m, phase);
    const iova = k.allocIova(k.dev(m), k.pages(m));
    if (iova < 0) return FAIL;
    k.setIova(m, iova);
    return mapInto(k, m, k.dev(m), true, true) ? MAP_NARROW : mapWithIova(k, m, MAP_CLEANUP);
  },
};

/**
 * Maps every segment of mapping m contiguously from its IOVA into domain
 * `dom`, with rights `read` and `write`; with `pfnUp`, a segment that starts
 * inside a page is mapped from the frame after it.
 */
function mapInto(k: Kernel, m: number, dom: number, read: boolean, write: boolean, pfnUp = false): boolean {
  let v = k.iova(m);
  for (let i = 0; i < k.segments(m); i++) {
    const first = k.segFirstFrame(m, i) + (pfnUp && k.segOffset(m, i) % PAGE_SIZE !== 0 ? 1 : 0);
    for (let p = 0; p < k.segPages(m, i); p++) if (!k.mapPage(dom, v + p, first + p, read, write)) return false;
    v += k.segPages(m, i);
  }
  return true;
}

/**
 * Strict that finds a buffer's first frame with PFN_UP(phys) instead of
 * PFN_DOWN(phys) (Linux __iommu_dma_map maps phys - iova_offset(phys)): a
 * buffer that starts inside a page (a kmalloc object after the first of its
 * slab, a range inside an allocation) is mapped from the frame above it.
 * The device reaches the frame just above its buffer's, which holds nothing
 * granted to it; its own buffer's page is not reachable.
 */
export const strictPfnUp: Policy = {
  ...strict,
  name: "strict-pfn-up",
  summary: "BROKEN strict: maps a buffer that starts inside a page from the frame above it (PFN_UP instead of PFN_DOWN)",
  map(k: Kernel, m: number, phase: number): number {
    if (phase !== MAP_START) return mapWithIova(k, m, phase);
    const iova = k.allocIova(k.dev(m), k.pages(m));
    if (iova < 0) return FAIL;
    k.setIova(m, iova);
    if (!mapInto(k, m, k.dev(m), k.deviceReads(m), k.deviceWrites(m), true)) return mapWithIova(k, m, MAP_CLEANUP);
    return k.cachingMode ? flushAfterMap(k, m, MAP_NP_FLUSH) : DONE;
  },
};

/** The domain strict-wrong-device maps every buffer in. */
const WRONG_DOM = 0;

/**
 * Strict called with the wrong device: every buffer is mapped in device 0's
 * domain (IOVA from its allocator, entries, invalidations), whichever device
 * it is for, as a driver that passes its parent's struct device to
 * dma_map_*() would (the DMA API maps in that device's domain). Device 0
 * reaches other devices' buffers (a grant of device 1 is not device 0's),
 * and the device the buffer is for faults.
 */
export const strictWrongDevice: Policy = {
  ...strict,
  name: "strict-wrong-device",
  summary: "BROKEN strict: maps every device's buffers in device 0's domain (the wrong struct device passed to the DMA API)",
  map(k: Kernel, m: number, phase: number): number {
    if (phase === MAP_START) {
      const iova = k.allocIova(WRONG_DOM, k.pages(m));
      if (iova < 0) return FAIL;
      k.setIova(m, iova);
      if (mapInto(k, m, WRONG_DOM, k.deviceReads(m), k.deviceWrites(m))) return DONE;
    }
    if (phase !== MAP_FAIL_WAIT) return unmapAndQueueSync(k, WRONG_DOM, k.iova(m), k.pages(m)) ? MAP_FAIL_WAIT : MAP_CLEANUP;
    if (!k.completionDone()) return MAP_FAIL_WAIT;
    k.freeDetachedTables();
    k.freeIova(WRONG_DOM, k.iova(m), k.pages(m));
    return FAIL;
  },
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) return unmapAndQueueSync(k, WRONG_DOM, k.iova(m), k.pages(m)) ? UNMAP_WAIT : UNMAP_START;
    if (!k.completionDone()) return UNMAP_WAIT;
    k.freeDetachedTables();
    k.freeIova(WRONG_DOM, k.iova(m), k.pages(m));
    return DONE;
  },
};

/** Morsel whose unmount invalidates leaves only (PDE = 0): the cached entry that linked the morsel outlives its tables. */
export const morselLeafOnlyUnmount: Policy = makeMorselPolicy({
  name: "morsel-leaf-only-unmount",
  summary: "BROKEN morsel: the unmount invalidates leaves but not directory entries",
  level: 1,
  encoding: "safe",
  pde: false,
});

/** Morsel tables shared with the naive encoding: Linux's software bits and the IOMMU's NextLevel, pkeys and IR/IW, collide. */
export const morselNaiveSharing: Policy = makeMorselPolicy({
  name: "morsel-naive-sharing",
  summary: "BROKEN morsel: shares x86 entries with the IOMMU as Linux writes them (software bits 9..11 = NextLevel, pkey bits = IR/IW)",
  level: 1,
  encoding: "naive",
  pde: true,
});

/** Multi-target morsel whose secondary view is not invalidated when the primary unmaps the pages. */
export const morselViewStale: Policy = makeMorselViewPolicy({
  name: "morsel-view-stale",
  summary: "BROKEN morsel-views: the primary zaps the pages but the AMD view keeps its entries",
  invalidateView: false,
});

/**
 * CoIOMMU whose host unpinner claims its candidate with a plain store instead
 * of compare_exchange(PINNED -> 0): a map the guest made between the scan and
 * the claim (it saw PINNED, so it asked the host for nothing) is lost, and the
 * page is unmapped and unpinned under a live mapping, whose DMA then faults.
 * Not in BROKEN_POLICIES: no isolation property catches it, because VFIO
 * unmaps and syncs the IOTLB before it unpins (pin-safety holds over the
 * whole default scope); test/model/coiommu.test.ts catches the fault.
 */
export const coiommuUnpinNoCmpxchg: Policy = {
  ...coiommu,
  name: "coiommu-unpin-no-cmpxchg",
  summary: "BROKEN coiommu: the host unpinner clears the DTT entry with a plain store, without compare-exchange",
  timer(k: Kernel, phase: number): number {
    if (phase === U_SCAN) return unpinScan(k);
    if (phase === U_CLAIM) {
      if (!roomForUnmap(k)) return U_CLAIM;
      const f = k.pol(candWord(k)) - 1;
      k.note(`host unpinner: claims frame ${f} (entry 0x${(dtt(k, f) >>> 0).toString(16)}) without compare-exchange`);
      k.setPol(f, 0);
      hostLock(k, f);
      hostUnmapQueue(k, f);
      return U_WAIT;
    }
    return unpinFinish(k, true);
  },
};

/**
 * CoIOMMU whose host drops the pin as soon as it has claimed the page, before
 * the IOMMU unmap's invalidation has completed (the reverse of
 * vfio_unmap_unpin's order): the host may reclaim a frame the device still
 * reaches through its IOTLB.
 */
export const coiommuUnpinBeforeInvalidate: Policy = {
  ...coiommu,
  name: "coiommu-unpin-before-invalidate",
  summary: "BROKEN coiommu: the host unpins a claimed page before the IOMMU invalidation completes",
  timer(k: Kernel, phase: number): number {
    if (phase === U_SCAN) return unpinScan(k);
    if (phase === U_CLAIM) {
      const r = coiommu.timer!(k, phase);
      if (r === U_WAIT) k.unpin(k.pol(candWord(k)) - 1);
      return r;
    }
    return unpinFinish(k, false);
  },
};

// ---- VT-d only (Policy.iommus): Linux's per-IOMMU choices, broken ----------------

/**
 * Strict's unmap with its own invalidations: once the queue has `space`
 * entries, clear the entries, queue `invalidate`'s commands and a wait;
 * then finish as strict does.
 */
function vtdStrictUnmap(space: (k: Kernel, dev: number) => number, invalidate: (k: Kernel, dev: number, m: number) => void): Policy["unmap"] {
  return (k, m, phase) => {
    if (phase !== UNMAP_START) return strict.unmap(k, m, phase);
    const dev = k.dev(m);
    if (k.cmdSpace() < space(k, dev)) return UNMAP_START;
    k.unmapPages(dev, k.iova(m), k.pages(m));
    invalidate(k, dev, m);
    k.completionWait();
    return UNMAP_WAIT;
  };
}

/**
 * Strict on VT-d with the invalidation hint the wrong way round: IH is set
 * exactly when the unmap freed page-table pages (Linux sets it only when the
 * gather's freelist is empty), so the paging-structure caches keep pointing
 * into the freed tables.
 */
export const strictIhInverted: Policy = {
  ...strict,
  name: "strict-ih-inverted",
  summary: "BROKEN strict (VT-d): sets the invalidation hint IH when tables were freed, keeping cached directory entries to them",
  iommus: ["vtd"],
  unmap: vtdStrictUnmap((k, dev) => k.invalidationCommands(dev) + 1, (k, dev, m) => {
    k.invalidatePages(dev, k.iova(m), k.pages(m), !k.hasDetachedTables());
  }),
};

/** Strict on VT-d that never invalidates the device TLB: with ATS the device keeps using the unmapped translation. */
export const strictNoDevtlb: Policy = {
  ...strict,
  name: "strict-no-devtlb",
  summary: "BROKEN strict (VT-d): invalidates the IOTLB but not the device TLB (ATS)",
  iommus: ["vtd"],
  unmap: vtdStrictUnmap(() => 2, (k, dev, m) => {
    k.invalidateIommuPages(dev, k.iova(m), k.pages(m), linuxPdeRule(k) === "always" || k.hasDetachedTables());
  }),
};

/**
 * Strict on VT-d that invalidates the device TLB before the IOTLB (Linux
 * orders IOTLB cache tags first: cache.c cache_tag_assign). Between the two,
 * a Translation Request from the device hits the still-valid IOTLB entry and
 * refills its device TLB, which nothing invalidates afterwards.
 */
export const strictDevtlbFirst: Policy = {
  ...strict,
  name: "strict-devtlb-first",
  summary: "BROKEN strict (VT-d): invalidates the device TLB before the IOTLB, so a translation request refills it",
  iommus: ["vtd"],
  unmap: vtdStrictUnmap((k, dev) => k.invalidationCommands(dev) + 1, (k, dev, m) => {
    k.invalidateDeviceTlb(dev, k.iova(m), k.pages(m));
    k.invalidateIommuPages(dev, k.iova(m), k.pages(m), linuxPdeRule(k) === "always" || k.hasDetachedTables());
  }),
};

/** The VT-d-only broken variants (not in BROKEN_POLICIES, whose every member runs on the default AMD machine). */
export const VTD_BROKEN_POLICIES: readonly Policy[] = [strictIhInverted, strictNoDevtlb, strictDevtlbFirst];

export const BROKEN_POLICIES: readonly Policy[] = [
  strictFreeBeforeWait, strictFreeIovaBeforeWait, strictLeakIova, strictLeakTables, strictUnmapOffByOne, strictRangeNoOffset, strictFreeTablesEarly, strictWaitBeforeInvalidate, strictNoPde, lazyFreeTablesAtUnmap, lazyNoTimer, shadowZeroCopy, fnsNeverPde,
  bounceMapOriginal, bounceNoZeroPadding, bounceSharedSlot, damnFreeToBuddy, damnUnzeroedPool,
  vfioUnpinBeforeWait, vfioLeakPin, morselLeafOnlyUnmount, morselNaiveSharing, morselViewStale,
  viommuAsyncInvalidate, coiommuUnpinBeforeInvalidate, strictNarrowNoInvalidate, strictWrongDevice, strictPfnUp, strictLockErrorPath,
];

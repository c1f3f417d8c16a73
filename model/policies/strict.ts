/**
 * strict: Linux's default DMA domain with iommu.strict=1
 * (drivers/iommu/dma-iommu.c). Map: allocate an IOVA range (alloc_iova_fast),
 * map the buffer rounded out to whole 4 KiB granules with the direction's
 * permissions. Unmap: clear the entries (iommu_unmap_fast, collecting emptied
 * table pages on the gather freelist), invalidate synchronously
 * (iommu_iotlb_sync: INVALIDATE_IOMMU_PAGES with PDE, as Linux always sets
 * it on AMD, then COMPLETION_WAIT; on VT-d a page-selective invalidation with
 * IH unless tables were freed, then an invalidation wait: linuxPdeRule), and only after the wait free the table pages and
 * the IOVA and return. No stale window; the whole granule is exposed.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";

/** The phases of a strict unmap. */
export const UNMAP_START = 0, UNMAP_WAIT = 1;

/**
 * When an unmap's invalidation also drops directory entries (the PDE bit):
 * always (Linux sets it on every flush), only when the unmap reclaims a
 * table frame (F&S keeps page-walk caches otherwise), or never (a bug when
 * tables are reclaimed: see strict-no-pde, fns-never-pde).
 */
export type PdeRule = "always" | "on-reclaim" | "never";

/**
 * Clears [iova, iova+pages) and queues what makes it unreachable:
 * INVALIDATE_IOMMU_PAGES (PDE per `pde`), then COMPLETION_WAIT (Linux
 * iommu_unmap's iommu_iotlb_sync). False, doing nothing, when the command
 * buffer lacks room.
 */
export function unmapAndQueueSync(k: Kernel, dev: number, iova: number, pages: number, pde: PdeRule = "always"): boolean {
  if (k.cmdSpace() < k.invalidationCommands(dev) + 1) return false;
  k.unmapPages(dev, iova, pages);
  k.invalidatePages(dev, iova, pages, pde === "always" || (pde === "on-reclaim" && k.hasDetachedTables()));
  k.completionWait();
  return true;
}

/** An unmap's first phase: clear, queue the invalidation and the wait (or retry when the buffer is full). */
export function unmapStart(k: Kernel, m: number, pde: PdeRule): number {
  return unmapAndQueueSync(k, k.dev(m), k.iova(m), k.pages(m), pde) ? UNMAP_WAIT : UNMAP_START;
}

/**
 * Linux's PDE choice for strict on each IOMMU: AMD sets PDE on every flush
 * (amd iommu.c domain_flush_pages); VT-d sets the invalidation hint IH, which
 * keeps the paging-structure caches, when the unmap freed no page-table page
 * (drivers/iommu/intel/iommu.c intel_iommu_tlb_sync:
 * cache_tag_flush_range(..., list_empty(&gather->freelist))).
 */
export function linuxPdeRule(k: Kernel): PdeRule {
  return k.iommu === "vtd" ? "on-reclaim" : "always";
}

/** Phases of a map. */
export const MAP_START = 0, MAP_FAIL_WAIT = 1, MAP_CLEANUP = 2;
/** Phases of the invalidation after a map that caching mode requires (numbered apart from any policy's own). */
export const MAP_NP_FLUSH = 100, MAP_NP_WAIT = 101;

/**
 * VT-d caching mode: the IOMMU may have cached the not-present entries the
 * map just filled, so the map invalidates the range (IOTLB only: "device
 * IOTLB doesn't need to be flushed in this case") and waits, as Linux
 * intel_iommu_iotlb_sync_map -> cache_tag_flush_range_np -> qi_submit_sync
 * does. Returns the next phase, or DONE.
 */
export function flushAfterMap(k: Kernel, m: number, phase: number): number {
  if (phase === MAP_NP_FLUSH) {
    if (k.cmdSpace() < 2) return MAP_NP_FLUSH;
    k.invalidateIommuPages(k.dev(m), k.iova(m), k.pages(m), true);
    k.completionWait();
    return MAP_NP_WAIT;
  }
  return k.completionDone() ? DONE : MAP_NP_WAIT;
}

/**
 * Map as Linux __iommu_dma_map does; shared by every IOVA-based policy. When
 * the page tables cannot be built (out of memory), what was mapped is undone
 * the way iommu_map's error path does it (iommu_unmap: clear, invalidate,
 * wait) before the IOVA and any emptied table frames are freed.
 */
export function mapWithIova(k: Kernel, m: number, phase: number, npFlush = true, largePages = false): number {
  const dev = k.dev(m);
  if (phase >= MAP_NP_FLUSH) return flushAfterMap(k, m, phase);
  if (phase === MAP_START) {
    const iova = k.allocIova(dev, k.pages(m));
    if (iova < 0) return FAIL;
    k.setIova(m, iova);
    if (k.mapSegments(m, largePages)) return npFlush && k.cachingMode ? flushAfterMap(k, m, MAP_NP_FLUSH) : DONE;
  }
  if (phase !== MAP_FAIL_WAIT) return unmapAndQueueSync(k, dev, k.iova(m), k.pages(m)) ? MAP_FAIL_WAIT : MAP_CLEANUP;
  if (!k.completionDone()) return MAP_FAIL_WAIT;
  k.freeDetachedTables();
  k.freeIova(dev, k.iova(m), k.pages(m));
  return FAIL;
}

export const strict: Policy = {
  name: "strict",
  summary: "unmap clears PTEs, invalidates IOTLB, waits, then frees the IOVA",
  claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability"],
  attach: () => "translate",
  map: mapWithIova,
  unmap(k: Kernel, m: number, phase: number): number {
    const dev = k.dev(m);
    if (phase === UNMAP_START) return unmapStart(k, m, linuxPdeRule(k));
    if (!k.completionDone()) return UNMAP_WAIT;
    k.freeDetachedTables();
    k.freeIova(dev, k.iova(m), k.pages(m));
    return DONE;
  },
};

/**
 * vfio: the VFIO type1 IOMMU backend as the baseline of Albes' Morsel IOMMU work
 * (docs/reference/morsels.md; Linux drivers/vfio/vfio_iommu_type1.c). VFIO_IOMMU_MAP_DMA takes the
 * container lock (iommu->lock in vfio_dma_do_map), pins every page of the
 * buffer (vfio_pin_pages_remote) and maps each contiguous pinned run
 * (vfio_iommu_map -> iommu_map), which the IOMMU core splits into the largest
 * pages the IOMMU offers that the IOVA and the physical address are both
 * aligned to (iommu_pgsize over AMD_IOMMU_PGSIZES: every power of two from
 * 4 KiB; on VT-d 4 KiB, 2 MiB, 1 GiB). VFIO_IOMMU_UNMAP_DMA takes the lock,
 * unmaps, syncs the IOTLB (iommu_iotlb_sync: INVALIDATE_IOMMU_PAGES with PDE,
 * then COMPLETION_WAIT) and only then unpins every page (vfio_unmap_unpin).
 * Pinning and unpinning grow linearly with the buffer; the page-table writes
 * with the number of pages the run splits into. `vfio-4k` maps every 4 KiB
 * page with its own PTE (memory without huge pages, or an IOMMU offering
 * 4 KiB only). Each lock acquisition counts `containerLocks`.
 *
 * In the model the pinned pages are the driver's buffer (the DMA API's
 * mapping), not a user process's memory; the mechanism, and its costs, are
 * the same.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { linuxPdeRule, MAP_START, mapWithIova, strict, UNMAP_START, unmapStart } from "./strict.ts";

/**
 * Pin every page of mapping `m`, then map it as strict does
 * (vfio_pin_map_dma: vfio_pin_pages_remote, then iommu_map); a map that
 * fails (no IOVA, or out of table memory after its undo completed) drops
 * the pins.
 */
export function pinAndMap(k: Kernel, m: number, phase: number, largePages = false): number {
  if (phase === MAP_START && !k.pinMapping(m)) return FAIL;
  const r = mapWithIova(k, m, phase, true, largePages);
  if (r === FAIL) k.unpinMapping(m);
  return r;
}

/** The rest of strict's unmap, then unpin every page (vfio_unmap_unpin: only after the IOTLB sync completed). */
export function finishUnmapAndUnpin(k: Kernel, m: number, phase: number): number {
  const r = strict.unmap(k, m, phase);
  if (r === DONE) k.unpinMapping(m);
  return r;
}

function makeVfio(name: string, largePages: boolean, summary: string): Policy {
  return {
    name,
    summary,
    claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability"],
    attach: () => "translate",
    map(k: Kernel, m: number, phase: number): number {
      if (phase === MAP_START) k.count("containerLocks");
      return pinAndMap(k, m, phase, largePages);
    },
    unmap(k: Kernel, m: number, phase: number): number {
      if (phase !== UNMAP_START) return finishUnmapAndUnpin(k, m, phase);
      k.count("containerLocks");
      return unmapStart(k, m, linuxPdeRule(k));
    },
  };
}

export const vfio: Policy = makeVfio("vfio", true,
  "VFIO type1: pin every page, map runs with the largest aligned IOMMU pages; unmap, invalidate, wait, unpin every page");
/** VFIO with 4 KiB IOMMU pages only: one PTE per page (the morsel-vs-vfio experiment's second VFIO curve). */
export const vfio4k: Policy = makeVfio("vfio-4k", false,
  "VFIO type1 with 4 KiB IOMMU pages: pin and map every page; unmap every page, invalidate, wait, unpin every page");

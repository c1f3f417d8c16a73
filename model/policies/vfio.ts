/**
 * vfio: the VFIO type1 IOMMU backend as the baseline of the Morsel seeds
 * (Linux drivers/vfio/vfio_iommu_type1.c). VFIO_IOMMU_MAP_DMA takes the
 * container lock (iommu->lock in vfio_dma_do_map), pins every page of the
 * buffer (vfio_pin_pages_remote) and maps every page (vfio_iommu_map, one
 * IOMMU PTE per 4 KiB page here). VFIO_IOMMU_UNMAP_DMA takes the lock,
 * unmaps every page, syncs the IOTLB (iommu_iotlb_sync: INVALIDATE_IOMMU_PAGES
 * with PDE, then COMPLETION_WAIT) and only then unpins every page
 * (vfio_unmap_unpin). Map and unmap therefore grow linearly with the buffer.
 * Each lock acquisition counts `containerLocks`.
 *
 * In the model the pinned pages are the driver's buffer (the DMA API's
 * mapping), not a user process's memory; the mechanism, and its costs, are
 * the same.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { UNMAP_START, UNMAP_WAIT, unmapAndQueueSync, unmapStart } from "./strict.ts";

/** Map phases: start; a failed map waits for its undo to complete; the undo could not be queued yet. */
export const VFIO_MAP_START = 0, VFIO_MAP_FAIL_WAIT = 1, VFIO_MAP_CLEANUP = 2;

export function vfioMap(k: Kernel, m: number, phase: number): number {
  const dev = k.dev(m);
  if (phase === VFIO_MAP_START) {
    k.count("containerLocks");
    const iova = k.allocIova(dev, k.pages(m));
    if (iova < 0) return FAIL;
    k.setIova(m, iova);
    if (!k.pinMapping(m)) {
      k.freeIova(dev, iova, k.pages(m));
      return FAIL;
    }
    if (k.mapSegments(m)) return DONE;
  }
  // Out of table memory part-way: undo what was mapped (unmap, sync), then unpin.
  if (phase !== VFIO_MAP_FAIL_WAIT) return unmapAndQueueSync(k, dev, k.iova(m), k.pages(m)) ? VFIO_MAP_FAIL_WAIT : VFIO_MAP_CLEANUP;
  if (!k.completionDone()) return VFIO_MAP_FAIL_WAIT;
  k.unpinMapping(m);
  k.freeDetachedTables();
  k.freeIova(dev, k.iova(m), k.pages(m));
  return FAIL;
}

export const vfio: Policy = {
  name: "vfio",
  summary: "VFIO type1: pin and map every page; unmap every page, invalidate, wait, unpin every page",
  claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement"],
  attach: () => "translate",
  map: vfioMap,
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) {
      k.count("containerLocks");
      return unmapStart(k, m, "always");
    }
    if (!k.completionDone()) return UNMAP_WAIT;
    k.unpinMapping(m);
    k.freeDetachedTables();
    k.freeIova(k.dev(m), k.iova(m), k.pages(m));
    return DONE;
  },
};

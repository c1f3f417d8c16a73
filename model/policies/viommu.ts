/**
 * viommu: a guest runs Linux's strict policy on an emulated IOMMU in caching
 * mode, and the VMM shadows the guest's I/O page table into the host IOMMU
 * through VFIO (docs/reference/formats.md section 4, "why every guest map exits").
 *
 * - Map: the guest allocates an IOVA and writes its own I/O page-table
 *   entries. With caching mode (VT-d CAP.CM, QEMU VTD_CAP_CM) the guest must
 *   invalidate even after a map ("any software updates to remapping
 *   structures ... requires explicit invalidation", Linux
 *   cache_tag_flush_range_np), so it submits a page-selective invalidation:
 *   writing the emulated queue-tail register DMAR_IQT_REG traps to the VMM
 *   (QEMU vtd_handle_iqt_write) - one VM exit. The VMM walks the guest table
 *   for the range (QEMU vtd_page_walk, in software), pins the pages and maps
 *   them in the host IOMMU (VFIO_IOMMU_MAP_DMA: vfio_pin_pages_remote, then
 *   iommu_map). Only then does the guest's map return.
 * - Unmap: the guest clears its entries and submits invalidation + wait:
 *   one more exit. The VMM walks the range again, finds the entries gone and
 *   unmaps them from the host (VFIO_IOMMU_UNMAP_DMA: iommu_unmap, host IOTLB
 *   invalidation and completion wait, then unpin: vfio_unmap_unpin). The
 *   vCPU stays in the exit until the host's wait completes, so the guest's
 *   unmap returns after the host invalidation, as native strict's does.
 *
 * The model state is the host's: frames are host frames, and the host
 * IOMMU table is the one the device uses. With caching mode the device can
 * only use a translation after the exit has shadowed it, and the guest's
 * table holds exactly the entries the host table holds once each exit
 * returns, so the guest's table is not stored: its writes are counted
 * (iommuPteWrites), and so is the VMM's software walk of it (walkRefs, one
 * reference per guest level per page). Guest-physical = host-physical for the
 * guest's buffers (one VM whose memory is the model's memory).
 *
 * What viommu claims is what strict claims: the host table and its
 * invalidation follow strict's order exactly.
 */
import { type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { linuxPdeRule, MAP_START, UNMAP_START, unmapStart } from "./strict.ts";
import { finishUnmapAndUnpin, pinAndMap } from "./vfio.ts";

/**
 * The guest's write of the emulated invalidation queue tail (DMAR_IQT_REG)
 * exits to the VMM, which walks the guest's I/O page table for `pages`
 * pages in software.
 */
export function exitToVmm(k: Kernel, pages: number, why: string): void {
  k.count("vmExits");
  k.count("walkRefs", pages * k.tx.g.cfg.iommuLevels);
  k.note(`VM exit: the guest wrote the vIOMMU queue register (${why}); the VMM walks its I/O page table for ${pages} page(s)`);
}

export const viommu: Policy = {
  name: "viommu",
  summary: "guest strict through an emulated IOMMU in caching mode: every map and unmap exits to the VMM, which shadows it into the host IOMMU",
  claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability", "vm-confinement"],
  attach: () => "translate",
  map(k: Kernel, m: number, phase: number): number {
    if (phase === MAP_START) {
      // The guest writes its own entries, then its caching-mode invalidation exits.
      k.count("iommuPteWrites", k.pages(m));
      exitToVmm(k, k.pages(m), "map, caching mode");
      // VFIO_IOMMU_MAP_DMA takes the container lock (vfio_dma_do_map), pins, then maps in the host.
      k.count("containerLocks");
    }
    return pinAndMap(k, m, phase);
  },
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase !== UNMAP_START) return finishUnmapAndUnpin(k, m, phase);
    const r = unmapStart(k, m, linuxPdeRule(k)); // the host unmap: iommu_unmap, Linux's IH rule on VT-d
    if (r === UNMAP_START) return UNMAP_START; // the host's command buffer is full: the VMM retries
    k.count("iommuPteWrites", k.pages(m));
    exitToVmm(k, k.pages(m), "unmap: invalidation and wait");
    k.count("containerLocks"); // VFIO_IOMMU_UNMAP_DMA under the container lock (vfio_dma_do_unmap)
    return r;
  },
};

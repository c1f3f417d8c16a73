/**
 * vfio-stepwise: VFIO type1 as it really runs a map, interruptibly
 * (Linux drivers/vfio/vfio_iommu_type1.c vfio_pin_map_dma: it maps the
 * buffer chunk by chunk and calls cond_resched() between chunks). The IOVA is
 * the user's choice (VFIO_IOMMU_MAP_DMA takes any page-aligned IOVA), so a
 * buffer may straddle a leaf table's boundary; the model takes the lowest
 * free run of pages, not size-aligned. The map pins the buffer, then maps one
 * page per step: each page written ends the step (a preemption point), so a
 * device access or an IOMMU walk can happen between two page-table writes.
 * When a page cannot be mapped (no frame for a new table), what was mapped
 * is undone as vfio_pin_map_dma's error path does (vfio_remove_dma ->
 * vfio_unmap_unpin: iommu_unmap, iotlb sync, then unpin) before the map fails.
 * An unmap clears one page per step the same way (vfio_unmap_unpin unmaps
 * chunk by chunk, cond_resched() between), then invalidates once for the
 * whole range, waits, and only then frees the tables and the IOVA and unpins.
 *
 * Not a built-in row of the matrix: the default scope cannot reach a map that
 * fails part-way (its window holds no free run across a table boundary that
 * a one-mapping scope could leave). It is the correct counterpart of
 * vfio-undo-no-invalidate (broken.ts); docs/policies.md has the scope that shows both.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { MAP_FAIL_WAIT, MAP_START, UNMAP_START, UNMAP_WAIT, unmapAndQueueSync } from "./strict.ts";
import { vfio } from "./vfio.ts";

/** Phase of a stepwise map that writes the mapping's IOVA page (phase - MAP_PAGE). */
export const MAP_PAGE = 16;
/** Phase of a failed map whose undo waits for room in the command buffer. */
export const MAP_UNDO = 2;

/** How a failed map undoes what it mapped: as VFIO does (clear, invalidate, wait), or (a bug) clearing only. */
export type UndoRule = "sync" | "no-invalidate";

/** A map that pins, then writes one IOVA page per step; `undo` says how a failure part-way is unwound. */
export function stepwiseMap(k: Kernel, m: number, phase: number, undo: UndoRule): number {
  const dev = k.dev(m);
  let p = phase - MAP_PAGE;
  if (phase === MAP_START) {
    k.count("containerLocks");
    if (!k.pinMapping(m)) return FAIL;
    const iova = k.allocIova(dev, k.pages(m), false);
    if (iova < 0) {
      k.unpinMapping(m);
      return FAIL;
    }
    k.setIova(m, iova);
    p = 0;
  }
  if (p >= 0) {
    if (k.mapSegmentPage(m, p)) return p + 1 === k.pages(m) ? DONE : MAP_PAGE + p + 1;
    if (undo === "no-invalidate") {
      // The bug: the entries are cleared and their tables freed with no invalidation, so a
      // translation a device cached between two of the map's steps survives the failure.
      k.unmapPages(dev, k.iova(m), k.pages(m));
      k.freeDetachedTables();
      k.freeIova(dev, k.iova(m), k.pages(m));
      k.unpinMapping(m);
      return FAIL;
    }
  }
  if (phase !== MAP_FAIL_WAIT) return unmapAndQueueSync(k, dev, k.iova(m), k.pages(m)) ? MAP_FAIL_WAIT : MAP_UNDO;
  if (!k.completionDone()) return MAP_FAIL_WAIT;
  k.freeDetachedTables();
  k.freeIova(dev, k.iova(m), k.pages(m));
  k.unpinMapping(m);
  return FAIL;
}

/** Phase of a stepwise unmap that clears the mapping's IOVA page (phase - UNMAP_PAGE); UNMAP_SYNC: all cleared, the invalidation waits for room. */
export const UNMAP_PAGE = 16, UNMAP_SYNC = 2;

/** An unmap that clears one IOVA page per step, then invalidates the range, waits, frees and unpins. */
export function stepwiseUnmap(k: Kernel, m: number, phase: number): number {
  const dev = k.dev(m);
  if (phase === UNMAP_START) k.count("containerLocks");
  if (phase === UNMAP_START || phase >= UNMAP_PAGE) {
    const p = phase === UNMAP_START ? 0 : phase - UNMAP_PAGE;
    k.unmapPages(dev, k.iova(m) + p, 1);
    if (p + 1 < k.pages(m)) return UNMAP_PAGE + p + 1;
    phase = UNMAP_SYNC;
  }
  if (phase === UNMAP_SYNC) {
    if (k.cmdSpace() < k.invalidationCommands(dev) + 1) return UNMAP_SYNC;
    k.invalidatePages(dev, k.iova(m), k.pages(m), true);
    k.completionWait();
    return UNMAP_WAIT;
  }
  if (!k.completionDone()) return UNMAP_WAIT;
  k.freeDetachedTables();
  k.freeIova(dev, k.iova(m), k.pages(m));
  k.unpinMapping(m);
  return DONE;
}

export const vfioStepwise: Policy = {
  ...vfio,
  name: "vfio-stepwise",
  summary: "VFIO type1 mapping and unmapping one page per step at the user's IOVA; a map failing part-way is unmapped, invalidated and waited for before unpinning",
  map: (k, m, phase) => stepwiseMap(k, m, phase, "sync"),
  unmap: stepwiseUnmap,
};

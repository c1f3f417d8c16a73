/**
 * Cost counters (docs/counters.md; the published cost shapes they must
 * reproduce are in docs/reference/policies.md section 9). The step function increments them as it
 * does the work; nothing is computed on the side. A step's counters are in its
 * observation; an execution's cost is their sum.
 */
export const COUNTERS = [
  "iotlbInvCmds",      // INVALIDATE_IOMMU_PAGES commands queued
  "iotlbInvPages",     // pages those commands cover (all-pages counts the window)
  "atcInvCmds",        // INVALIDATE_IOTLB_PAGES (device ATC) commands queued
  "completionWaits",   // COMPLETION_WAIT commands queued
  "iommuPteWrites",    // IOMMU page-table entry writes by software
  "mmuPteWrites",      // CPU page-table entry writes
  "ptFramesAllocated", // page-table frames allocated (IOMMU and MMU)
  "ptFramesFreed",     // page-table frames freed
  "walkRefs",          // memory references made by page walks (IOMMU and MMU)
  "iotlbHits",
  "iotlbMisses",
  "pins",
  "unpins",
  "bytesCopied",
  "bytesZeroed",       // bytes the CPU cleared (bounce-slot padding)
  "vmExits",
  "tlbShootdowns",     // CPU TLB invalidations of other CPUs (IPIs)
  "metadataBytes",
  "dmaBytes",          // bytes devices moved (the useful work)
  "iommuCmdsExecuted",
  "containerLocks",    // VFIO container lock acquisitions (one per map or unmap ioctl)
] as const;

export type CounterName = (typeof COUNTERS)[number];
export const NUM_COUNTERS = COUNTERS.length;

/** Counter indices, for the hot path: `obs.counters[C.walkRefs] += 3`. */
export const C: { readonly [K in CounterName]: number } = Object.fromEntries(
  COUNTERS.map((n, i) => [n, i]),
) as { readonly [K in CounterName]: number };

export function emptyCounters(): Float64Array {
  return new Float64Array(NUM_COUNTERS);
}

export function countersToRecord(c: ArrayLike<number>): Record<CounterName, number> {
  const r = {} as Record<CounterName, number>;
  COUNTERS.forEach((n, i) => (r[n] = c[i]));
  return r;
}

/**
 * damn: DMA-Aware Malloc for Networking (Markuze, Smolyar, Morrison, Tsafrir,
 * "DAMN: Overhead-Free IOMMU Protection for Networking", ASPLOS'18; Markuze,
 * "The Case for Memory Segregation", LPC 2021). The driver's DMA buffers come
 * from a per-device segregated pool (model/allocators/segregated-pool.ts) of
 * compound pages mapped for the device once and for good; only I/O data is
 * ever placed there. dma_map of a pool buffer returns its permanent IOVA (a
 * lookup in the page's own metadata); dma_unmap does nothing: no page-table
 * update, no invalidation, no copy on the data path. The kernel copies data
 * out only when it consumes it (DAMN merges that into the copy to user space
 * that happens anyway), so the model counts none. When the driver frees a
 * buffer, a put drops its pages' references; a page without references stays
 * in the pool, mapped, for the next buffer.
 *
 * Buffers the pool cannot serve (larger than a compound page; coherent
 * allocations) are ordinary page blocks mapped and unmapped as strict does.
 *
 * Known limits, from the literature (docs/policies.md): the device can still
 * modify pool data after the kernel has checked it (Thunderclap, NDSS'19), and
 * a growing pool brings back IOTLB and page-walk-cache misses (F&S, SOSP'24).
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { PAGE_SIZE } from "../config.ts";
import { type PoolLayout, POOL_WORDS, poolWordNames, poolAlloc, poolFrame, poolIova, poolPut, type PutRule } from "../allocators/segregated-pool.ts";
import { mapWithIova, strict } from "./strict.ts";

/** DAMN's compound pages: 64 KiB (order 4), scaled down to the scope's IOVA window and buddy blocks. */
const POOL_ORDER = 4;
/** At most 16 compound pages (1 MiB) per device, and half the IOVA window. */
const MAX_COMPOUND = 16;

export function damnLayout(k: Kernel, zero = true): PoolLayout {
  let order = Math.min(POOL_ORDER, k.maxOrder);
  while (order > 0 && 1 << order > k.windowPages / 2) order--;
  const maxCompound = Math.max(1, Math.min(MAX_COMPOUND, Math.floor(k.windowPages / 2) >> order));
  return { base: 0, order, maxCompound, zero };
}

/**
 * Whether mapping `m` can use its buffers' permanent pool IOVAs: every
 * segment lies in its device's pool and the segments' pages sit at
 * consecutive pool IOVAs. A mapping has one IOVA range whose segments follow
 * each other (Kernel.mapSegments; Linux iommu_dma_map_sg concatenates them
 * too), so a scatter list whose fragments are carved from one page, or from
 * pool pages that are not IOVA neighbours, would hand the device an address
 * range reaching other buffers and unmapped IOVAs; it takes strict's map.
 * Map and unmap both ask this, and its answer cannot change while the
 * mapping is live (segments and pool IOVAs are fixed).
 */
export function poolMapped(k: Kernel, m: number): boolean {
  const dev = k.dev(m);
  const n = k.segments(m);
  if (n === 0) return false;
  let v = poolIova(k, k.segFirstFrame(m, 0));
  if (v < 0) return false;
  for (let i = 0; i < n; i++) {
    const first = k.segFirstFrame(m, i);
    for (let p = 0; p < k.segPages(m, i); p++, v++) {
      if (!poolFrame(k, dev, first + p) || poolIova(k, first + p) !== v) return false;
    }
  }
  return true;
}

/**
 * The damn policy, with the given put rule (a broken variant frees emptied
 * pool pages to the page allocator) and pool zeroing (a broken variant maps
 * new pool pages with their previous owner's data in them).
 */
export function makeDamn(name: string, summary: string, put: PutRule, zero = true): Policy {
  return {
    name,
    summary,
    // Not byte-confinement: a pool buffer the driver has unmapped but still holds stays mapped for the device (docs/policies/damn.md).
    claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "stale-window", "no-leak", "availability", "leftover-data"],
    stateWords: POOL_WORDS * 16,
    cpuSymmetric: true, // per-device pools (allocators/segregated-pool.ts), no per-CPU cache; no handler reads Kernel.ctx
    perDeviceState: true, // a pool per device: the race scope gives it two devices
    stateWordNames: () => poolWordNames(16),
    attach: () => "translate",
    allocBuffer(k: Kernel, m: number, bytes: number): boolean {
      const L = damnLayout(k, zero);
      if (bytes > PAGE_SIZE << L.order) return k.allocDriverBuffer(m, bytes, true); // not a pool buffer: whole pages
      const addr = poolAlloc(k, L, k.dev(m), bytes);
      if (addr < 0) return false;
      if (k.addPoolBuffer(m, addr, bytes)) return true;
      poolPut(k, L, k.dev(m), addr, bytes, put); // no room for another segment: give it back
      return false;
    },
    freeBuffer(k: Kernel, m: number): void {
      const L = damnLayout(k, zero);
      const dev = k.dev(m);
      for (let i = 0; i < k.segments(m); i++) {
        if (!k.segLive(m, i) || !poolFrame(k, dev, k.segFrame(m, i))) continue;
        const [addr, size] = k.segObject(m, i); // the whole pool buffer, also when only a range of it was mapped
        poolPut(k, L, dev, addr, size, put);
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
      if (phase === 0 && poolMapped(k, m)) return DONE;
      return strict.unmap(k, m, phase);
    },
  };
}

export const damn: Policy = makeDamn(
  "damn",
  "DMA-aware allocator: per-device pools permanently mapped, only I/O data ever placed there",
  "keep-in-pool",
);

/**
 * bounce: Linux's path for untrusted devices (drivers/iommu/dma-iommu.c with
 * dev_use_swiotlb): strict invalidation, plus bouncing through swiotlb any
 * buffer that does not fill whole granules, so that the device never sees the
 * other data sharing a buffer's page.
 *
 * Map (iommu_dma_map_page): a segment whose start or size is not
 * granule-aligned (iova_offset(phys | size) != 0) is bounced:
 * swiotlb_tbl_map_single takes a slot from the bounce pool that keeps the
 * buffer's offset in its granule (alloc_align_mask = iova_mask), copies the
 * buffer in (always, whatever the direction, since Linux v5.18's "swiotlb:
 * rework 'fix info leak with DMA_FROM_DEVICE'", aa6f8dcbab47: a partial device
 * write must not expose stale slot data to the driver), and
 * iommu_dma_map_swiotlb zeroes the slot's pre- and post-padding ("Untrusted
 * devices should not see padding areas with random leftover kernel data").
 * The IOMMU then maps the slot instead of the buffer. Aligned segments are
 * mapped as strict maps them.
 *
 * Unmap (iommu_dma_unmap_page): the strict unmap (clear, invalidate, wait),
 * and only then swiotlb_tbl_unmap_single copies the slot back into the
 * buffer when the device may have written it (DMA_FROM_DEVICE or
 * BIDIRECTIONAL) and releases the slot.
 *
 * Limits: a bounced segment larger than swiotlb_max_mapping_size (128 slots
 * of 2 KiB = 256 KiB; IO_TLB_SEGSIZE x IO_TLB_SIZE) or one that finds no free
 * slot fails the map (DMA_MAPPING_ERROR: "swiotlb buffer is full"), and the
 * policy advertises 256 KiB as its largest mapping (dma_max_mapping_size for
 * an untrusted device), which the cost workloads honour by splitting I/O.
 *
 * Model simplifications (docs/policies.md): the pool is page-granular (a slot
 * never shares a granule with another slot, which reference/policies.md
 * leaves UNVERIFIED for Linux's 2 KiB slots); the pool is sized to the scope
 * like shadow's; all segments of one mapping share one IOVA range.
 *
 * Policy words: the pool's first frame + 1, then a bitmap of pool pages in use.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { PAGE_SIZE } from "../config.ts";
import { linuxPdeRule, mapWithIova, UNMAP_START, UNMAP_WAIT, unmapStart } from "./strict.ts";
import { pagesOrder } from "../objects.ts";
import { bitmapWords, findFreePages, firstUsedPage, markPages, poolPages } from "../allocators/page-bitmap.ts";

/** Linux include/linux/swiotlb.h: IO_TLB_SEGSIZE (128) slots of IO_TLB_SIZE (2 KiB): the largest bounce. */
export const SWIOTLB_MAX_MAPPING_SIZE = 128 * 2048;

const MAX_POOL_PAGES = 128; // two largest mappings; Linux's default pool is 64 MiB (IO_TLB_DEFAULT_SIZE)
const POOL = 0, BITMAP = 1;
const WORDS = BITMAP + bitmapWords(MAX_POOL_PAGES);

/** Bounce-pool pages (allocators/page-bitmap.ts poolPages). */
function bouncePoolPages(k: Kernel): number {
  return poolPages(k, MAX_POOL_PAGES);
}

/** Whether segment i must be bounced: Linux iova_offset(iovad, phys | size) != 0. */
function unaligned(k: Kernel, m: number, i: number): boolean {
  return ((k.segOffset(m, i) | k.segLen(m, i)) & (PAGE_SIZE - 1)) !== 0;
}

/** Releases the bounce slots of mapping `m` (after the device can no longer reach them). */
function releaseSlots(k: Kernel, m: number): void {
  const pool = k.pol(POOL) - 1;
  for (let i = 0; i < k.segments(m); i++) {
    const slot = k.segBounce(m, i);
    if (slot < 0) continue;
    k.releaseBounceSlot(m, i);
    markPages(k, BITMAP, slot - pool, k.segPages(m, i), false);
  }
}

export interface BounceVariant {
  /** Zero the slot padding (false: broken, the device reads an earlier mapping's leftovers). */
  readonly zeroPadding: boolean;
  /** Map the bounce slot (false: broken, the IOMMU maps the original pages, as if there were no bounce). */
  readonly mapSlot: boolean;
  /** Broken: the slot is never marked in use, so the next bounce takes the same slot while this buffer still owns it. */
  readonly shareSlots?: boolean;
}

/** The bounce policy, or a broken variant of it. */
export function makeBounce(name: string, summary: string, v: BounceVariant): Policy {
  return {
    name,
    summary,
    claims: ["page-confinement", "byte-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability", "leftover-data"],
    stateWords: WORDS,
    cpuSymmetric: true, // the pool words hold frames and a bitmap, no CPU; no handler reads Kernel.ctx
    stateWordNames: () => ["bounce pool first frame + 1", ...Array.from({ length: WORDS - BITMAP }, (_, i) => `bounce pool pages in use [${32 * i}..${32 * i + 31}]`)],
    maxMappingBytes: SWIOTLB_MAX_MAPPING_SIZE,
    attach: () => "translate",
    held(k: Kernel): string | null {
      const p = k.pol(POOL) === 0 ? -1 : firstUsedPage(k, BITMAP, bouncePoolPages(k));
      return p < 0 ? null : `bounce slot frame ${k.pol(POOL) - 1 + p} is still marked in use`;
    },
    boot(k: Kernel): void {
      const f = k.allocBouncePool(pagesOrder(bouncePoolPages(k) * PAGE_SIZE));
      if (f >= 0) k.setPol(POOL, f + 1); // no pool: every bounce fails (DMA_MAPPING_ERROR)
    },
    map(k: Kernel, m: number, phase: number): number {
      if (phase === 0) {
        const pool = k.pol(POOL) - 1;
        for (let i = 0; i < k.segments(m); i++) {
          if (!unaligned(k, m, i)) continue;
          const want = k.segPages(m, i);
          const first = pool < 0 || k.segLen(m, i) > SWIOTLB_MAX_MAPPING_SIZE ? -1 : findFreePages(k, BITMAP, bouncePoolPages(k), want);
          if (first < 0) {
            releaseSlots(k, m);
            return FAIL;
          }
          k.copy(k.segLen(m, i)); // swiotlb_bounce(..., DMA_TO_DEVICE) in swiotlb_tbl_map_single
          if (!v.mapSlot) {
            k.note(`BROKEN: segment ${i} copied to a bounce slot, but the IOMMU maps the original pages`);
            continue;
          }
          if (v.shareSlots !== true) markPages(k, BITMAP, first, want, true);
          k.setSegBounce(m, i, pool + first);
          if (v.zeroPadding) k.zeroBouncePadding(m, i);
          k.note(`swiotlb: segment ${i} (${k.segLen(m, i)} bytes) bounced through slot frame ${pool + first}` +
            `${want > 1 ? `+${want}` : ""}, copied in${v.zeroPadding ? ", padding zeroed" : " (BROKEN: padding not zeroed)"}`);
        }
      }
      const r = mapWithIova(k, m, phase);
      if (r === FAIL) releaseSlots(k, m);
      return r;
    },
    unmap(k: Kernel, m: number, phase: number): number {
      if (phase === UNMAP_START) return unmapStart(k, m, linuxPdeRule(k));
      if (!k.completionDone()) return UNMAP_WAIT;
      k.freeDetachedTables();
      k.freeIova(k.dev(m), k.iova(m), k.pages(m));
      for (let i = 0; i < k.segments(m); i++) {
        if (k.segBounce(m, i) < 0 || !k.deviceWrites(m)) continue;
        k.copy(k.segLen(m, i));
        k.note(`swiotlb: segment ${i} copied back from slot frame ${k.segBounce(m, i)}`);
      }
      releaseSlots(k, m);
      return DONE;
    },
  };
}

export const bounce: Policy = makeBounce(
  "bounce",
  "strict + swiotlb bouncing of buffers that are not granule-aligned, padding zeroed",
  { zeroPadding: true, mapSlot: true },
);

/**
 * shadow: permanently mapped shadow DMA buffers (Markuze, Morrison, Tsafrir,
 * "True IOMMU Protection from DMA Attacks: When Copy Is Faster Than Zero
 * Copy", ASPLOS'16). At boot each device gets a pool of shadow pages, mapped
 * for it once and never unmapped or invalidated. dma_map copies the driver's
 * buffer into free shadow pages (when the device will read it) and hands out
 * their IOVA; dma_unmap copies the data back (when the device wrote it) and
 * frees the shadow pages. The device only ever sees shadow pages, which hold
 * nothing but its own I/O data: sub-page protection with no invalidation.
 *
 * Policy words per device d, from d * WORDS: first IOVA page of the pool,
 * first pool frame, then a bitmap of the shadow pages in use.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { ROLE_SHADOW } from "../physical-memory.ts";
import { PAGE_SIZE } from "../config.ts";
import { pagesOrder } from "../objects.ts";
import { bitmapWords, findFreePages, firstUsedPage, markPages, poolPages } from "../allocators/page-bitmap.ts";

const MAX_PAGES = 256; // 1 MiB: the largest buffer of the nvme-read workload
const IOVA = 0, FRAME = 1, BITMAP = 2;
const WORDS = BITMAP + bitmapWords(MAX_PAGES);

/** Shadow pages per device (allocators/page-bitmap.ts poolPages). */
function shadowPages(k: Kernel): number {
  return poolPages(k, MAX_PAGES);
}

export const shadow: Policy = {
  name: "shadow",
  summary: "permanently mapped shadow buffers, copy in and out, never unmapped",
  claims: ["page-confinement", "byte-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability", "leftover-data"],
  stateWords: WORDS * 16,
  cpuSymmetric: true, // per-device pool words, no CPU; no handler reads Kernel.ctx
  perDeviceState: true, // shadow buffers per device: the race scope gives it two devices
  stateWordNames: () => Array.from({ length: 16 }, (_, d) => [
    `dev${d} shadow pool first IOVA page`, `dev${d} shadow pool first frame`,
    ...Array.from({ length: WORDS - BITMAP }, (_, i) => `dev${d} shadow pages in use [${32 * i}..${32 * i + 31}]`),
  ]).flat(),
  attach: () => "translate",
  held(k: Kernel): string | null {
    for (let dev = 0; dev < k.devices; dev++) {
      const p = k.pol(dev * WORDS + IOVA) === 0 ? -1 : firstUsedPage(k, dev * WORDS + BITMAP, shadowPages(k));
      if (p >= 0) return `shadow page frame ${k.pol(dev * WORDS + FRAME) + p} of device ${dev} is still marked in use`;
    }
    return null;
  },
  boot(k: Kernel): void {
    const n = shadowPages(k);
    for (let dev = 0; dev < k.devices; dev++) {
      const frame = k.allocPoolFrames(dev, pagesOrder(n * PAGE_SIZE), ROLE_SHADOW, true);
      const iova = k.allocIova(dev, n);
      if (frame < 0 || iova < 0) continue; // no pool: every map fails (DMA_MAPPING_ERROR)
      for (let i = 0; i < n; i++) k.mapPage(dev, iova + i, frame + i, true, true);
      k.setPol(dev * WORDS + IOVA, iova);
      k.setPol(dev * WORDS + FRAME, frame);
    }
  },
  map(k: Kernel, m: number): number {
    const dev = k.dev(m);
    const base = k.pol(dev * WORDS + IOVA);
    if (base === 0) return FAIL;
    const want = k.pages(m);
    const n = shadowPages(k);
    const first = findFreePages(k, dev * WORDS + BITMAP, n, want);
    if (first < 0) return FAIL; // no free shadow pages: DMA_MAPPING_ERROR
    markPages(k, dev * WORDS + BITMAP, first, want, true);
    k.setIova(m, base + first);
    if (k.deviceReads(m)) k.copy(k.bytes(m)); // copy in: the device will read the shadow
    return DONE;
  },
  unmap(k: Kernel, m: number): number {
    const dev = k.dev(m);
    if (k.deviceWrites(m)) k.copy(k.bytes(m)); // copy out: the device wrote the shadow
    markPages(k, dev * WORDS + BITMAP, k.iova(m) - k.pol(dev * WORDS + IOVA), k.pages(m), false);
    return DONE;
  },
};

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

const MAX_PAGES = 256; // 1 MiB: the largest buffer of the nvme-read workload
const IOVA = 0, FRAME = 1, BITMAP = 2;
const WORDS = BITMAP + MAX_PAGES / 32;

/**
 * Shadow pages per device: a power of two, at most MAX_PAGES, at most a
 * quarter of the IOVA window (small scopes keep memory for everything else),
 * and one buddy block.
 */
export function shadowPages(k: Kernel): number {
  let n = MAX_PAGES;
  while (n > 1 && (n > k.windowPages / 4 || n > 1 << k.maxOrder)) n >>= 1;
  return n;
}

function order(n: number): number {
  let o = 0;
  while (1 << o < n) o++;
  return o;
}

function used(k: Kernel, dev: number, page: number): boolean {
  return (k.pol(dev * WORDS + BITMAP + (page >>> 5)) & (1 << (page & 31))) !== 0;
}

function mark(k: Kernel, dev: number, first: number, count: number, inUse: boolean): void {
  for (let p = first; p < first + count; p++) {
    const w = dev * WORDS + BITMAP + (p >>> 5);
    const bit = 1 << (p & 31);
    k.setPol(w, inUse ? k.pol(w) | bit : k.pol(w) & ~bit);
  }
}

export const shadow: Policy = {
  name: "shadow",
  summary: "permanently mapped shadow buffers, copy in and out, never unmapped",
  claims: ["page-confinement", "byte-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety"],
  stateWords: WORDS * 16,
  attach: () => "translate",
  boot(k: Kernel): void {
    const n = shadowPages(k);
    for (let dev = 0; dev < k.devices; dev++) {
      const frame = k.allocPoolFrames(dev, order(n), ROLE_SHADOW);
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
    for (let first = 0; first + want <= n; first++) {
      let free = true;
      for (let p = first; p < first + want && free; p++) free = !used(k, dev, p);
      if (!free) continue;
      mark(k, dev, first, want, true);
      k.setIova(m, base + first);
      if (k.deviceReads(m)) k.copy(k.bytes(m)); // copy in: the device will read the shadow
      return DONE;
    }
    return FAIL; // no free shadow pages: DMA_MAPPING_ERROR
  },
  unmap(k: Kernel, m: number): number {
    const dev = k.dev(m);
    if (k.deviceWrites(m)) k.copy(k.bytes(m)); // copy out: the device wrote the shadow
    mark(k, dev, k.iova(m) - k.pol(dev * WORDS + IOVA), k.pages(m), false);
    return DONE;
  },
};

/**
 * Geometry: the sizes and offsets of every state component, derived once from
 * the configuration. The model state is a handful of int32 word arrays whose layout
 * is fixed by the geometry, so a state is canonical data: two equal states are
 * equal word for word, which is what fingerprinting needs.
 */
import { type ModelConfig } from "./config.ts";

/** Components of the state, each a word array copied on first write in a step. */
export const HDR = 0, FRAMES = 1, OBJECTS = 2, PTMEM = 3, DTE = 4, IOTLB = 5, PDEC = 6, CMDQ = 7,
  CALLS = 8, MAPS = 9, FQ = 10, IOVA = 11, MMU = 12, POL = 13, ATC = 14;
export const NUM_COMPONENTS = 15;
export const COMPONENT_NAMES = ["hdr", "frames", "objects", "ptmem", "dte", "iotlb", "pdec", "cmdq", "calls", "maps", "fq", "iova", "mmu", "pol", "atc"] as const;

/** Words per record. */
export const FRAME_W = 4;
export const OBJ_W = 4;
export const PT_W = 3;
export const DTE_W = 4;
export const IOTLB_W = 2;
export const CMD_W = 4;
export const CALL_W = 4;
export const SEG_MAX = 4;
export const SEG_W = 5;
export const MAP_W = 4 + SEG_MAX * SEG_W;
export const FQ_W = 3;

/** HDR words. */
export const H_TIMER = 0;        // remaining ms of the policy timer; 0 = not armed; -1 = expired, pending
export const H_KERNEL_PML4 = 1;  // frame of the kernel's top-level page table
export const H_USER_PML4 = 2;    // frame of the user process's top-level page table
export const HDR_WORDS = 3;

/** Words of each domain's flush-queue block before its rings (flush-queue.ts; Linux struct iommu_dma_cookie). */
export const FQD_STARTED = 0;   // flushes started (Linux fq_flush_start_cnt), normalised
export const FQD_FINISHED = 1;  // flushes finished (Linux fq_flush_finish_cnt), normalised
export const FQD_TIMER = 2;     // the domain's flush timer (Linux fq_timer): 0 off, > 0 ms left, -1 expired, pending
export const FQD_HDR = 3;

export interface Geometry {
  readonly cfg: ModelConfig;
  /** The IOMMU is Intel VT-d (cfg.iommu "vtd"), read once here so the step never compares strings. */
  readonly vtd: boolean;
  /** VT-d caching mode (cfg.cachingMode). */
  readonly cachingMode: boolean;
  /** Execution contexts: one per CPU, plus the timer (softirq/kworker) context numbered `cpus`. */
  readonly contexts: number;
  readonly timerCtx: number;
  /** IOVA window per domain, in pages, and its first page. */
  readonly winBase: number;
  readonly winPages: number;
  readonly bitmapWords: number;
  /** Page-table entry pool capacity (entries). */
  readonly ptCapacity: number;
  /** Directory-entry cache: for a table level L (2..levels), the first
   * directory prefix of the window, how many prefixes, and the slot offset of
   * level L within one domain's block. */
  readonly pdecFirst: readonly number[];
  readonly pdecCount: readonly number[];
  readonly pdecOffset: readonly number[];
  readonly pdecPerDomain: number;
  readonly fqCapacity: number;
  readonly fqRingWords: number;
  /** Words of one domain's flush-queue block: FQD_HDR, then one ring per CPU. */
  readonly fqDomainWords: number;
  /** Initial sizes of each component, in words. */
  readonly sizes: readonly number[];
  /** Policy-private words. */
  readonly polWords: number;
}

/** Bits of the IOVA page number consumed below a table at `level`: a table at
 * level L has entries each spanning 2^(9*(L-1)) pages. */
export function levelShift(level: number): number {
  return 9 * (level - 1);
}

export function makeGeometry(cfg: ModelConfig, polWords = 0): Geometry {
  const contexts = cfg.cpus + 1;
  const winBase = cfg.iovaBasePfn;
  const winPages = cfg.iovaPages;
  const pdecFirst: number[] = [];
  const pdecCount: number[] = [];
  const pdecOffset: number[] = [];
  let perDomain = 0;
  for (let level = 0; level <= cfg.iommuLevels; level++) {
    if (level < 2) { pdecFirst.push(0); pdecCount.push(0); pdecOffset.push(0); continue; }
    const s = levelShift(level);
    const first = Math.floor(winBase / 2 ** s);
    const last = Math.floor((winBase + winPages - 1) / 2 ** s);
    pdecFirst.push(first);
    pdecCount.push(last - first + 1);
    pdecOffset.push(perDomain);
    perDomain += last - first + 1;
  }
  // Directory entries a domain can need: one per cached prefix; leaves: the window.
  const iommuEntries = cfg.devices * (winPages + perDomain);
  // Kernel direct map (PML4, PDPT, one PD entry per 1 GiB... one PS entry per 2 MiB)
  // plus the process: kernel PML4 entry copy, three directory entries, user PTEs.
  const mmuEntries = 2 + Math.ceil(cfg.frames / 512) + 1 + 3 + cfg.userPages +
    // Guest memory kept out of the direct map splits its 2 MiB entries into 4 KiB ones (memory-regions.ts).
    (cfg.guestMemory !== undefined && cfg.guestMemory !== "ordinary" ? cfg.frames : 0);
  const ptCapacity = iommuEntries + mmuEntries + 8;
  // A ring is per domain, and each entry holds at least one of its window pages until released.
  const fqCapacity = Math.min(cfg.fqSize, winPages);
  const fqRingWords = 1 + fqCapacity * FQ_W;
  const fqDomainWords = FQD_HDR + cfg.cpus * fqRingWords;
  const bitmapWords = Math.ceil(winPages / 32);
  const sizes = new Array<number>(NUM_COMPONENTS).fill(0);
  sizes[HDR] = HDR_WORDS;
  sizes[FRAMES] = cfg.frames * FRAME_W + cfg.maxOrder + 1;
  sizes[OBJECTS] = 1 + cfg.maxObjects * OBJ_W;
  sizes[PTMEM] = 1 + ptCapacity * PT_W;
  // AMD: one device table entry per device. VT-d: one context entry per
  // device, then the root entry of bus 0, then the context cache (one cached
  // context entry per device; model/vtd-context.ts).
  const vtd = cfg.iommu === "vtd";
  sizes[DTE] = cfg.devices * DTE_W + (vtd ? DTE_W + cfg.devices * DTE_W : 0);
  sizes[IOTLB] = cfg.devices * winPages * IOTLB_W;
  sizes[PDEC] = cfg.devices * perDomain;
  sizes[CMDQ] = 2 + cfg.cmdQueueEntries * CMD_W + contexts;
  sizes[CALLS] = contexts * CALL_W;
  sizes[MAPS] = cfg.maxMappings * MAP_W;
  sizes[FQ] = cfg.devices * fqDomainWords;
  // Per domain: the allocated pages, then (after every domain's) the pages held back under a
  // table being torn down (iova-allocator.ts reserveUnderTable); then, per domain, the rounding
  // tails of size-aligned allocations (alloc_iova_fast's roundup_pow_of_two).
  sizes[IOVA] = 3 * cfg.devices * bitmapWords;
  sizes[MMU] = cfg.cpus * cfg.userPages + cfg.cpus;
  sizes[POL] = polWords;
  // The devices' own translation caches (PCIe ATS ATC), laid out like the IOTLB.
  sizes[ATC] = cfg.ats === true ? cfg.devices * winPages * IOTLB_W : 0;
  return {
    cfg, vtd, cachingMode: vtd && cfg.cachingMode === true, contexts, timerCtx: cfg.cpus, winBase, winPages, bitmapWords, ptCapacity,
    pdecFirst, pdecCount, pdecOffset, pdecPerDomain: perDomain, fqCapacity, fqRingWords, fqDomainWords, sizes, polWords,
  };
}

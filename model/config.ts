/**
 * The configuration of one modelled machine: how much of everything exists.
 * Small by default, because every run and every exhaustive search explores it
 * (the small-scope hypothesis: most isolation bugs show up with a handful of
 * frames, one or two devices and a few IOVA pages).
 */
export interface ModelConfig {
  /** Physical 4 KiB frames. At most 4096. */
  readonly frames: number;
  /** CPUs that run DMA API calls. Each has its own lazy flush queue. */
  readonly cpus: number;
  /** PCI devices (device i is attached to IOMMU domain i). */
  readonly devices: number;
  /** IOVA pages each domain's allocator hands out (the modelled IOVA window). */
  readonly iovaPages: number;
  /** First IOVA page number of the window. The default straddles a 2 MiB
   * boundary so that two last-level tables (and their directory entries) are
   * in play. */
  readonly iovaBasePfn: number;
  /** AMD IOMMU v1 paging mode: Linux starts at PAGE_MODE_3_LEVEL. */
  readonly iommuLevels: number;
  /** Per-CPU flush-queue capacity. Linux drivers/iommu/dma-iommu.c IOVA_DEFAULT_FQ_SIZE 256. */
  readonly fqSize: number;
  /** Flush-queue timeout in ms of model time. Linux IOVA_DEFAULT_FQ_TIMEOUT 10. */
  readonly fqTimeoutMs: number;
  /** Live DMA mappings the model tracks at once (driver buffers in flight). */
  readonly maxMappings: number;
  /** Live allocated objects (slab objects and page blocks) the model tracks. */
  readonly maxObjects: number;
  /** Entries in the IOMMU command buffer ring. Linux CMD_BUFFER_SIZE 8192 / 16 = 512. */
  readonly cmdQueueEntries: number;
  /** Largest buddy order. */
  readonly maxOrder: number;
  /** Whole pages of the one modelled user process (virtual pages 0..userPages-1). */
  readonly userPages: number;
  /** Reclaim an IOMMU page-table frame as soon as an unmap leaves it empty.
   * More aggressive than AMD's io_pgtable (which keeps tables) and like
   * VT-d's freelist for fully covered ranges: it puts freed table frames in
   * play, which is what pt-page-safety is about. */
  readonly reclaimEmptyTables: boolean;
  /** Devices are untrusted (Linux pci_dev->untrusted: behind an external-facing
   * port). Linux then never uses passthrough or lazy for them and never enables
   * ATS; the model's devices, as adversaries, also ignore invalidations of their
   * own ATC and may forge translated requests. Absent = false. */
  readonly untrusted?: boolean;
  /** ATS is granted: the device table entry enables the device's IOTLB (ATC)
   * and translated requests are let through (unless ACS blocks them). Absent = false. */
  readonly ats?: boolean;
  /** PCIe ACS Translation Blocking on the device's port: translated requests
   * are rejected (Linux sets PCI_ACS_TB for untrusted or external-facing ports). Absent = false. */
  readonly acsTb?: boolean;
  /** A region of guest memory (a VM's RAM) of `guestFrames` frames, booted
   * as "ordinary" (System RAM in the kernel direct map), "devdax" (pageless
   * device-dax memory, never in the direct map) or "guest-memfd" (guest_memfd
   * with its frames removed from the direct map). Absent = no guest memory.
   * See model/memory-regions.ts. */
  readonly guestMemory?: GuestMemoryKind;
  /** Frames of the guest region (1..8); absent = 2. */
  readonly guestFrames?: number;
  /** Which IOMMU translates DMA (model/iommu-kind.ts): "amd-v1" (absent) or
   * "vtd" (Intel VT-d, legacy-mode context entries and second-level tables).
   * `iommuLevels` is the table depth of either: the AMD paging mode, or the
   * VT-d AGAW's level count (3 = 39-bit, 4 = 48-bit, 5 = 57-bit). */
  readonly iommu?: IommuKind;
  /** VT-d caching mode (CAP.CM, bit 7): the IOMMU may cache not-present
   * entries, so software must invalidate after a map too. Only with iommu
   * "vtd". Absent = false. */
  readonly cachingMode?: boolean;
  /** User processes (1..4; absent = 1). With more than one, the user pages are split
   * evenly: process p owns virtual pages p*w..(p+1)*w-1, w = floor(userPages / processes)
   * (model/mmu.ts processOf), and MAIO grants its pool page by page (model/policies/maio.ts). */
  readonly processes?: number;
}

/** User processes of `c` (absent: 1). */
export function processesOf(c: { readonly processes?: number }): number {
  return c.processes ?? 1;
}

/** The modelled IOMMUs (`--iommu`). */
export type IommuKind = "amd-v1" | "vtd";
export const IOMMU_KINDS: readonly IommuKind[] = ["amd-v1", "vtd"];
/** Default table depth per IOMMU: AMD's PAGE_MODE_3_LEVEL start (Linux
 * amd_iommu_pgtable v1 grows it on demand), and VT-d's 48-bit AGAW (Linux
 * DEFAULT_DOMAIN_ADDRESS_WIDTH 48: agaw 2, agaw_to_level 4). */
export const DEFAULT_IOMMU_LEVELS: Readonly<Record<IommuKind, number>> = { "amd-v1": 3, vtd: 4 };

export function iommuOf(c: ModelConfig): IommuKind {
  return c.iommu ?? "amd-v1";
}

/**
 * `c` on IOMMU `kind`: switching IOMMU also switches to that IOMMU's default
 * table depth; a configuration already on `kind` is kept (an AMD one without
 * the field stays without it, so its files and JSON are unchanged).
 */
export function withIommu(c: ModelConfig, kind: IommuKind): ModelConfig {
  if (iommuOf(c) === kind) return c;
  if (kind === "amd-v1") {
    const { iommu: _i, cachingMode: _c, ...rest } = c;
    return { ...rest, iommuLevels: DEFAULT_IOMMU_LEVELS["amd-v1"] };
  }
  return { ...c, iommu: kind, iommuLevels: DEFAULT_IOMMU_LEVELS[kind] };
}

/** How guest memory is backed (model/memory-regions.ts). */
export type GuestMemoryKind = "ordinary" | "devdax" | "guest-memfd";
export const GUEST_MEMORY_KINDS: readonly GuestMemoryKind[] = ["ordinary", "devdax", "guest-memfd"];

/** The attributes of the modelled devices (all devices share them). */
export interface DeviceAttributes {
  readonly untrusted: boolean;
  readonly ats: boolean;
  readonly acsTb: boolean;
}

export function deviceAttributes(c: ModelConfig): DeviceAttributes {
  return { untrusted: c.untrusted === true, ats: c.ats === true, acsTb: c.acsTb === true };
}

/** The command line's spelling of the attributes: "trusted" or "untrusted", then "ats", "acs-tb". */
export function deviceList(a: DeviceAttributes): string[] {
  return [a.untrusted ? "untrusted" : "trusted", ...(a.ats ? ["ats"] : []), ...(a.acsTb ? ["acs-tb"] : [])];
}

/** Parses `--device` words; returns the attributes or a reason. */
export function parseDeviceList(words: readonly string[]): DeviceAttributes | string {
  const known = ["trusted", "untrusted", "ats", "acs-tb"];
  for (const w of words) if (!known.includes(w)) return `unknown device attribute ${JSON.stringify(w)} (expected trusted or untrusted, ats, acs-tb)`;
  if (words.includes("trusted") && words.includes("untrusted")) return "a device is either trusted or untrusted, not both";
  return { untrusted: words.includes("untrusted"), ats: words.includes("ats"), acsTb: words.includes("acs-tb") };
}

/** Linux x86-64 kmalloc size classes (SLUB kmalloc caches, incl. the 96 and
 * 192 byte caches); KMALLOC_MAX_CACHE_SIZE is two pages, larger kmalloc goes to
 * the page allocator. Linux include/linux/slab.h KMALLOC_SHIFT_HIGH. */
export const KMALLOC_CLASSES: readonly number[] = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
export const KMALLOC_MAX_CACHE_SIZE = 8192;
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export const DEFAULT_CONFIG: ModelConfig = {
  frames: 32,
  cpus: 2,
  devices: 2,
  iovaPages: 16,
  iovaBasePfn: 512 - 8,
  iommuLevels: 3,
  fqSize: 256,
  fqTimeoutMs: 10,
  maxMappings: 8,
  maxObjects: 48,
  cmdQueueEntries: 16,
  maxOrder: 3,
  userPages: 4,
  reclaimEmptyTables: true,
};

/** Returns a reason string when the configuration is unusable, else null. */
export function configProblem(c: ModelConfig): string | null {
  const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(c.frames, 8, 4096)) return "frames must be an integer in 8..4096";
  if (!int(c.cpus, 1, 8)) return "cpus must be an integer in 1..8";
  if (!int(c.devices, 1, 16)) return "devices must be an integer in 1..16";
  if (!int(c.iovaPages, 1, 4096)) return "iovaPages must be an integer in 1..4096";
  if (!int(c.iovaBasePfn, 1, 2 ** 26)) return "iovaBasePfn must be an integer in 1..2^26";
  if (!int(c.iommuLevels, 2, 6)) return "iommuLevels must be an integer in 2..6";
  if (c.iommuLevels * 9 + 12 < Math.log2((c.iovaBasePfn + c.iovaPages) * PAGE_SIZE))
    return "the IOVA window does not fit the IOMMU levels";
  if (!int(c.fqSize, 1, 256)) return "fqSize must be an integer in 1..256";
  if (!int(c.fqTimeoutMs, 1, 100000)) return "fqTimeoutMs must be an integer in 1..100000";
  if (!int(c.maxMappings, 1, 64)) return "maxMappings must be an integer in 1..64";
  if (!int(c.maxObjects, 4, 1024)) return "maxObjects must be an integer in 4..1024";
  if (!int(c.cmdQueueEntries, 4, 512)) return "cmdQueueEntries must be an integer in 4..512";
  if (!int(c.maxOrder, 0, 10)) return "maxOrder must be an integer in 0..10";
  if (!int(c.userPages, 0, 64)) return "userPages must be an integer in 0..64";
  if (c.guestMemory !== undefined && !GUEST_MEMORY_KINDS.includes(c.guestMemory)) return `guestMemory must be one of ${GUEST_MEMORY_KINDS.join(", ")}`;
  if (c.guestFrames !== undefined && !int(c.guestFrames, 1, 8)) return "guestFrames must be an integer in 1..8";
  if (c.iommu !== undefined && !IOMMU_KINDS.includes(c.iommu)) return `iommu must be one of ${IOMMU_KINDS.join(", ")}`;
  // VT-d AGAW 1..3 (39, 48, 57 bits: Linux agaw_to_level); 2-level (30-bit, AGAW 0) is not used by Linux.
  if (c.iommu === "vtd" && !int(c.iommuLevels, 3, 5)) return "iommuLevels must be 3, 4 or 5 with iommu vtd (AGAW 39, 48 or 57 bits)";
  if (c.cachingMode === true && c.iommu !== "vtd") return "cachingMode needs iommu vtd (it is VT-d's CAP.CM)";
  if (c.processes !== undefined && !int(c.processes, 1, 4)) return "processes must be an integer in 1..4";
  if (c.processes !== undefined && c.processes > 1 && c.userPages < c.processes) return "processes: each process needs at least one user page (userPages >= processes)";
  return null;
}

/**
 * Nested (two-dimensional) translation: a guest's page tables over the host's
 * second-stage tables.
 *
 * Two instances matter for DMA in virtual machines:
 * - the CPU: guest x86-64 page tables (gVA -> gPA) over Intel EPT (gPA -> hPA);
 * - the IOMMU with hardware nesting: a guest IOMMU table in the x86-64 format
 *   (AMD v2 / GCR3 with GIOV, VT-d first stage; Linux
 *   drivers/iommu/amd/amd_iommu_types.h DTE_FLAG_GV/GIOV: TV = 1 and Mode != 0
 *   with a guest table translates in two stages; docs/reference/formats.md
 *   section 3)
 *   over the host IOMMU's v1 table (gIOVA -> gPA -> hPA).
 *
 * Every guest table lives at a guest-physical address, so reading one guest
 * entry first needs a full host walk of that table's gPA, and the final gPA
 * needs one more: with n guest levels and m host levels a walk that misses
 * every cache makes n(m+1) + m = (n+1)(m+1) - 1 memory references, 24 for
 * 4 x 4 and 35 for 5 x 5 (Bhargava et al., ASPLOS 2008; Stojkovic et al.,
 * ASPLOS 2022: "up to twenty-four sequential memory accesses"; formats.md
 * section 6). The data access itself is not counted.
 *
 * This module is off the checker's hot path: tables live in a sparse
 * `TableMemory` (host frames holding 512 64-bit entries as lo/hi pairs), built
 * and walked with the bit-exact codecs of model/formats. The walk count goes
 * to the `walkRefs` counter when a counter array is given.
 */
import { C } from "./counters.ts";
import {
  EPT_LO_LARGE, EPT_LO_READ, EPT_LO_WRITE, EPT_MT, eptEncodeHi, eptEncodeLo, eptIsLeaf, eptLeafFlags, eptLeafPfn, eptPfn,
  eptPresent,
} from "./formats/ept-pte.ts";
import {
  X86_LO_ACCESSED, X86_LO_PRESENT, X86_LO_PSE, X86_LO_RW, X86_LO_USER, x86EncodeHi, x86EncodeLo, x86Index, x86IsHugeLeaf,
  x86LeafPfn, x86Pfn, x86Present,
} from "./formats/x86-pte.ts";
import {
  AMD_NL_LARGE, amdAddrPfn, amdIndex, amdLargeBasePfn, amdLargePageLog2, amdNextLevel, amdPdeHi, amdPdeLo, amdPresent,
  amdPteHi, amdPteLo,
} from "./formats/amd-v1-pte.ts";

/** Entries per table at every level of the three formats (9 index bits). */
export const ENTRIES_PER_TABLE = 512;

/**
 * Host physical memory that holds page tables: frame -> 512 entries (1024
 * words, lo then hi). Frames are handed out upwards from `firstPfn`.
 */
export class TableMemory {
  private readonly frames = new Map<number, number[]>();
  private nextPfn: number;
  constructor(firstPfn = 0x100) {
    this.nextPfn = firstPfn;
  }
  /** A new zeroed frame. */
  alloc(): number {
    const pfn = this.nextPfn++;
    this.frames.set(pfn, new Array<number>(2 * ENTRIES_PER_TABLE).fill(0));
    return pfn;
  }
  lo(pfn: number, i: number): number {
    return this.frames.get(pfn)?.[2 * i] ?? 0;
  }
  hi(pfn: number, i: number): number {
    return this.frames.get(pfn)?.[2 * i + 1] ?? 0;
  }
  write(pfn: number, i: number, lo: number, hi: number): void {
    let f = this.frames.get(pfn);
    if (f === undefined) {
      f = new Array<number>(2 * ENTRIES_PER_TABLE).fill(0);
      this.frames.set(pfn, f);
    }
    f[2 * i] = lo >>> 0;
    f[2 * i + 1] = hi >>> 0;
  }
  /** Frames that hold tables. */
  get size(): number {
    return this.frames.size;
  }
}

/**
 * One translation stage's entry format, as far as a walk needs it. `level` is
 * the level of the table holding the entry (1 = entries map 4 KiB).
 */
export interface StageFormat {
  readonly name: string;
  present(lo: number, hi: number): boolean;
  /** The entry ends the walk (a 4 KiB leaf, or a large leaf). */
  isLeaf(lo: number, hi: number, level: number): boolean;
  /** First 4 KiB frame of the page a leaf maps. */
  leafPfn(lo: number, hi: number, level: number): number;
  /** log2 of the number of 4 KiB pages a leaf maps (0, 9, 18, ...). */
  leafPagesLog2(lo: number, hi: number, level: number): number;
  /** Frame of the next table, and its level. */
  nextPfn(lo: number, hi: number): number;
  nextLevel(lo: number, hi: number, level: number): number;
  index(page: number, level: number): number;
  /** Encodings used by the builders: a table pointer, a writable leaf of 2^(9(level-1)) pages. */
  table(pfn: number, nextLevel: number): { lo: number; hi: number };
  leaf(pfn: number, level: number): { lo: number; hi: number };
}

/** x86-64 paging (Linux pgtable_types.h): guest CPU tables, and guest IOMMU tables in AMD v2 / VT-d first-stage format. */
export const X86_STAGE: StageFormat = {
  name: "x86-64",
  present: (lo) => x86Present(lo),
  isLeaf: (lo, _hi, level) => level === 1 || x86IsHugeLeaf(lo, level),
  leafPfn: (lo, hi, level) => x86LeafPfn(lo, hi, level),
  leafPagesLog2: (_lo, _hi, level) => 9 * (level - 1),
  nextPfn: (lo, hi) => x86Pfn(lo, hi),
  nextLevel: (_lo, _hi, level) => level - 1,
  index: (page, level) => x86Index(page, level),
  table: (pfn) => ({ lo: x86EncodeLo(pfn, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | X86_LO_ACCESSED), hi: x86EncodeHi(pfn, false, 0, 0) }),
  leaf: (pfn, level) => ({
    lo: x86EncodeLo(pfn, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | (level > 1 ? X86_LO_PSE : 0)),
    hi: x86EncodeHi(pfn, false, 0, 0),
  }),
};

/** Intel EPT (Linux vmx.h): the CPU's second stage. Leaves are RW, write-back. */
export const EPT_STAGE: StageFormat = {
  name: "EPT",
  present: (lo) => eptPresent(lo),
  isLeaf: (lo, _hi, level) => eptIsLeaf(lo, level),
  leafPfn: (lo, hi, level) => eptLeafPfn(lo, hi, level),
  leafPagesLog2: (_lo, _hi, level) => 9 * (level - 1),
  nextPfn: (lo, hi) => eptPfn(lo, hi),
  nextLevel: (_lo, _hi, level) => level - 1,
  index: (page, level) => x86Index(page, level),
  // A non-leaf EPT entry is RWX so that permissions are decided at the leaf (KVM does the same).
  table: (pfn) => ({ lo: eptEncodeLo(pfn, 7), hi: eptEncodeHi(pfn, false) }),
  leaf: (pfn, level) => ({
    lo: eptEncodeLo(pfn, eptLeafFlags(EPT_LO_READ | EPT_LO_WRITE, EPT_MT.WB, false) | (level > 1 ? EPT_LO_LARGE : 0)),
    hi: eptEncodeHi(pfn, false),
  }),
};

/** AMD IOMMU v1 (Linux amd_iommu_types.h): the host IOMMU's second stage. NextLevel says where the walk goes. */
export const AMD_V1_STAGE: StageFormat = {
  name: "AMD IOMMU v1",
  present: (lo) => amdPresent(lo),
  isLeaf: (lo) => {
    const nl = amdNextLevel(lo);
    return nl === 0 || nl === AMD_NL_LARGE;
  },
  leafPfn: (lo, hi) => (amdNextLevel(lo) === AMD_NL_LARGE ? amdLargeBasePfn(lo, hi) : amdAddrPfn(lo, hi)),
  leafPagesLog2: (lo, hi, level) => (amdNextLevel(lo) === AMD_NL_LARGE ? amdLargePageLog2(lo, hi) - 12 : 9 * (level - 1)),
  nextPfn: (lo, hi) => amdAddrPfn(lo, hi),
  nextLevel: (lo) => amdNextLevel(lo),
  index: (page, level) => amdIndex(page, level),
  table: (pfn, nextLevel) => ({ lo: amdPdeLo(pfn, nextLevel), hi: amdPdeHi(pfn) }),
  // Default-size leaves only (NextLevel 0), as Linux writes them for 4 KiB.
  leaf: (pfn) => ({ lo: amdPteLo(pfn), hi: amdPteHi(pfn, true, true, true) }),
};

/** Result of a one-stage walk: the 4 KiB frame reached (or -1) and the entries read. */
export interface StageWalk {
  pfn: number;
  refs: number;
}

/**
 * Walks one stage from the table at `rootPfn` (a host frame) of `levels`
 * levels for 4 KiB page number `page`; `refs` counts one memory reference per
 * entry read. pfn is -1 when an entry on the way is not present.
 */
export function walkStage(mem: TableMemory, fmt: StageFormat, rootPfn: number, levels: number, page: number): StageWalk {
  let table = rootPfn;
  let level = levels;
  let refs = 0;
  while (level >= 1) {
    const i = fmt.index(page, level);
    const lo = mem.lo(table, i);
    const hi = mem.hi(table, i);
    refs++;
    if (!fmt.present(lo, hi)) return { pfn: -1, refs };
    if (fmt.isLeaf(lo, hi, level)) {
      const span = 2 ** fmt.leafPagesLog2(lo, hi, level);
      return { pfn: fmt.leafPfn(lo, hi, level) + (page % span), refs };
    }
    const next = fmt.nextLevel(lo, hi, level);
    if (next < 1 || next >= level) return { pfn: -1, refs };
    table = fmt.nextPfn(lo, hi);
    level = next;
  }
  return { pfn: -1, refs };
}

/**
 * Installs `page -> pfn` in one stage, as a leaf at `leafLevel` (1 = 4 KiB,
 * 2 = 2 MiB, ...), creating missing tables with `allocTable` (which returns
 * the new table's address in this stage's address space) and writing entries
 * through `writeAt` (which resolves that address to host memory).
 */
function installStage(
  mem: TableMemory,
  fmt: StageFormat,
  rootAddr: number,
  levels: number,
  page: number,
  pfn: number,
  leafLevel: number,
  allocTable: () => number,
  resolve: (addr: number) => number,
): void {
  let table = rootAddr;
  for (let level = levels; level > leafLevel; level--) {
    const host = resolve(table);
    const i = fmt.index(page, level);
    const lo = mem.lo(host, i);
    const hi = mem.hi(host, i);
    if (fmt.present(lo, hi) && !fmt.isLeaf(lo, hi, level)) {
      table = fmt.nextPfn(lo, hi);
      continue;
    }
    const t = allocTable();
    const e = fmt.table(t, level - 1);
    mem.write(host, i, e.lo, e.hi);
    table = t;
  }
  const e = fmt.leaf(pfn, leafLevel);
  mem.write(resolve(table), fmt.index(page, leafLevel), e.lo, e.hi);
}

/** Which stage a nested walk failed in. */
export type NestedFault = "none" | "guest" | "host";

export interface NestedWalk {
  /** Host frame of the data, or -1. */
  readonly hpa: number;
  /** Guest-physical frame of the data, or -1. */
  readonly gpa: number;
  /** Memory references: entries read in both stages (the data access is not counted). */
  readonly refs: number;
  readonly fault: NestedFault;
}

/**
 * A guest address space over a host second stage: guest tables at
 * guest-physical frames (themselves mapped by the second stage), and the
 * second-stage tables in host frames.
 */
export class NestedSpace {
  readonly mem = new TableMemory();
  /** Host frame of the second stage's root (EPTP / DTE root). */
  readonly hostRoot: number;
  /** Guest-physical frame of the guest's root (CR3 / GCR3 table root). */
  readonly guestRoot: number;
  private nextGpa: number;

  constructor(
    readonly guest: StageFormat,
    readonly guestLevels: number,
    readonly host: StageFormat,
    readonly hostLevels: number,
    firstGuestTableGpa = 0x1000,
  ) {
    this.hostRoot = this.mem.alloc();
    this.nextGpa = firstGuestTableGpa;
    this.guestRoot = this.allocGuestTable();
  }

  /** Second stage: guest-physical frame `gpa` -> host frame `hpa`, as a leaf at `leafLevel`. */
  mapHost(gpa: number, hpa: number, leafLevel = 1): void {
    installStage(this.mem, this.host, this.hostRoot, this.hostLevels, gpa, hpa, leafLevel, () => this.mem.alloc(), (a) => a);
  }

  /** A guest table frame: a guest-physical frame backed by a new host frame in the second stage. */
  private allocGuestTable(): number {
    const gpa = this.nextGpa++;
    this.mapHost(gpa, this.mem.alloc());
    return gpa;
  }

  /** The host frame behind a guest-physical frame (the VMM's view; no references counted). */
  hostFrameOf(gpa: number): number {
    return walkStage(this.mem, this.host, this.hostRoot, this.hostLevels, gpa).pfn;
  }

  /** Guest stage: guest page `gva` -> guest-physical frame `gpa`; the guest writes its tables through the second stage. */
  mapGuest(gva: number, gpa: number, leafLevel = 1): void {
    installStage(this.mem, this.guest, this.guestRoot, this.guestLevels, gva, gpa, leafLevel, () => this.allocGuestTable(), (a) => {
      const h = this.hostFrameOf(a);
      if (h < 0) throw new Error(`guest table at gPA frame 0x${a.toString(16)} is not mapped in the second stage`);
      return h;
    });
  }

  /**
   * The hardware's two-dimensional walk for guest page `gva` with every cache
   * missing: for each guest level, a second-stage walk of the guest table's
   * gPA and one read of the guest entry; then a second-stage walk of the final
   * gPA. When `counters` is given, the references are added to walkRefs.
   */
  walk(gva: number, counters?: { [i: number]: number }): NestedWalk {
    let refs = 0;
    let table = this.guestRoot;
    let level = this.guestLevels;
    const out = (hpa: number, gpa: number, fault: NestedFault): NestedWalk => {
      if (counters !== undefined) counters[C.walkRefs] += refs;
      return { hpa, gpa, refs, fault };
    };
    while (level >= 1) {
      const h = walkStage(this.mem, this.host, this.hostRoot, this.hostLevels, table);
      refs += h.refs;
      if (h.pfn < 0) return out(-1, -1, "host");
      const i = this.guest.index(gva, level);
      const lo = this.mem.lo(h.pfn, i);
      const hi = this.mem.hi(h.pfn, i);
      refs++;
      if (!this.guest.present(lo, hi)) return out(-1, -1, "guest");
      if (this.guest.isLeaf(lo, hi, level)) {
        const gpa = this.guest.leafPfn(lo, hi, level) + (gva % 2 ** this.guest.leafPagesLog2(lo, hi, level));
        const d = walkStage(this.mem, this.host, this.hostRoot, this.hostLevels, gpa);
        refs += d.refs;
        return d.pfn < 0 ? out(-1, gpa, "host") : out(d.pfn, gpa, "none");
      }
      const next = this.guest.nextLevel(lo, hi, level);
      if (next < 1 || next >= level) return out(-1, -1, "guest");
      table = this.guest.nextPfn(lo, hi);
      level = next;
    }
    return out(-1, -1, "guest");
  }
}

/** References of a two-dimensional walk with 4 KiB pages in both stages: (n+1)(m+1) - 1. */
export function nestedWalkRefs(guestLevels: number, hostLevels: number): number {
  return (guestLevels + 1) * (hostLevels + 1) - 1;
}

// Intel EPT (extended page table) entries and the EPT pointer, 4- and 5-level.
//
// Source: Linux arch/x86/include/asm/vmx.h (VMX_EPT_READABLE_MASK 0x1,
// VMX_EPT_WRITABLE_MASK 0x2, VMX_EPT_EXECUTABLE_MASK 0x4, VMX_EPT_MT_EPTE_SHIFT 3,
// VMX_EPT_MT_MASK (7 << 3), VMX_EPT_IPAT_BIT (1 << 6), VMX_EPT_ACCESS_BIT (1 << 8),
// VMX_EPT_DIRTY_BIT (1 << 9), VMX_EPT_SUPPRESS_VE_BIT (1 << 63), VMX_EPTP_MT_MASK
// 0x7, VMX_EPTP_PWL_MASK 0x38, VMX_EPTP_PWL_4 0x18, VMX_EPTP_PWL_5 0x20,
// VMX_EPTP_AD_ENABLE_BIT (1 << 6)); arch/x86/kvm/mmu/spte.h PT_PAGE_SIZE_MASK (1 << 7)
// for large leaves; VMX_EPT_USER_EXECUTABLE_MASK (1 << 10) from the RFC "KVM: VMX:
// Define VMX_EPT_USER_EXECUTABLE_MASK" (mode-based execute control). See
// docs/reference/formats.md section 5.
//
// Levels are numbered like the hardware walk, as in x86-pte.ts: 1 = EPT PTE
// (4 KiB), 2 = EPT PDE (2 MiB leaf with bit 7), 3 = EPT PDPTE (1 GiB leaf with
// bit 7), 4 = EPT PML4E, 5 = EPT PML5E (5-level EPT). 512 entries per table, the
// same 9-bit index split as the CPU's tables, so x86Index/x86LevelShift apply to
// guest-physical page numbers unchanged.
//
// An EPT entry has no "present" bit: it is not present when bits 2..0 (R, W, X)
// are all 0, and with mode-based execute control also bit 10 (user execute).
// Memory type, IPAT and bit 7 only mean something in a leaf; in a non-leaf entry
// bits 7..3 are reserved or ignored, and this codec keeps them as raw fields so a
// word round-trips. Bits 11 and 52..62 are ignored by the walk (some are used by
// optional features not modelled here); decode drops them and encode writes 0.
// Words are split into `lo` (bits 31..0) and `hi` (bits 63..32): see word64.ts.

import { HI_ADDR_MASK, hiOfPfn, loOfPfn, pfnOf } from "./word64.ts";
import { x86HugeLevel, x86LeafPfn } from "./x86-pte.ts";

/** Bit positions in the 64-bit entry. */
export const EPT_BIT = {
  READ: 0,
  WRITE: 1,
  EXEC: 2,
  /** Memory type, bits 5..3 (VMX_EPT_MT_EPTE_SHIFT 3). */
  MT_SHIFT: 3,
  IPAT: 6,
  /** PT_PAGE_SIZE_MASK: a 2 MiB leaf at level 2, a 1 GiB leaf at level 3. */
  LARGE: 7,
  ACCESSED: 8,
  DIRTY: 9,
  /** Mode-based execute control: execute access for user-mode linear addresses. */
  USER_EXEC: 10,
  ADDR_FIRST: 12,
  ADDR_LAST: 51,
  SUPPRESS_VE: 63,
} as const;

// Masks inside `lo` (bits 31..0).
export const EPT_LO_READ = 0x001;
export const EPT_LO_WRITE = 0x002;
export const EPT_LO_EXEC = 0x004;
/** R | W | X: the entry is present when any of these is set. */
export const EPT_LO_RWX = 0x007;
export const EPT_LO_MT_MASK = 0x038;
export const EPT_LO_IPAT = 0x040;
export const EPT_LO_LARGE = 0x080;
export const EPT_LO_ACCESSED = 0x100;
export const EPT_LO_DIRTY = 0x200;
export const EPT_LO_USER_EXEC = 0x400;
/** Bits 10..0, the flag bits eptEncodeLo accepts (bit 11 is ignored by hardware). */
export const EPT_LO_FLAGS_MASK = 0x7ff;

// Masks inside `hi` (bits 63..32).
export const EPT_HI_ADDR_MASK = HI_ADDR_MASK; // bits 51..32
export const EPT_HI_SUPPRESS_VE = 0x80000000;
/** Bits 62..52: ignored by the walk, not modelled. */
export const EPT_HI_IGNORED_MASK = 0x7ff << (52 - 32);
/** Bit 11: ignored by the walk, not modelled. */
export const EPT_LO_IGNORED_MASK = 0x800;

/** EPT memory types (Intel SDM; Linux uses only WB and UC: X86_MEMTYPE_WB/UC). */
export const EPT_MT = { UC: 0, WC: 1, WT: 4, WP: 5, WB: 6 } as const;

export const EPT_LEVELS_4 = 4;
export const EPT_LEVELS_5 = 5;

// ---------------------------------------------------------------------------
// Hot-path readers (no allocation).

/** Present: any of R, W, X (bits 2..0). */
export function eptPresent(lo: number): boolean {
  return (lo & EPT_LO_RWX) !== 0;
}
/** Present with mode-based execute control: R, W, X or user-execute (bit 10). */
export function eptPresentMbec(lo: number): boolean {
  return (lo & (EPT_LO_RWX | EPT_LO_USER_EXEC)) !== 0;
}
export function eptReadable(lo: number): boolean {
  return (lo & EPT_LO_READ) !== 0;
}
export function eptWritable(lo: number): boolean {
  return (lo & EPT_LO_WRITE) !== 0;
}
export function eptExecutable(lo: number): boolean {
  return (lo & EPT_LO_EXEC) !== 0;
}
export function eptUserExecutable(lo: number): boolean {
  return (lo & EPT_LO_USER_EXEC) !== 0;
}
/** Memory type, bits 5..3 (0..7). */
export function eptMemType(lo: number): number {
  return (lo & EPT_LO_MT_MASK) >>> EPT_BIT.MT_SHIFT;
}
export function eptIgnorePat(lo: number): boolean {
  return (lo & EPT_LO_IPAT) !== 0;
}
/** Raw bit 7. It only means "large leaf" at levels 2 and 3: see eptIsLargeLeaf. */
export function eptLarge(lo: number): boolean {
  return (lo & EPT_LO_LARGE) !== 0;
}
export function eptAccessed(lo: number): boolean {
  return (lo & EPT_LO_ACCESSED) !== 0;
}
export function eptDirty(lo: number): boolean {
  return (lo & EPT_LO_DIRTY) !== 0;
}
export function eptSuppressVe(hi: number): boolean {
  return (hi & EPT_HI_SUPPRESS_VE) !== 0;
}
/** The raw 4 KiB frame number in bits 51..12. */
export function eptPfn(lo: number, hi: number): number {
  return pfnOf(lo, hi);
}

/** Bit 7 makes a leaf only at levels 2 (2 MiB) and 3 (1 GiB): VMX_EPT_2MB_PAGE_BIT, VMX_EPT_1GB_PAGE_BIT. */
export function eptLargeLevel(level: number): boolean {
  return x86HugeLevel(level); // the same levels as x86-64 PS pages (2 MiB, 1 GiB)
}

/** A present large leaf: bit 7 set at level 2 or 3 and some of R/W/X. */
export function eptIsLargeLeaf(lo: number, level: number): boolean {
  return (lo & EPT_LO_LARGE) !== 0 && (lo & EPT_LO_RWX) !== 0 && eptLargeLevel(level);
}

/** A present leaf: any present entry at level 1, or a large leaf at level 2 or 3. */
export function eptIsLeaf(lo: number, level: number): boolean {
  if ((lo & EPT_LO_RWX) === 0) return false;
  return level === 1 || eptIsLargeLeaf(lo, level);
}

/**
 * First 4 KiB frame of the page this leaf maps. For a large leaf the low 9
 * (2 MiB) or 18 (1 GiB) frame bits are reserved, not address, and are masked off.
 */
export function eptLeafPfn(lo: number, hi: number, level: number): number {
  // Bit 7 and the address field sit where x86-64's PS and address do (Intel SDM Vol. 3C, EPT entry formats).
  return x86LeafPfn(lo, hi, level);
}

// ---------------------------------------------------------------------------
// Hot-path writers (no allocation).

/** Low half: frame bits 19..0 into bits 31..12 plus `flags` bits 10..0 (EPT_LO_* masks). */
export function eptEncodeLo(pfn: number, flags: number): number {
  return (loOfPfn(pfn) | (flags & EPT_LO_FLAGS_MASK)) >>> 0;
}

/** High half: frame bits 39..20 into bits 51..32 and suppress-#VE into bit 63. */
export function eptEncodeHi(pfn: number, suppressVe: boolean): number {
  return (hiOfPfn(pfn) | (suppressVe ? EPT_HI_SUPPRESS_VE : 0)) >>> 0;
}

/** Flags of a leaf: permission bits (EPT_LO_READ|WRITE|EXEC), memory type, IPAT. */
export function eptLeafFlags(rwx: number, memType: number, ipat: boolean): number {
  return (rwx & EPT_LO_RWX) | ((memType & 7) << EPT_BIT.MT_SHIFT) | (ipat ? EPT_LO_IPAT : 0);
}

// ---------------------------------------------------------------------------
// Object codec (off the hot path).

/**
 * Every modelled field of an EPT entry. `pfn` is the raw address field (bits
 * 51..12), so a large leaf's reserved low frame bits survive a round trip; use
 * eptLeafPfn for the frame the walk uses.
 */
export interface EptPte {
  read: boolean;
  write: boolean;
  exec: boolean;
  /** Bits 5..3, 0..7 (EPT_MT values in a leaf). */
  memType: number;
  ignorePat: boolean;
  /** Bit 7: a large leaf at level 2 or 3. */
  large: boolean;
  accessed: boolean;
  dirty: boolean;
  userExec: boolean;
  pfn: number;
  suppressVe: boolean;
}

export function decodeEptPte(lo: number, hi: number): EptPte {
  return {
    read: (lo & EPT_LO_READ) !== 0,
    write: (lo & EPT_LO_WRITE) !== 0,
    exec: (lo & EPT_LO_EXEC) !== 0,
    memType: eptMemType(lo),
    ignorePat: (lo & EPT_LO_IPAT) !== 0,
    large: (lo & EPT_LO_LARGE) !== 0,
    accessed: (lo & EPT_LO_ACCESSED) !== 0,
    dirty: (lo & EPT_LO_DIRTY) !== 0,
    userExec: (lo & EPT_LO_USER_EXEC) !== 0,
    pfn: pfnOf(lo, hi),
    suppressVe: (hi & EPT_HI_SUPPRESS_VE) !== 0,
  };
}

/** Inverse of decodeEptPte. */
export function encodeEptPte(e: EptPte): { lo: number; hi: number } {
  const flags =
    (e.read ? EPT_LO_READ : 0) |
    (e.write ? EPT_LO_WRITE : 0) |
    (e.exec ? EPT_LO_EXEC : 0) |
    ((e.memType & 7) << EPT_BIT.MT_SHIFT) |
    (e.ignorePat ? EPT_LO_IPAT : 0) |
    (e.large ? EPT_LO_LARGE : 0) |
    (e.accessed ? EPT_LO_ACCESSED : 0) |
    (e.dirty ? EPT_LO_DIRTY : 0) |
    (e.userExec ? EPT_LO_USER_EXEC : 0);
  return { lo: eptEncodeLo(e.pfn, flags), hi: eptEncodeHi(e.pfn, e.suppressVe) };
}

// ---------------------------------------------------------------------------
// EPT pointer (VMCS field), vmx.h VMX_EPTP_*.

export const EPTP_MT_MASK = 0x7;
export const EPTP_PWL_MASK = 0x38;
export const EPTP_PWL_4 = 0x18;
export const EPTP_PWL_5 = 0x20;
export const EPTP_AD_ENABLE = 0x40;

export interface Eptp {
  /** Paging-structure memory type, bits 2..0 (UC or WB). */
  memType: number;
  /** Walk length: 4 or 5 levels (bits 5..3 hold levels - 1). */
  levels: number;
  /** Accessed/dirty flags enabled, bit 6. */
  adEnable: boolean;
  /** Frame of the root table, bits 51..12. */
  rootPfn: number;
}

/** EPTP word; `levels` outside 1..8 is clamped into the 3-bit field. */
export function encodeEptp(p: Eptp): { lo: number; hi: number } {
  const pwl = ((p.levels - 1) & 7) << 3;
  const lo = (loOfPfn(p.rootPfn) | (p.memType & EPTP_MT_MASK) | pwl | (p.adEnable ? EPTP_AD_ENABLE : 0)) >>> 0;
  return { lo, hi: hiOfPfn(p.rootPfn) };
}

export function decodeEptp(lo: number, hi: number): Eptp {
  return {
    memType: lo & EPTP_MT_MASK,
    levels: ((lo & EPTP_PWL_MASK) >>> 3) + 1,
    adEnable: (lo & EPTP_AD_ENABLE) !== 0,
    rootPfn: pfnOf(lo, hi),
  };
}

// x86-64 CPU page-table entries, 4- and 5-level paging.
//
// Source: Linux arch/x86/include/asm/pgtable_types.h (_PAGE_BIT_PRESENT ..
// _PAGE_BIT_NX, _PAGE_BIT_PAT_LARGE, _PAGE_BIT_PKEY_BIT0..3), page_64_types.h
// (__PHYSICAL_MASK_SHIFT 52), pgtable_64_types.h (PMD_SHIFT 21, PUD_SHIFT 30,
// P4D_SHIFT 39, pgdir_shift 48 with LA57) and pgtable.h p4d_pfn_mask() "No 512
// GiB huge pages yet". See docs/reference/formats.md section 1.
//
// Levels are numbered like the hardware walk: 1 = PTE (maps 4 KiB), 2 = PMD
// (2 MiB leaves with PS), 3 = PUD (1 GiB leaves with PS), 4 = P4D/PML4,
// 5 = PGD/PML5 (LA57 only). Words are split into `lo` (bits 31..0) and `hi`
// (bits 63..32); see word64.ts.
//
// Bits 52..56 (hi bits 20..24) are ignored by the CPU and unused by Linux; this
// codec does not model them (decode drops them, encode writes 0). SME's
// encryption bit sits at a CPU-reported position inside the address field and
// is simply part of `pfn` here.

import { HI_ADDR_MASK, hiOfPfn, loOfPfn, pfnOf } from "./word64.ts";

/** Bit positions in the 64-bit entry (Linux _PAGE_BIT_*). */
export const X86_BIT = {
  PRESENT: 0,
  RW: 1,
  USER: 2,
  PWT: 3,
  PCD: 4,
  ACCESSED: 5,
  DIRTY: 6,
  /** _PAGE_BIT_PSE = _PAGE_BIT_PAT = 7: PS in a PMD/PUD, PAT in a 4 KiB PTE. */
  PSE: 7,
  PAT: 7,
  GLOBAL: 8,
  SOFTW1: 9,
  SOFTW2: 10,
  SOFTW3: 11,
  /** PAT "On 2MB or 1GB pages"; an address bit everywhere else. */
  PAT_LARGE: 12,
  ADDR_FIRST: 12,
  ADDR_LAST: 51,
  SOFTW4: 57,
  SOFTW5: 58,
  PKEY_BIT0: 59,
  PKEY_BIT3: 62,
  NX: 63,
} as const;

// Masks inside `lo` (bits 31..0).
export const X86_LO_PRESENT = 0x001;
export const X86_LO_RW = 0x002;
export const X86_LO_USER = 0x004;
export const X86_LO_PWT = 0x008;
export const X86_LO_PCD = 0x010;
export const X86_LO_ACCESSED = 0x020;
export const X86_LO_DIRTY = 0x040;
export const X86_LO_PSE = 0x080;
export const X86_LO_PAT = 0x080;
export const X86_LO_GLOBAL = 0x100;
export const X86_LO_SOFTW1 = 0x200;
export const X86_LO_SOFTW2 = 0x400;
export const X86_LO_SOFTW3 = 0x800;
export const X86_LO_PAT_LARGE = 0x1000;
/** The twelve flag bits 11..0 that x86EncodeLo accepts. */
export const X86_LO_FLAGS_MASK = 0xfff;

// Masks inside `hi` (bits 63..32): bit n of the word is bit n-32 of `hi`.
export const X86_HI_ADDR_MASK = HI_ADDR_MASK; // bits 51..32
export const X86_HI_SOFTW4 = 1 << (57 - 32);
export const X86_HI_SOFTW5 = 1 << (58 - 32);
export const X86_HI_PKEY_SHIFT = 59 - 32;
export const X86_HI_PKEY_MASK = 0xf << X86_HI_PKEY_SHIFT;
export const X86_HI_NX = 0x80000000;
/** Bits 52..56: ignored by hardware, not modelled. */
export const X86_HI_IGNORED_MASK = 0x1f << (52 - 32);

/** `softHi` argument of x86EncodeHi: bit 0 = SOFTW4 (57), bit 1 = SOFTW5 (58). */
export const X86_SOFTHI_4 = 1;
export const X86_SOFTHI_5 = 2;

/**
 * Linux's names for the software bits, as of v6.17 (pgtable_types.h):
 * _PAGE_BIT_SPECIAL = SOFTW1, _PAGE_BIT_UFFD_WP = SOFTW2,
 * _PAGE_BIT_SOFT_DIRTY = SOFTW3, _PAGE_BIT_SAVED_DIRTY (= _PAGE_BIT_NOPTISHADOW
 * on a root PGD) = SOFTW5 on x86-64. Older 5.x kernels had SOFTW4 at 58.
 */
export const LINUX_SOFTBITS = { special: 9, uffdWp: 10, softDirty: 11, savedDirty: 58 } as const;

export const X86_LEVELS_4 = 4;
export const X86_LEVELS_5 = 5;

// ---------------------------------------------------------------------------
// Hot-path readers (no allocation).

export function x86Present(lo: number): boolean {
  return (lo & X86_LO_PRESENT) !== 0;
}
export function x86Writable(lo: number): boolean {
  return (lo & X86_LO_RW) !== 0;
}
export function x86User(lo: number): boolean {
  return (lo & X86_LO_USER) !== 0;
}
export function x86Accessed(lo: number): boolean {
  return (lo & X86_LO_ACCESSED) !== 0;
}
export function x86Dirty(lo: number): boolean {
  return (lo & X86_LO_DIRTY) !== 0;
}
export function x86Global(lo: number): boolean {
  return (lo & X86_LO_GLOBAL) !== 0;
}
/** Raw bit 7 (PS). It only means "huge" at levels 2 and 3: see x86IsHugeLeaf. */
export function x86Huge(lo: number): boolean {
  return (lo & X86_LO_PSE) !== 0;
}
/** Linux _PAGE_SOFT_DIRTY (SOFTW3, bit 11). */
export function x86SoftDirty(lo: number): boolean {
  return (lo & X86_LO_SOFTW3) !== 0;
}
/** Linux _PAGE_UFFD_WP (SOFTW2, bit 10). */
export function x86UffdWp(lo: number): boolean {
  return (lo & X86_LO_SOFTW2) !== 0;
}
/** Linux _PAGE_SPECIAL (SOFTW1, bit 9). */
export function x86Special(lo: number): boolean {
  return (lo & X86_LO_SOFTW1) !== 0;
}
/** Linux _PAGE_SAVED_DIRTY (SOFTW5, bit 58) on x86-64. */
export function x86SavedDirty(hi: number): boolean {
  return (hi & X86_HI_SOFTW5) !== 0;
}
export function x86Nx(hi: number): boolean {
  return (hi & X86_HI_NX) !== 0;
}
/** Protection key, bits 62..59 (0..15). */
export function x86Pkey(hi: number): number {
  return (hi >>> X86_HI_PKEY_SHIFT) & 0xf;
}
/** The 4 KiB frame number in bits 51..12 (raw: bit 12 included). */
export function x86Pfn(lo: number, hi: number): number {
  return pfnOf(lo, hi);
}

/** PS is honoured only at levels 2 (2 MiB) and 3 (1 GiB): "No 512 GiB huge pages yet". */
export function x86HugeLevel(level: number): boolean {
  return level === 2 || level === 3;
}

/** True when the entry is a present huge leaf: PS set at level 2 or 3. */
export function x86IsHugeLeaf(lo: number, level: number): boolean {
  return (lo & (X86_LO_PRESENT | X86_LO_PSE)) === (X86_LO_PRESENT | X86_LO_PSE) && x86HugeLevel(level);
}

/**
 * First 4 KiB frame of the page this leaf maps. For a huge leaf (PS at level 2
 * or 3) the low 9 or 18 frame bits are not address: bit 12 is PAT_LARGE and the
 * rest are reserved, so they are masked off (Linux PHYSICAL_PMD_PAGE_MASK /
 * PHYSICAL_PUD_PAGE_MASK). Otherwise this is x86Pfn.
 */
export function x86LeafPfn(lo: number, hi: number, level: number): number {
  if ((lo & X86_LO_PSE) !== 0) {
    if (level === 2) return pfnOf(lo & 0xffe00000, hi); // 2 MiB: clear address bits 20..12
    if (level === 3) return pfnOf(lo & 0xc0000000, hi); // 1 GiB: clear address bits 29..12
  }
  return pfnOf(lo, hi);
}

// ---------------------------------------------------------------------------
// Hot-path writers (no allocation).

/**
 * Low half: frame bits 19..0 into bits 31..12 plus `flags` bits 11..0
 * (X86_LO_* masks). For a huge leaf pass the aligned frame and OR in
 * X86_LO_PSE, and X86_LO_PAT_LARGE if wanted.
 */
export function x86EncodeLo(pfn: number, flags: number): number {
  return (loOfPfn(pfn) | (flags & X86_LO_FLAGS_MASK)) >>> 0;
}

/**
 * High half: frame bits 39..20 into bits 51..32, SOFTW4/SOFTW5 from `softHi`
 * (X86_SOFTHI_4 | X86_SOFTHI_5), pkey (low 4 bits) into 62..59, NX into 63.
 */
export function x86EncodeHi(pfn: number, nx: boolean, pkey: number, softHi: number): number {
  return (
    (hiOfPfn(pfn) |
      ((softHi & 3) << (57 - 32)) |
      ((pkey & 0xf) << X86_HI_PKEY_SHIFT) |
      (nx ? X86_HI_NX : 0)) >>>
    0
  );
}

// ---------------------------------------------------------------------------
// Level geometry.

/** Shift of the VA bits indexing a table at `level`: 12, 21, 30, 39, 48. Also log2 of its entries' span. */
export function x86LevelShift(level: number): number {
  return 12 + 9 * (level - 1);
}

/**
 * 9-bit index at `level` (1..5) for a virtual page number `vaPage` = va >> 12
 * (a non-negative integer below 2^53, so 57-bit canonical addresses fit).
 * Returns 0 for a level outside 1..5.
 */
export function x86Index(vaPage: number, level: number): number {
  if (level < 1 || level > 5) return 0;
  // Division by a power of two is exact; `& 0x1ff` truncates and keeps 9 bits.
  return (vaPage / 2 ** (9 * (level - 1))) & 0x1ff;
}

// ---------------------------------------------------------------------------
// Object codec (off the hot path).

/**
 * Every modelled field of an entry. Bit 7 is `huge` (PS) at levels 2..5 and
 * `pat` at level 1. Bit 12 is `patLarge` for a huge leaf (PS at level 2 or 3)
 * and otherwise the low bit of `pfn`.
 *
 * `pfn` is the raw address field (bits 51..12, with bit 12 cleared when it is
 * PAT_LARGE), so a huge leaf's reserved low frame bits survive a round trip;
 * use x86LeafPfn for the frame the CPU actually uses.
 */
export interface X86Pte {
  present: boolean;
  writable: boolean;
  user: boolean;
  pwt: boolean;
  pcd: boolean;
  accessed: boolean;
  dirty: boolean;
  /** PS, bit 7, at levels 2..5 (honoured at 2 and 3 only); always false at level 1. */
  huge: boolean;
  /** PAT, bit 7, at level 1 only; always false at other levels. */
  pat: boolean;
  global: boolean;
  soft1: boolean;
  soft2: boolean;
  soft3: boolean;
  soft4: boolean;
  soft5: boolean;
  /** PAT_LARGE, bit 12, only for a huge leaf at level 2 or 3; false elsewhere. */
  patLarge: boolean;
  pfn: number;
  pkey: number;
  nx: boolean;
}

/** Whether bit 12 is PAT_LARGE (not address) for an entry with this `lo` at `level`. */
function bit12IsPatLarge(lo: number, level: number): boolean {
  return (lo & X86_LO_PSE) !== 0 && x86HugeLevel(level);
}

export function decodeX86Pte(lo: number, hi: number, level: number): X86Pte {
  const bit7 = (lo & X86_LO_PSE) !== 0;
  const patLarge = bit12IsPatLarge(lo, level);
  return {
    present: (lo & X86_LO_PRESENT) !== 0,
    writable: (lo & X86_LO_RW) !== 0,
    user: (lo & X86_LO_USER) !== 0,
    pwt: (lo & X86_LO_PWT) !== 0,
    pcd: (lo & X86_LO_PCD) !== 0,
    accessed: (lo & X86_LO_ACCESSED) !== 0,
    dirty: (lo & X86_LO_DIRTY) !== 0,
    huge: level !== 1 && bit7,
    pat: level === 1 && bit7,
    global: (lo & X86_LO_GLOBAL) !== 0,
    soft1: (lo & X86_LO_SOFTW1) !== 0,
    soft2: (lo & X86_LO_SOFTW2) !== 0,
    soft3: (lo & X86_LO_SOFTW3) !== 0,
    soft4: (hi & X86_HI_SOFTW4) !== 0,
    soft5: (hi & X86_HI_SOFTW5) !== 0,
    patLarge: patLarge && (lo & X86_LO_PAT_LARGE) !== 0,
    pfn: pfnOf(patLarge ? lo & ~X86_LO_PAT_LARGE : lo, hi),
    pkey: x86Pkey(hi),
    nx: (hi & X86_HI_NX) !== 0,
  };
}

/**
 * Inverse of decodeX86Pte. Fields that have no bit at this level are ignored:
 * `pat` except at level 1, `huge` at level 1, `patLarge` unless `huge` at
 * level 2 or 3 (where the low bit of `pfn` is replaced by it).
 */
export function encodeX86Pte(e: X86Pte, level: number): { lo: number; hi: number } {
  const bit7 = level === 1 ? e.pat : e.huge;
  const flags =
    (e.present ? X86_LO_PRESENT : 0) |
    (e.writable ? X86_LO_RW : 0) |
    (e.user ? X86_LO_USER : 0) |
    (e.pwt ? X86_LO_PWT : 0) |
    (e.pcd ? X86_LO_PCD : 0) |
    (e.accessed ? X86_LO_ACCESSED : 0) |
    (e.dirty ? X86_LO_DIRTY : 0) |
    (bit7 ? X86_LO_PSE : 0) |
    (e.global ? X86_LO_GLOBAL : 0) |
    (e.soft1 ? X86_LO_SOFTW1 : 0) |
    (e.soft2 ? X86_LO_SOFTW2 : 0) |
    (e.soft3 ? X86_LO_SOFTW3 : 0);
  let lo = x86EncodeLo(e.pfn, flags);
  if (bit12IsPatLarge(lo, level)) {
    lo = ((lo & ~X86_LO_PAT_LARGE) | (e.patLarge ? X86_LO_PAT_LARGE : 0)) >>> 0;
  }
  const softHi = (e.soft4 ? X86_SOFTHI_4 : 0) | (e.soft5 ? X86_SOFTHI_5 : 0);
  return { lo, hi: x86EncodeHi(e.pfn, e.nx, e.pkey, softHi) };
}

// AMD IOMMU v1 (host) page-table entries.
//
// Source: Linux drivers/iommu/amd/amd_iommu_types.h (IOMMU_PTE_PR, IOMMU_PTE_HD_BIT,
// PM_LEVEL_ENC, PM_PTE_LEVEL, PM_ADDR_MASK, IOMMU_PTE_U/FC/IR/IW, PM_LEVEL_SHIFT,
// PM_LEVEL_INDEX, PM_LEVEL_PDE, PAGE_SIZE_PTE, PTE_PAGE_SIZE, PAGE_SIZE_PTE_COUNT,
// AMD_IOMMU_PGSIZES) and io_pgtable.c (iommu_v1_map_pages, "No level skipping
// support yet"); generic_pt/fmt/amdv1.h has the same layout. See
// docs/reference/formats.md section 2.
//
// Level convention used throughout this project: "a table at level L" is the
// table reached when the DTE mode is L and the walk starts at the top, i.e. the
// root of a mode-L domain is a table at level L, and its NextLevel field points
// at tables of level L-1 .. 1. Entries of a table at level L map, by default
// (NextLevel 0), pages of 2^(12 + 9*(L-1)) bytes: level 1 = 4 KiB, 2 = 2 MiB,
// 3 = 1 GiB. Linux's PM_LEVEL_* macros count from 0, so Linux level x is our
// level x+1; amdLevelShift keeps Linux's numbering because it IS PM_LEVEL_SHIFT.
//
// Bits not named by Linux (1..5, 7, 8, 52..58, 63) are not modelled: decode
// drops them and encode writes 0.

import { HI_ADDR_MASK, LO_ADDR_MASK, hexNum, hiOfPfn, loOfPfn, lowMask32, pfnOf, sizeLog2Label, trailingOnes32 } from "./word64.ts";

/** Bit positions in the 64-bit entry. */
export const AMD_V1_BIT = {
  PR: 0,
  HD: 6,
  NEXT_LEVEL_FIRST: 9,
  NEXT_LEVEL_LAST: 11,
  ADDR_FIRST: 12,
  ADDR_LAST: 51,
  U: 59,
  FC: 60,
  IR: 61,
  IW: 62,
} as const;

// Masks inside `lo`.
export const AMD_LO_PR = 0x1;
export const AMD_LO_HD = 0x40;
export const AMD_LO_NL_SHIFT = 9;
export const AMD_LO_NL_MASK = 0xe00;
// Masks inside `hi` (word bit n = hi bit n-32).
export const AMD_HI_U = 1 << (59 - 32);
export const AMD_HI_FC = 1 << (60 - 32);
export const AMD_HI_IR = 1 << (61 - 32);
export const AMD_HI_IW = 1 << (62 - 32);

/** Bits this codec models, per half. */
export const AMD_V1_MODELED_LO = (AMD_LO_PR | AMD_LO_HD | AMD_LO_NL_MASK | LO_ADDR_MASK) >>> 0;
export const AMD_V1_MODELED_HI = (HI_ADDR_MASK | AMD_HI_U | AMD_HI_FC | AMD_HI_IR | AMD_HI_IW) >>> 0;

/** NextLevel 7: a leaf of non-default size, encoded in the address bits. */
export const AMD_NL_LARGE = 7;
/** 512 GiB pages: "512GB Pages are not supported due to a hardware bug". */
export const AMD_V1_UNSUPPORTED_LOG2 = 39;
/** PAGE_MODE_6_LEVEL: mode 6 covers all 64 IOVA bits. */
export const AMD_V1_MAX_LEVELS = 6;
/** AMD_IOMMU_PGSIZES = GENMASK_ULL(51, 12) ^ SZ_512G. */
export const AMD_V1_MIN_PAGE_LOG2 = 12;
export const AMD_V1_MAX_PAGE_LOG2 = 51;

// ---------------------------------------------------------------------------
// Hot-path readers.

export function amdPresent(lo: number): boolean {
  return (lo & AMD_LO_PR) !== 0;
}
export function amdHostDirty(lo: number): boolean {
  return (lo & AMD_LO_HD) !== 0;
}
/** NextLevel, bits 11..9 (PM_PTE_LEVEL): 0 = default leaf, 1..6 = table, 7 = sized leaf. */
export function amdNextLevel(lo: number): number {
  return (lo >>> AMD_LO_NL_SHIFT) & 7;
}
export function amdIr(hi: number): boolean {
  return (hi & AMD_HI_IR) !== 0;
}
export function amdIw(hi: number): boolean {
  return (hi & AMD_HI_IW) !== 0;
}
export function amdFc(hi: number): boolean {
  return (hi & AMD_HI_FC) !== 0;
}
export function amdU(hi: number): boolean {
  return (hi & AMD_HI_U) !== 0;
}
/** Raw address field bits 51..12 as a PFN (for NL 7 it includes the size-encoding ones). */
export function amdAddrPfn(lo: number, hi: number): number {
  return pfnOf(lo, hi);
}
/** NextLevel 0 or 7 ends the walk. */
export function amdIsLeaf(lo: number): boolean {
  const nl = (lo >>> AMD_LO_NL_SHIFT) & 7;
  return nl === 0 || nl === AMD_NL_LARGE;
}

// ---------------------------------------------------------------------------
// Hot-path writers.

/** PM_LEVEL_PDE low half: table address | PM_LEVEL_ENC(nextLevel) | PR. */
export function amdPdeLo(tablePfn: number, nextLevel: number): number {
  return (loOfPfn(tablePfn) | ((nextLevel & 7) << AMD_LO_NL_SHIFT) | AMD_LO_PR) >>> 0;
}
/** PM_LEVEL_PDE high half: IR | IW, because permissions are ANDed down the walk. */
export function amdPdeHi(tablePfn: number): number {
  return (hiOfPfn(tablePfn) | AMD_HI_IR | AMD_HI_IW) >>> 0;
}
/** Default-size leaf (NextLevel 0) low half: address | PR. */
export function amdPteLo(pfn: number): number {
  return (loOfPfn(pfn) | AMD_LO_PR) >>> 0;
}
/** Leaf high half; Linux's iommu_v1_map_pages always sets FC. */
export function amdPteHi(pfn: number, ir: boolean, iw: boolean, fc: boolean): number {
  return (hiOfPfn(pfn) | (ir ? AMD_HI_IR : 0) | (iw ? AMD_HI_IW : 0) | (fc ? AMD_HI_FC : 0)) >>> 0;
}

/** Clamp a page-size log2 to the range the NL 7 encoding can express in bits 51..12. */
function clampLog2(log2: number): number {
  return Math.max(AMD_V1_MIN_PAGE_LOG2, Math.min(52, Math.floor(log2)));
}

/**
 * Low half of PAGE_SIZE_PTE(address, 2^log2) | PM_LEVEL_ENC(7) | PR:
 * set address bits log2-2..12, clear bit log2-1. Sizes 2^13..2^52 are
 * decodable (2^12 is not: NL 7 needs at least one encoding bit; Linux uses
 * NL 0 for default sizes).
 */
export function amdLargeLeafLo(addrPfn: number, log2: number): number {
  const n = clampLog2(log2);
  const clear = n <= 32 ? (1 << (n - 1)) >>> 0 : 0; // pagesize >> 1, if it lands in lo
  const addr = ((loOfPfn(addrPfn) | lowMask32(n)) & ~clear & LO_ADDR_MASK) >>> 0;
  return (addr | (AMD_NL_LARGE << AMD_LO_NL_SHIFT) | AMD_LO_PR) >>> 0;
}

/** High half of the NL 7 leaf: address bits 51..32 of PAGE_SIZE_PTE | FC | IR/IW. */
export function amdLargeLeafHi(addrPfn: number, log2: number, ir: boolean, iw: boolean): number {
  const n = clampLog2(log2);
  const clear = n > 32 ? (1 << (n - 33)) >>> 0 : 0;
  const addr = ((hiOfPfn(addrPfn) | lowMask32(n - 32)) & ~clear & HI_ADDR_MASK) >>> 0;
  return (addr | AMD_HI_FC | (ir ? AMD_HI_IR : 0) | (iw ? AMD_HI_IW : 0)) >>> 0;
}

/** NL 7 leaf exactly as iommu_v1_map_pages builds it for count > 1 (off the hot path). */
export function amdLargeLeaf(addrPfn: number, pageSizeBytesLog2: number, ir: boolean, iw: boolean): { lo: number; hi: number } {
  return { lo: amdLargeLeafLo(addrPfn, pageSizeBytesLog2), hi: amdLargeLeafHi(addrPfn, pageSizeBytesLog2, ir, iw) };
}

/**
 * log2 of PTE_PAGE_SIZE(pte) = 1 << (1 + ffz(pte | 0xfff)), over the whole
 * 64-bit word as Linux does. Returns 65 for a word with no zero bit at 63..12
 * (ffz(~0) is undefined in Linux).
 */
export function amdLargePageLog2(lo: number, hi: number): number {
  const low = trailingOnes32(lo | 0xfff);
  if (low < 32) return 1 + low;
  return 1 + 32 + trailingOnes32(hi);
}

/** The NL 7 leaf's first frame: the address with the size-encoding bits (12..log2-1) cleared. */
export function amdLargeBasePfn(lo: number, hi: number): number {
  const k = amdLargePageLog2(lo, hi) - 12; // frame bits covered by the page
  if (k >= 40) return 0;
  const pfn = pfnOf(lo, hi);
  return pfn - (pfn % 2 ** k);
}

/** PAGE_SIZE_PTE_COUNT: copies of an NL 7 leaf in its table, 2^((log2 - 12) % 9). */
export function amdReplicaCount(log2: number): number {
  if (log2 < 12) return 1;
  return 2 ** ((Math.floor(log2) - 12) % 9);
}

/** In AMD_IOMMU_PGSIZES: 2^12 .. 2^51 except 2^39. */
export function amdPageSizeSupported(log2: number): boolean {
  return Number.isInteger(log2) && log2 >= AMD_V1_MIN_PAGE_LOG2 && log2 <= AMD_V1_MAX_PAGE_LOG2 && log2 !== AMD_V1_UNSUPPORTED_LOG2;
}

// ---------------------------------------------------------------------------
// Level geometry.

/** PM_LEVEL_SHIFT(x) = 12 + 9x, with Linux's 0-based x (our table level x+1). */
export function amdLevelShift(level: number): number {
  return 12 + 9 * level;
}

/** Default (NextLevel 0) page size log2 of an entry in a table at `level` (1-based): 12, 21, 30, ... */
export function amdDefaultPageLog2(level: number): number {
  return 12 + 9 * (level - 1);
}

/**
 * Index into a table at `level` (1-based; 1 = the table whose entries map
 * 4 KiB) for IOVA page number `iovaPage` = iova >> 12, i.e. Linux
 * PM_LEVEL_INDEX(level - 1, iova). `iovaPage` is a non-negative integer below
 * 2^53 (all 64-bit IOVAs). Returns 0 for a level outside 1..6.
 */
export function amdIndex(iovaPage: number, level: number): number {
  if (level < 1 || level > AMD_V1_MAX_LEVELS) return 0;
  return (iovaPage / 2 ** (9 * (level - 1))) & 0x1ff;
}

/**
 * A PDE in a table at `tableLevel` pointing at a table of `nextLevel` that is
 * not tableLevel - 1. The hardware walks it (skipped levels' index bits must be
 * zero); Linux never writes one ("No level skipping support yet").
 */
export function amdIsLevelSkip(tableLevel: number, nextLevel: number): boolean {
  return nextLevel >= 1 && nextLevel <= AMD_V1_MAX_LEVELS && nextLevel < tableLevel - 1;
}

// ---------------------------------------------------------------------------
// Object codec (off the hot path).

export interface AmdV1Entry {
  present: boolean;
  hostDirty: boolean;
  /** 0..7. */
  nextLevel: number;
  /** Raw address bits 51..12 (for NL 7 including the size-encoding ones). */
  addrPfn: number;
  u: boolean;
  fc: boolean;
  ir: boolean;
  iw: boolean;
}

export function decodeAmdV1(lo: number, hi: number): AmdV1Entry {
  return {
    present: amdPresent(lo),
    hostDirty: amdHostDirty(lo),
    nextLevel: amdNextLevel(lo),
    addrPfn: pfnOf(lo, hi),
    u: amdU(hi),
    fc: amdFc(hi),
    ir: amdIr(hi),
    iw: amdIw(hi),
  };
}

export function encodeAmdV1(e: AmdV1Entry): { lo: number; hi: number } {
  const lo =
    (loOfPfn(e.addrPfn) |
      ((e.nextLevel & 7) << AMD_LO_NL_SHIFT) |
      (e.hostDirty ? AMD_LO_HD : 0) |
      (e.present ? AMD_LO_PR : 0)) >>>
    0;
  const hi =
    (hiOfPfn(e.addrPfn) | (e.u ? AMD_HI_U : 0) | (e.fc ? AMD_HI_FC : 0) | (e.ir ? AMD_HI_IR : 0) | (e.iw ? AMD_HI_IW : 0)) >>>
    0;
  return { lo, hi };
}

function flagText(lo: number, hi: number): string {
  let s = "";
  if (amdIr(hi)) s += " IR";
  if (amdIw(hi)) s += " IW";
  if (amdFc(hi)) s += " FC";
  if (amdU(hi)) s += " U";
  if (amdHostDirty(lo)) s += " HD";
  return s;
}

/**
 * One line for an entry of a table at `level` (1-based), e.g.
 * "PDE -> table L1 @pfn 0x1234 IR IW", "PTE 4 KiB -> pfn 0x7 IR",
 * "PTE 64 KiB (NL7) -> pfn 0x10 IR IW", "not present".
 */
export function describeAmdV1(lo: number, hi: number, level: number): string {
  if (!amdPresent(lo)) return "not present";
  const nl = amdNextLevel(lo);
  const flags = flagText(lo, hi);
  if (nl === 0) return `PTE ${sizeLog2Label(amdDefaultPageLog2(level))} -> pfn ${hexNum(pfnOf(lo, hi))}${flags}`;
  if (nl === AMD_NL_LARGE) {
    const size = sizeLog2Label(amdLargePageLog2(lo, hi));
    return `PTE ${size} (NL7) -> pfn ${hexNum(amdLargeBasePfn(lo, hi))}${flags}`;
  }
  const skip = amdIsLevelSkip(level, nl) ? " (level skip)" : "";
  return `PDE -> table L${nl} @pfn ${hexNum(pfnOf(lo, hi))}${flags}${skip}`;
}

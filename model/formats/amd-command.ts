// AMD IOMMU command-buffer commands (16 bytes = u32 data[4]).
//
// Source: Linux drivers/iommu/amd/amd_iommu_types.h (CMD_COMPL_WAIT .. CMD_INV_ALL,
// CMD_SET_TYPE, CMD_BUFFER_SIZE, CMD_COMPL_WAIT_STORE_MASK, CMD_INV_IOMMU_PAGES_SIZE_MASK,
// CMD_INV_IOMMU_PAGES_PDE_MASK, CMD_INV_IOMMU_ALL_PAGES_ADDRESS) and iommu.c
// (build_completion_wait, build_inv_dte, build_inv_address, build_inv_iommu_pages,
// build_inv_iotlb_pages, build_inv_all, amd_iommu_domain_flush_all). See
// docs/reference/formats.md section 2, "Commands".
//
// Page numbers here are IOVA >> 12 over the full 64-bit IOVA space, so they are
// integers in [0, 2^52); every computation stays below 2^53 and is exact.

import { fls64, hex64, hexNum, loOfPfn, trailingOnes32 } from "./word64.ts";

export type CmdWords = [number, number, number, number];

export const CMD_COMPL_WAIT = 0x01;
export const CMD_INV_DEV_ENTRY = 0x02;
export const CMD_INV_IOMMU_PAGES = 0x03;
export const CMD_INV_IOTLB_PAGES = 0x04;
export const CMD_INV_ALL = 0x08;
/** CMD_BUFFER_SIZE 8192 bytes / 16 bytes per command. */
export const CMD_BUFFER_SIZE = 8192;
export const CMD_BUFFER_ENTRIES = 512;

/** data[1] bits 31..28 hold the opcode (CMD_SET_TYPE). */
export const CMD_TYPE_SHIFT = 28;

export const CMD_COMPL_WAIT_STORE_MASK = 0x01;
export const CMD_COMPL_WAIT_INT_MASK = 0x02;
/** data[2] flag bits of INVALIDATE_IOMMU_PAGES / INVALIDATE_IOTLB_PAGES. */
export const CMD_INV_IOMMU_PAGES_SIZE_MASK = 0x01; // S
export const CMD_INV_IOMMU_PAGES_PDE_MASK = 0x02;
export const CMD_INV_IOMMU_PAGES_GN_MASK = 0x04;

/** CMD_INV_IOMMU_ALL_PAGES_ADDRESS 0x7fffffffffffffff, as halves. */
export const CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO = 0xffffffff;
export const CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI = 0x7fffffff;
/** The same address after build_inv_address's `& PAGE_MASK`, as a page number: 2^51 - 1. */
const ALL_PAGES_ADDRESS_PFN = 2 ** 51 - 1;

/**
 * Page count meaning "every page": the whole 64-bit IOVA space is 2^52 pages
 * of 4 KiB. An exact number (not Infinity), so first + pages stays valid
 * arithmetic: an all-pages invalidation covers [0, 2^52).
 */
export const INV_PAGES_ALL = 2 ** 52;

const TWO_20 = 0x100000;
const TWO_32 = 0x100000000;

// ---------------------------------------------------------------------------
// Address encoding (build_inv_address), hot path: numbers only.

/** fls of (a ^ b) for integers in [0, 2^53). */
function flsXor(a: number, b: number): number {
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  const hi = ((Math.floor(a / TWO_32) >>> 0) ^ (Math.floor(b / TWO_32) >>> 0)) >>> 0;
  return fls64(lo, hi);
}

/**
 * The page number build_inv_address puts in the command for pages
 * [firstPfn, firstPfn + pages). One page: the page itself (S = 0). Otherwise
 * msb_diff = fls64(end ^ address) - 1, and the address gets ones below
 * msb_diff; if msb_diff > 51 it is CMD_INV_IOMMU_ALL_PAGES_ADDRESS. In page
 * numbers msb_diff is 12 + the top differing bit of first ^ last.
 * `pages` below 1 (or NaN) is treated as 1.
 */
export function invEncodedPfn(firstPfn: number, pages: number): number {
  const first = Math.max(0, Math.floor(firstPfn)) || 0;
  if (!(pages > 1)) return first;
  const last = (first + Math.floor(pages) - 1) % INV_PAGES_ALL; // end wraps at 2^64 in Linux
  const msbPfn = flsXor(first, last) - 1;
  if (msbPfn < 0) return first; // same page after the wrap
  if (msbPfn + 12 > 51) return ALL_PAGES_ADDRESS_PFN;
  const span = 2 ** msbPfn;
  return first - (first % span) + (span - 1); // first | (span - 1)
}

/** data[2]: address bits 31..12 | S (when more than one page) | extra flags. */
function invD2(encPfn: number, pages: number, flags: number): number {
  return (loOfPfn(encPfn) | (pages > 1 ? CMD_INV_IOMMU_PAGES_SIZE_MASK : 0) | flags) >>> 0;
}

/** data[3]: address bits 63..32. */
function invD3(encPfn: number): number {
  return Math.floor(encPfn / TWO_20) >>> 0;
}

// ---------------------------------------------------------------------------
// Builders (one small tuple per command).

/** build_completion_wait: store `value` at the 8-byte aligned `storeAddr` when all earlier commands are done. */
export function buildCompletionWait(storeAddrLo: number, storeAddrHi: number, valueLo: number, valueHi: number): CmdWords {
  return [
    ((storeAddrLo & 0xfffffff8) | CMD_COMPL_WAIT_STORE_MASK) >>> 0,
    ((storeAddrHi & 0xfffff) | (CMD_COMPL_WAIT << CMD_TYPE_SHIFT)) >>> 0,
    valueLo >>> 0,
    valueHi >>> 0,
  ];
}

/** build_inv_dte: INVALIDATE_DEVTAB_ENTRY for a 16-bit device id. */
export function buildInvalidateDevEntry(devId: number): CmdWords {
  return [devId & 0xffff, (CMD_INV_DEV_ENTRY << CMD_TYPE_SHIFT) >>> 0, 0, 0];
}

/**
 * build_inv_iommu_pages for pages [firstPfn, firstPfn + pages) of a domain.
 * Linux always passes pde = true ("flush everything, not only the PTEs").
 */
export function buildInvalidateIommuPages(domainId: number, firstPfn: number, pages: number, pde: boolean): CmdWords {
  const enc = invEncodedPfn(firstPfn, pages);
  return [
    0,
    ((domainId & 0xffff) | (CMD_INV_IOMMU_PAGES << CMD_TYPE_SHIFT)) >>> 0,
    invD2(enc, pages, pde ? CMD_INV_IOMMU_PAGES_PDE_MASK : 0),
    invD3(enc),
  ];
}

/**
 * amd_iommu_domain_flush_all: INVALIDATE_IOMMU_PAGES over 0 ..
 * CMD_INV_IOMMU_ALL_PAGES_ADDRESS, which build_inv_address turns into the
 * all-pages address with S, plus PDE.
 */
export function buildInvalidateAll(domainId: number): CmdWords {
  return [
    0,
    ((domainId & 0xffff) | (CMD_INV_IOMMU_PAGES << CMD_TYPE_SHIFT)) >>> 0,
    ((CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO & 0xfffff000) | CMD_INV_IOMMU_PAGES_SIZE_MASK | CMD_INV_IOMMU_PAGES_PDE_MASK) >>> 0,
    CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI,
  ];
}

/** build_inv_iotlb_pages: ATS device-TLB invalidation, same address encoding, no PDE. */
export function buildInvalidateIotlbPages(devId: number, firstPfn: number, pages: number, qdep = 0): CmdWords {
  const enc = invEncodedPfn(firstPfn, pages);
  return [
    ((devId & 0xffff) | ((qdep & 0xff) << 24)) >>> 0,
    ((devId & 0xffff) | (CMD_INV_IOTLB_PAGES << CMD_TYPE_SHIFT)) >>> 0,
    invD2(enc, pages, 0),
    invD3(enc),
  ];
}

/** build_inv_all: opcode 8, invalidate every cache of this IOMMU (needs FEATURE_IA). Not the domain flush. */
export function buildInvAll(): CmdWords {
  return [0, (CMD_INV_ALL << CMD_TYPE_SHIFT) >>> 0, 0, 0];
}

// ---------------------------------------------------------------------------
// Hot-path decoders.

export function cmdOpcode(d1: number): number {
  return d1 >>> CMD_TYPE_SHIFT;
}
export function cmdDomainId(d1: number): number {
  return d1 & 0xffff;
}

/** Trailing ones of address bits 63..12 (0..52). */
function invAddrTrailingOnes(d2: number, d3: number): number {
  const low = trailingOnes32(d2 >>> 12); // at most 20: the top 12 bits are zero
  return low < 20 ? low : 20 + trailingOnes32(d3);
}

/**
 * Pages the hardware invalidates: 1 with S clear; with S set, 2^(1 + t) where t
 * is the number of trailing ones in address bits 63..12, capped at
 * INV_PAGES_ALL (t >= 51 covers the whole 64-bit space).
 */
export function invRangePages(d2: number, d3: number): number {
  if ((d2 & CMD_INV_IOMMU_PAGES_SIZE_MASK) === 0) return 1;
  const t = invAddrTrailingOnes(d2, d3);
  return t >= 51 ? INV_PAGES_ALL : 2 ** (t + 1);
}

/** First page invalidated: the address, with the size-encoding ones cleared when S is set. */
export function invRangeFirstPfn(d2: number, d3: number): number {
  const pfn = (d3 >>> 0) * TWO_20 + (d2 >>> 12);
  if ((d2 & CMD_INV_IOMMU_PAGES_SIZE_MASK) === 0) return pfn;
  const t = invAddrTrailingOnes(d2, d3);
  if (t >= 51) return 0;
  return pfn - (pfn % 2 ** t);
}

/** Whether the range covers every page of the 64-bit IOVA space. */
export function invRangeAll(d2: number, d3: number): boolean {
  return (d2 & CMD_INV_IOMMU_PAGES_SIZE_MASK) !== 0 && invAddrTrailingOnes(d2, d3) >= 51;
}

// ---------------------------------------------------------------------------
// Object decoder and rendering (off the hot path).

export type AmdCommand =
  | {
      op: "COMPLETION_WAIT";
      store: boolean;
      interrupt: boolean;
      storeAddrLo: number;
      storeAddrHi: number;
      valueLo: number;
      valueHi: number;
    }
  | { op: "INVALIDATE_DEVTAB_ENTRY"; devId: number }
  | {
      op: "INVALIDATE_IOMMU_PAGES";
      domainId: number;
      pde: boolean;
      s: boolean;
      gn: boolean;
      /** What the hardware invalidates: may be larger than what software asked for. */
      firstPfn: number;
      pages: number;
      all: boolean;
    }
  | { op: "INVALIDATE_IOTLB_PAGES"; devId: number; qdep: number; s: boolean; firstPfn: number; pages: number; all: boolean }
  | { op: "INVALIDATE_ALL" }
  | { op: "UNKNOWN"; opcode: number };

export function decodeCommand(d0: number, d1: number, d2: number, d3: number): AmdCommand {
  const opcode = cmdOpcode(d1);
  switch (opcode) {
    case CMD_COMPL_WAIT:
      return {
        op: "COMPLETION_WAIT",
        store: (d0 & CMD_COMPL_WAIT_STORE_MASK) !== 0,
        interrupt: (d0 & CMD_COMPL_WAIT_INT_MASK) !== 0,
        storeAddrLo: (d0 & 0xfffffff8) >>> 0,
        storeAddrHi: d1 & 0xfffff,
        valueLo: d2 >>> 0,
        valueHi: d3 >>> 0,
      };
    case CMD_INV_DEV_ENTRY:
      return { op: "INVALIDATE_DEVTAB_ENTRY", devId: d0 & 0xffff };
    case CMD_INV_IOMMU_PAGES:
      return {
        op: "INVALIDATE_IOMMU_PAGES",
        domainId: cmdDomainId(d1),
        pde: (d2 & CMD_INV_IOMMU_PAGES_PDE_MASK) !== 0,
        s: (d2 & CMD_INV_IOMMU_PAGES_SIZE_MASK) !== 0,
        gn: (d2 & CMD_INV_IOMMU_PAGES_GN_MASK) !== 0,
        firstPfn: invRangeFirstPfn(d2, d3),
        pages: invRangePages(d2, d3),
        all: invRangeAll(d2, d3),
      };
    case CMD_INV_IOTLB_PAGES:
      return {
        op: "INVALIDATE_IOTLB_PAGES",
        devId: d0 & 0xffff,
        qdep: (d0 >>> 24) & 0xff,
        s: (d2 & CMD_INV_IOMMU_PAGES_SIZE_MASK) !== 0,
        firstPfn: invRangeFirstPfn(d2, d3),
        pages: invRangePages(d2, d3),
        all: invRangeAll(d2, d3),
      };
    case CMD_INV_ALL:
      return { op: "INVALIDATE_ALL" };
    default:
      return { op: "UNKNOWN", opcode };
  }
}

function rangeText(firstPfn: number, pages: number, all: boolean): string {
  if (all) return "all";
  const iova = "0x" + (BigInt(firstPfn) << 12n).toString(16);
  return `iova ${iova} +${pages} ${pages === 1 ? "page" : "pages"}`;
}

/** One line, e.g. "INVALIDATE_IOMMU_PAGES dom 1 iova 0x1f8000 +8 pages PDE". */
export function describeCommand(d0: number, d1: number, d2: number, d3: number): string {
  const c = decodeCommand(d0, d1, d2, d3);
  switch (c.op) {
    case "COMPLETION_WAIT":
      return (
        `COMPLETION_WAIT store ${hex64(c.storeAddrLo, c.storeAddrHi)} <- ${hex64(c.valueLo, c.valueHi)}` +
        (c.store ? "" : " no-store") +
        (c.interrupt ? " INT" : "")
      );
    case "INVALIDATE_DEVTAB_ENTRY":
      return `INVALIDATE_DEVTAB_ENTRY dev ${hexNum(c.devId)}`;
    case "INVALIDATE_IOMMU_PAGES":
      return `INVALIDATE_IOMMU_PAGES DomainID ${c.domainId} ${rangeText(c.firstPfn, c.pages, c.all)}${c.pde ? " PDE" : ""}${c.gn ? " GN" : ""}`;
    case "INVALIDATE_IOTLB_PAGES":
      return `INVALIDATE_IOTLB_PAGES dev ${hexNum(c.devId)} ${rangeText(c.firstPfn, c.pages, c.all)}`;
    case "INVALIDATE_ALL":
      return "INVALIDATE_ALL";
    case "UNKNOWN":
      return `UNKNOWN opcode ${hexNum(c.opcode)}`;
    default: {
      const never: never = c;
      return String(never);
    }
  }
}

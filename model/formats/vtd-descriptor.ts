// Intel VT-d invalidation-queue descriptors (128-bit, legacy mode), as u32 words
// [qw0 31..0, qw0 63..32, qw1 31..0, qw1 63..32].
//
// Source: Linux drivers/iommu/intel/iommu.h (QI_CC_TYPE 0x1, QI_IOTLB_TYPE 0x2,
// QI_DIOTLB_TYPE 0x3, QI_IWD_TYPE 0x5; QI_CC_DID/SID/FM/GRAN, QI_IOTLB_DID/DR/DW/
// GRAN/ADDR/IH/AM, QI_DEV_IOTLB_SID/QDEP/PFSID/ADDR/SIZE, QI_IWD_STATUS_DATA,
// QI_IWD_STATUS_WRITE, QI_IWD_FENCE; DMA_TLB_GLOBAL_FLUSH 1 << 60, DMA_TLB_DSI_FLUSH
// 2 << 60, DMA_TLB_PSI_FLUSH 3 << 60; DMA_CCMD_GLOBAL_INVL 1 << 61,
// DMA_CCMD_DOMAIN_INVL 2 << 61, DMA_CCMD_DEVICE_INVL 3 << 61; cap_max_amask_val
// ((c >> 48) & 0x3f)); drivers/iommu/intel/dmar.c qi_flush_context,
// qi_flush_iotlb, qi_flush_dev_iotlb (the range is encoded in the address:
// addr |= (1 << (VTD_PAGE_SHIFT + mask - 1)) - 1, plus QI_DEV_IOTLB_SIZE) and
// qi_submit_sync (every batch ends with a wait descriptor that writes QI_DONE
// to the submitter's status word); drivers/iommu/intel/cache.c
// calculate_psi_aligned_address and cache_tag_flush_range (page-selective
// with AM when mask <= MAMV, else domain-selective). QEMU
// hw/i386/intel_iommu_internal.h VTD_MAMV 18, VTD_INV_DESC_IOTLB_AM(val)
// ((val) & 0x3fULL), VTD_INV_DESC_IOTLB_IH.

import { hex64, hexNum, hiOfPfn, loOfPfn, pfnOf, trailingOnes32 } from "./word64.ts";

export type DescWords = [number, number, number, number];

export const QI_CC_TYPE = 0x1;
export const QI_IOTLB_TYPE = 0x2;
export const QI_DIOTLB_TYPE = 0x3;
export const QI_IEC_TYPE = 0x4;
export const QI_IWD_TYPE = 0x5;

/** Granularity field, qw0 bits 5..4 (QI_IOTLB_GRAN / QI_CC_GRAN). */
export const GRAN_GLOBAL = 1, GRAN_DOMAIN = 2, GRAN_PAGE = 3;
/** Context-cache granularity 3 is device-selective (DMA_CCMD_DEVICE_INVL). */
export const CC_GRAN_DEVICE = 3;

export const QI_IOTLB_DW = 1 << 6;
export const QI_IOTLB_DR = 1 << 7;
/** qw1 bit 6: invalidation hint, "only leaf entries changed: keep the paging-structure caches". */
export const QI_IOTLB_IH = 1 << 6;
export const QI_IOTLB_AM_MASK = 0x3f;
/** QI_DEV_IOTLB_SIZE, qw1 bit 0: the range is encoded in the address's trailing ones. */
export const QI_DEV_IOTLB_SIZE = 1;
/** Linux QI_DEV_IOTLB_MAX_INVS 32: a queue depth this large is written as 0. */
export const QI_DEV_IOTLB_MAX_INVS = 32;

export const QI_IWD_STATUS_WRITE = 1 << 5;
export const QI_IWD_FENCE = 1 << 6;
/** Linux enum { QI_FREE, QI_IN_USE, QI_DONE, QI_ABORT }: the value the wait descriptor stores. */
export const QI_DONE = 2;

/** Maximum address-mask value the model's IOMMU reports (CAP.MAMV): QEMU VTD_MAMV 18. */
export const VTD_MAMV = 18;
/** Linux MAX_AGAW_PFN_WIDTH: MAX_AGAW_WIDTH 64 - VTD_PAGE_SHIFT 12. */
export const MAX_AGAW_PFN_WIDTH = 52;

const TWO_32 = 0x100000000;

/** Bit `b` of a non-negative integer below 2^53. */
function bitOf(x: number, b: number): number {
  return Math.floor(x / 2 ** b) % 2;
}

/**
 * Linux cache.c calculate_psi_aligned_address for pages [firstPfn,
 * firstPfn + pages): the naturally aligned power-of-two block (2^mask pages
 * from `addrPfn`) that covers the range. The page count is rounded up to a
 * power of two; when the first page is not aligned to it, mask becomes the
 * lowest bit at or above it where the first and last page agree
 * (__ffs(~(pfn ^ end_pfn) & ~bitmask)), MAX_AGAW_PFN_WIDTH if none.
 */
export function psiAligned(firstPfn: number, pages: number): { addrPfn: number; mask: number } {
  const n = Math.max(1, Math.floor(pages));
  let mask = 0;
  while (2 ** mask < n) mask++;
  if (firstPfn % 2 ** mask !== 0) {
    const last = firstPfn + n - 1;
    let b = mask;
    while (b < MAX_AGAW_PFN_WIDTH && bitOf(firstPfn, b) !== bitOf(last, b)) b++;
    mask = b;
  }
  const span = 2 ** mask;
  return { addrPfn: firstPfn - (firstPfn % span), mask };
}

// ---------------------------------------------------------------------------
// Builders.

/** qi_flush_context: context-cache invalidation, global (1), domain (2, `did`) or device (3, `did`, `sid`, function mask `fm`). */
export function buildContextCacheInv(gran: number, did: number, sid = 0, fm = 0): DescWords {
  return [(QI_CC_TYPE | ((gran & 3) << 4) | ((did & 0xffff) << 16)) >>> 0, ((sid & 0xffff) | ((fm & 3) << 16)) >>> 0, 0, 0];
}

/**
 * qi_flush_iotlb: IOTLB invalidation. Global and domain-selective ones carry
 * no address (Linux passes addr 0, size_order 0); a page-selective one
 * carries the 2^am-page aligned block at `addrPfn`, and IH.
 */
export function buildIotlbInv(gran: number, did: number, addrPfn = 0, am = 0, ih = false, drain = false): DescWords {
  return [
    (QI_IOTLB_TYPE | ((gran & 3) << 4) | (drain ? QI_IOTLB_DW | QI_IOTLB_DR : 0) | ((did & 0xffff) << 16)) >>> 0,
    0,
    (loOfPfn(addrPfn) | (ih ? QI_IOTLB_IH : 0) | (am & QI_IOTLB_AM_MASK)) >>> 0,
    hiOfPfn(addrPfn) | (Math.floor(addrPfn / 2 ** 40) << 20),
  ];
}

/**
 * qi_flush_dev_iotlb: device-TLB (ATS) invalidation of 2^mask pages from the
 * aligned `addrPfn` for requester `sid`: with mask > 0 the address gets
 * mask - 1 trailing one bits above bit 11 and the SIZE bit.
 */
export function buildDevIotlbInv(sid: number, addrPfn: number, mask: number, qdep = 0, pfsid = 0): DescWords {
  const pfn = mask > 0 ? addrPfn + 2 ** (mask - 1) - 1 : addrPfn;
  const q = qdep >= QI_DEV_IOTLB_MAX_INVS ? 0 : qdep;
  return [
    (QI_DIOTLB_TYPE | ((q & 0x1f) << 16) | ((pfsid & 0xf) << 12)) >>> 0,
    ((sid & 0xffff) | (((pfsid >>> 4) & 0xfff) << 20)) >>> 0,
    (loOfPfn(pfn) | (mask > 0 ? QI_DEV_IOTLB_SIZE : 0)) >>> 0,
    hiOfPfn(pfn) | (Math.floor(pfn / 2 ** 40) << 20),
  ];
}

/** qi_submit_sync's invalidation wait: when every earlier descriptor is done, store `data` (QI_DONE) at `statusAddr`. */
export function buildInvWait(statusAddr: number, data = QI_DONE, fence = false): DescWords {
  return [
    (QI_IWD_TYPE | QI_IWD_STATUS_WRITE | (fence ? QI_IWD_FENCE : 0)) >>> 0,
    data >>> 0,
    (statusAddr % TWO_32 & ~3) >>> 0,
    Math.floor(statusAddr / TWO_32) >>> 0,
  ];
}

// ---------------------------------------------------------------------------
// Hot-path decoders.

export function descType(q0lo: number): number {
  return q0lo & 0xf;
}
export function descGran(q0lo: number): number {
  return (q0lo >>> 4) & 3;
}
export function descDid(q0lo: number): number {
  return (q0lo >>> 16) & 0xffff;
}
export function iotlbAm(q1lo: number): number {
  return q1lo & QI_IOTLB_AM_MASK;
}
export function iotlbIh(q1lo: number): boolean {
  return (q1lo & QI_IOTLB_IH) !== 0;
}
/** The page number of qw1's address field, bits 63..12. */
export function descAddrPfn(q1lo: number, q1hi: number): number {
  return (q1hi >>> 0) * 0x100000 + (q1lo >>> 12);
}
/** Page-selective IOTLB invalidation: first page of the 2^AM block (the hardware ignores the address's low AM bits). */
export function iotlbFirstPfn(q1lo: number, q1hi: number): number {
  const pfn = descAddrPfn(q1lo, q1hi);
  const span = 2 ** iotlbAm(q1lo);
  return pfn - (pfn % span);
}
export function devIotlbSid(q0hi: number): number {
  return q0hi & 0xffff;
}
/** Device-TLB range: 1 page without SIZE; with it, 2^(t+1) pages where t counts the address's trailing ones. */
export function devIotlbPages(q1lo: number, q1hi: number): number {
  if ((q1lo & QI_DEV_IOTLB_SIZE) === 0) return 1;
  const low = trailingOnes32(q1lo >>> 12);
  const t = low < 20 ? low : 20 + trailingOnes32(q1hi);
  return 2 ** Math.min(t + 1, MAX_AGAW_PFN_WIDTH);
}
export function devIotlbFirstPfn(q1lo: number, q1hi: number): number {
  const pfn = descAddrPfn(q1lo, q1hi);
  const pages = devIotlbPages(q1lo, q1hi);
  return pfn - (pfn % pages);
}
export function iwdStatusWrite(q0lo: number): boolean {
  return (q0lo & QI_IWD_STATUS_WRITE) !== 0;
}
export function iwdStatusData(q0hi: number): number {
  return q0hi >>> 0;
}
export function iwdStatusAddr(q1lo: number, q1hi: number): number {
  return (q1hi >>> 0) * TWO_32 + ((q1lo & ~3) >>> 0);
}

// ---------------------------------------------------------------------------
// Rendering (off the hot path).

const GRAN = ["reserved", "global", "domain", "page"];

/** One line, e.g. "IOTLB_INV page DID 1 iova 0x1f8000 AM 3 IH". */
export function describeDescriptor(q0lo: number, q0hi: number, q1lo: number, q1hi: number): string {
  switch (descType(q0lo)) {
    case QI_CC_TYPE: {
      const g = descGran(q0lo);
      return `CONTEXT_CACHE_INV ${g === CC_GRAN_DEVICE ? "device" : GRAN[g]}${g >= GRAN_DOMAIN ? ` DID ${descDid(q0lo)}` : ""}${g === CC_GRAN_DEVICE ? ` SID ${hexNum(q0hi & 0xffff)}` : ""}`;
    }
    case QI_IOTLB_TYPE: {
      const g = descGran(q0lo);
      const base = `IOTLB_INV ${GRAN[g]}${g >= GRAN_DOMAIN ? ` DID ${descDid(q0lo)}` : ""}`;
      if (g !== GRAN_PAGE) return base;
      return `${base} iova ${hexNum(iotlbFirstPfn(q1lo, q1hi) * 4096)} AM ${iotlbAm(q1lo)} (+${2 ** iotlbAm(q1lo)} pages)${iotlbIh(q1lo) ? " IH" : ""}`;
    }
    case QI_DIOTLB_TYPE:
      return `DEV_IOTLB_INV SID ${hexNum(devIotlbSid(q0hi))} iova ${hexNum(devIotlbFirstPfn(q1lo, q1hi) * 4096)} +${devIotlbPages(q1lo, q1hi)} pages`;
    case QI_IWD_TYPE:
      return `INV_WAIT${iwdStatusWrite(q0lo) ? ` status ${hex64(q1lo, q1hi)} <- ${iwdStatusData(q0hi)}` : ""}${(q0lo & QI_IWD_FENCE) !== 0 ? " FENCE" : ""}`;
    default:
      return `descriptor type ${descType(q0lo)} ${hex64(q0lo, q0hi)} ${hex64(q1lo, q1hi)}`;
  }
}

/** The address of an IOTLB / device-TLB descriptor as a 64-bit value (for tests). */
export function descAddr(q1lo: number, q1hi: number): number {
  return pfnOf(q1lo, q1hi) * 4096;
}

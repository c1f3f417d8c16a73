// Intel VT-d context entry (legacy mode), 128 bits: [lo 31..0, lo 63..32, hi 31..0, hi 63..32].
//
// Source: Linux drivers/iommu/intel/iommu.h context_set_present (lo bit 0),
// context_set_fault_enable (clears lo bit 1, FPD), context_set_translation_type
// (lo bits 3..2: CONTEXT_TT_MULTI_LEVEL 0, CONTEXT_TT_DEV_IOTLB 1,
// CONTEXT_TT_PASS_THROUGH 2), context_set_address_root (lo & VTD_PAGE_MASK,
// the second-level page-table pointer SLPTPTR), context_set_address_width (hi
// bits 2..0, AW = AGAW), context_set_domain_id (hi bits 23..8) and
// context_domain_id; iommu.c domain_context_mapping_one (TT_DEV_IOTLB when the
// device has ATS, agaw_to_level). QEMU hw/i386/intel_iommu_internal.h
// VTD_CONTEXT_ENTRY_P, VTD_CONTEXT_ENTRY_FPD (1 << 1), VTD_CONTEXT_ENTRY_TT
// (3ULL << 2), VTD_CONTEXT_ENTRY_AW 7, VTD_CONTEXT_ENTRY_DID(val) ((val >> 8) & 0xffff).

import { hexNum, hiOfPfn, loOfPfn, pfnOf } from "./word64.ts";

export type ContextEntryWords = [number, number, number, number];

export const CTX_P = 0x1;
export const CTX_FPD = 0x2;
export const CTX_TT_SHIFT = 2;
export const CTX_TT_MASK = 0xc;
export const CONTEXT_TT_MULTI_LEVEL = 0;
export const CONTEXT_TT_DEV_IOTLB = 1;
export const CONTEXT_TT_PASS_THROUGH = 2;
export const CTX_AW_MASK = 0x7;
export const CTX_DID_SHIFT = 8;

/**
 * AGAW encodings (the AW field): Linux agaw_to_level(agaw) = agaw + 2 and
 * agaw_to_width(agaw) = 30 + 9 * agaw (LEVEL_STRIDE 9). Linux's default
 * domain width is 48 bits (DEFAULT_DOMAIN_ADDRESS_WIDTH 48): AGAW 2, 4 levels;
 * 5-level tables (57 bits) are AGAW 3.
 */
export const AGAW_39 = 1, AGAW_48 = 2, AGAW_57 = 3;
export function agawToLevel(agaw: number): number {
  return agaw + 2;
}
export function agawToWidth(agaw: number): number {
  return Math.min(30 + agaw * 9, 64);
}
/** Linux width_to_agaw: DIV_ROUND_UP(width - 30, LEVEL_STRIDE). */
export function widthToAgaw(width: number): number {
  return Math.ceil((width - 30) / 9);
}
export function levelToAgaw(levels: number): number {
  return levels - 2;
}

export interface ContextFields {
  present: boolean;
  /** Fault processing disabled. Linux clears it (context_set_fault_enable). */
  fpd: boolean;
  /** Translation type, 0..3. */
  tt: number;
  /** Second-level page-table root (SLPTPTR) as a frame number. */
  slptPfn: number;
  /** Address width (AGAW encoding). */
  aw: number;
  domainId: number;
}

/** Encodes a context entry the way domain_context_mapping_one writes one (fields Linux does not set are 0). */
export function buildContextEntry(f: ContextFields): ContextEntryWords {
  const lo = (f.present ? CTX_P : 0) | (f.fpd ? CTX_FPD : 0) | ((f.tt & 3) << CTX_TT_SHIFT) | loOfPfn(f.slptPfn);
  return [lo >>> 0, hiOfPfn(f.slptPfn), ((f.aw & CTX_AW_MASK) | ((f.domainId & 0xffff) << CTX_DID_SHIFT)) >>> 0, 0];
}

// Hot-path readers (lo = word 0, hi = word 2).
export function ctxPresent(lo: number): boolean {
  return (lo & CTX_P) !== 0;
}
export function ctxTt(lo: number): number {
  return (lo & CTX_TT_MASK) >>> CTX_TT_SHIFT;
}
export function ctxSlptPfn(lo: number, loHi: number): number {
  return pfnOf(lo, loHi);
}
export function ctxAw(hi: number): number {
  return hi & CTX_AW_MASK;
}
export function ctxDomainId(hi: number): number {
  return (hi >>> CTX_DID_SHIFT) & 0xffff;
}

export function decodeContextEntry(w: Readonly<ContextEntryWords>): ContextFields {
  return {
    present: ctxPresent(w[0]),
    fpd: (w[0] & CTX_FPD) !== 0,
    tt: ctxTt(w[0]),
    slptPfn: ctxSlptPfn(w[0], w[1]),
    aw: ctxAw(w[2]),
    domainId: ctxDomainId(w[2]),
  };
}

const TT_NAMES = ["multi-level", "dev-iotlb", "pass-through", "reserved"];

export function describeContextEntry(w: Readonly<ContextEntryWords>): string {
  const c = decodeContextEntry(w);
  if (!c.present) return "context entry not present";
  return `context entry P DID ${c.domainId} TT ${TT_NAMES[c.tt]} AW ${c.aw} (${agawToLevel(c.aw)}-level) SLPTPTR ${hexNum(c.slptPfn * 4096)}${c.fpd ? " FPD" : ""}`;
}

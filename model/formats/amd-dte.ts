// AMD IOMMU device table entry (DTE), words data[0] and data[1].
//
// Source: Linux drivers/iommu/amd/amd_iommu_types.h (DTE_FLAG_V, DTE_FLAG_TV,
// DTE_MODE_MASK GENMASK_ULL(11, 9), DTE_HOST_TRP GENMASK_ULL(51, 12),
// DTE_FLAG_IR, DTE_FLAG_IW, DTE_DOMID_MASK GENMASK_ULL(15, 0), DTE_FLAG_IOTLB
// BIT_ULL(32)) and iommu.c set_dte_entry / clear_dte_entry. See
// docs/reference/formats.md section 2, "Device table entry".
//
// A DTE is 256 bits (u64 data[4]); only data[0] and data[1] are modelled, as
// four u32 words [d0lo, d0hi, d1lo, d1hi]. Guest (GCR3/GV/GLX), PPR, HAD and
// interrupt-remapping fields are not modelled: decode drops them, encode
// writes 0.

import { HI_ADDR_MASK, LO_ADDR_MASK, hexNum, hiOfPfn, loOfPfn, pfnOf } from "./word64.ts";

/** [data[0] bits 31..0, data[0] bits 63..32, data[1] bits 31..0, data[1] bits 63..32]. */
export type DteWords = [number, number, number, number];

// data[0] low half.
export const DTE_D0LO_V = 0x1;
export const DTE_D0LO_TV = 0x2;
export const DTE_D0LO_MODE_SHIFT = 9;
export const DTE_D0LO_MODE_MASK = 0xe00;
// data[0] high half: IR bit 61, IW bit 62.
export const DTE_D0HI_IR = 1 << (61 - 32);
export const DTE_D0HI_IW = 1 << (62 - 32);
// data[1].
export const DTE_D1LO_DOMID_MASK = 0xffff;
/** DTE_FLAG_IOTLB, data[1] bit 32: the device may use ATS. */
export const DTE_D1HI_IOTLB = 0x1;

/** Bits this codec models, per word. */
export const DTE_MODELED: Readonly<DteWords> = [
  (DTE_D0LO_V | DTE_D0LO_TV | DTE_D0LO_MODE_MASK | LO_ADDR_MASK) >>> 0,
  (HI_ADDR_MASK | DTE_D0HI_IR | DTE_D0HI_IW) >>> 0,
  DTE_D1LO_DOMID_MASK,
  DTE_D1HI_IOTLB,
];

// ---------------------------------------------------------------------------
// Hot-path readers.

export function dteValid(d0lo: number): boolean {
  return (d0lo & DTE_D0LO_V) !== 0;
}
export function dteTranslationValid(d0lo: number): boolean {
  return (d0lo & DTE_D0LO_TV) !== 0;
}
/** Mode, bits 11..9: number of page-table levels, 0 = no translation. */
export function dteMode(d0lo: number): number {
  return (d0lo >>> DTE_D0LO_MODE_SHIFT) & 7;
}
/** Host page-table root, bits 51..12, as a PFN. */
export function dteRootPfn(d0lo: number, d0hi: number): number {
  return pfnOf(d0lo, d0hi);
}
export function dteIr(d0hi: number): boolean {
  return (d0hi & DTE_D0HI_IR) !== 0;
}
export function dteIw(d0hi: number): boolean {
  return (d0hi & DTE_D0HI_IW) !== 0;
}
export function dteDomainId(d1lo: number): number {
  return d1lo & DTE_D1LO_DOMID_MASK;
}
export function dteIotlb(d1hi: number): boolean {
  return (d1hi & DTE_D1HI_IOTLB) !== 0;
}

// ---------------------------------------------------------------------------
// Object codec.

export interface AmdDte {
  valid: boolean;
  translationValid: boolean;
  /** 0..7; 0 = no translation, 1..6 = levels, 7 = reserved. */
  mode: number;
  rootPfn: number;
  ir: boolean;
  iw: boolean;
  /** 0..0xffff. */
  domainId: number;
  /** ATS allowed (DTE_FLAG_IOTLB). */
  iotlb: boolean;
}

export function encodeDte(e: AmdDte): DteWords {
  const d0lo =
    (loOfPfn(e.rootPfn) |
      ((e.mode & 7) << DTE_D0LO_MODE_SHIFT) |
      (e.translationValid ? DTE_D0LO_TV : 0) |
      (e.valid ? DTE_D0LO_V : 0)) >>>
    0;
  const d0hi = (hiOfPfn(e.rootPfn) | (e.ir ? DTE_D0HI_IR : 0) | (e.iw ? DTE_D0HI_IW : 0)) >>> 0;
  return [d0lo, d0hi, e.domainId & DTE_D1LO_DOMID_MASK, e.iotlb ? DTE_D1HI_IOTLB : 0];
}

/** Missing words read as 0, so any array-like (including a Uint32Array view) is accepted. */
export function decodeDte(words: ArrayLike<number>): AmdDte {
  const d0lo = words[0] >>> 0;
  const d0hi = words[1] >>> 0;
  return {
    valid: dteValid(d0lo),
    translationValid: dteTranslationValid(d0lo),
    mode: dteMode(d0lo),
    rootPfn: dteRootPfn(d0lo, d0hi),
    ir: dteIr(d0hi),
    iw: dteIw(d0hi),
    domainId: dteDomainId(words[2] >>> 0),
    iotlb: dteIotlb(words[3] >>> 0),
  };
}

// ---------------------------------------------------------------------------
// The three configurations Linux writes.

/** Identity domain: "Pass-through mode is V|TV|IR|IW with Mode = 0". */
export function dtePassthrough(domainId: number): DteWords {
  return encodeDte({ valid: true, translationValid: true, mode: 0, rootPfn: 0, ir: true, iw: true, domainId, iotlb: false });
}

/** Paging domain: set_dte_entry writes root | mode | IR | IW | V | TV. */
export function dteTranslate(domainId: number, rootPfn: number, mode: number): DteWords {
  return encodeDte({ valid: true, translationValid: true, mode, rootPfn, ir: true, iw: true, domainId, iotlb: false });
}

/** Blocked: V|TV with Mode 0 and IR = IW = 0, so every DMA is rejected (clear_dte_entry). */
export function dteBlocked(domainId: number): DteWords {
  return encodeDte({ valid: true, translationValid: true, mode: 0, rootPfn: 0, ir: false, iw: false, domainId, iotlb: false });
}

export type DteKind = "blocked" | "passthrough" | "translate" | "invalid";

/**
 * Classify a DTE as the IOMMU treats a DMA request through it (AMD IOMMU spec
 * "Device Table Entry", and QEMU hw/i386/amd_iommu.c amdvi_as_to_dte /
 * amdvi_page_walk, which follow it):
 * - V = 0: the entry is not valid, and the request passes untranslated with
 *   full permissions ("passthrough"). Blocking it would be the unsound
 *   direction for a checker.
 * - V = 1, TV = 0: no valid page-table root; a request that needs a walk is
 *   terminated ("blocked").
 * - V = 1, TV = 1, Mode 1..6: translated by the tables ("translate").
 * - Mode 0: untranslated with the IR/IW permissions, per direction:
 *   "passthrough" if either is set (the other direction faults), "blocked"
 *   if neither is.
 * - Mode 7 is reserved: the request faults ("invalid").
 */
export function dteKind(words: ArrayLike<number>): DteKind {
  const d0lo = words[0] >>> 0;
  const d0hi = words[1] >>> 0;
  if ((d0lo & DTE_D0LO_V) === 0) return "passthrough";
  if ((d0lo & DTE_D0LO_TV) === 0) return "blocked";
  const mode = dteMode(d0lo);
  if (mode === 7) return "invalid";
  if (mode !== 0) return "translate";
  return (d0hi & (DTE_D0HI_IR | DTE_D0HI_IW)) !== 0 ? "passthrough" : "blocked";
}

/**
 * Permissions of an untranslated request through this DTE (bit 1 read, bit 2
 * write, as in the IOTLB entries), or -1 if the DTE translates. Same cases as
 * dteKind, without allocation: the IOMMU's hot path.
 */
export function dteUntranslatedPerms(d0lo: number, d0hi: number): number {
  if ((d0lo & DTE_D0LO_V) === 0) return 6;
  if ((d0lo & DTE_D0LO_TV) === 0) return 0;
  const mode = (d0lo >>> DTE_D0LO_MODE_SHIFT) & 7;
  if (mode === 7) return 0;
  if (mode !== 0) return -1;
  return ((d0hi & DTE_D0HI_IR) !== 0 ? 2 : 0) | ((d0hi & DTE_D0HI_IW) !== 0 ? 4 : 0);
}

/** One line, e.g. "translate DomainID 3 mode 3 root pfn 0x1234 IR IW ATS". */
export function describeDte(words: ArrayLike<number>): string {
  const e = decodeDte(words);
  const kind = dteKind(words);
  let s = `${kind}${e.valid ? "" : " (V=0)"} DomainID ${e.domainId}`;
  if (kind === "translate") s += ` mode ${e.mode} root pfn ${hexNum(e.rootPfn)}`;
  if (e.ir) s += " IR";
  if (e.iw) s += " IW";
  if (e.iotlb) s += " ATS";
  return s;
}

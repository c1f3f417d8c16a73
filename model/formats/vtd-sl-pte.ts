// Intel VT-d second-level (second-stage) page-table entries, as [lo, hi] u32 halves.
//
// Source: Linux drivers/iommu/intel/iommu.h struct dma_pte ("0: readable
// 1: writable 2-6: reserved 7: super page 8-10: available 11: snoop behavior
// 12-63: Host physical address"), DMA_PTE_READ BIT_ULL(0), DMA_PTE_WRITE
// BIT_ULL(1), DMA_PTE_LARGE_PAGE BIT_ULL(7), DMA_PTE_SNP BIT_ULL(11),
// dma_pte_present ((val & 3) != 0), dma_pte_superpage; iommu.c pfn_to_dma_pte
// (a directory entry is the next table's address | DMA_PTE_READ |
// DMA_PTE_WRITE) and __domain_mapping (a leaf is the frame's address | prot,
// with DMA_PTE_LARGE_PAGE above level 1); drivers/iommu/generic_pt/fmt/vtdss.h
// (the same entry as the generic page-table format "vtdss"). QEMU
// hw/i386/intel_iommu_internal.h VTD_SL_PT_BASE_ADDR_MASK(aw): the address
// field is bits HAW-1..12; the model's frames sit far below 2^52, so bits
// 51..12 are decoded, as QEMU does for a 52-bit host address width.
//
// Levels: level 1 holds 4 KiB leaves; PS at level 2 maps 2 MiB, at level 3 1 GiB.

import { HI_ADDR_MASK, hex64, hiOfPfn, loOfPfn, pfnOf } from "./word64.ts";

export const SL_R = 0x1;
export const SL_W = 0x2;
export const SL_PS = 0x80;
export const SL_SNP = 0x800;

/** Leaf for frame `pfn` (4 KiB at level 1; with `large`, a PS leaf whose frame must be aligned to its size). */
export function slPteLo(pfn: number, r: boolean, w: boolean, large = false, snp = false): number {
  return (loOfPfn(pfn) | (r ? SL_R : 0) | (w ? SL_W : 0) | (large ? SL_PS : 0) | (snp ? SL_SNP : 0)) >>> 0;
}
export function slPteHi(pfn: number): number {
  return hiOfPfn(pfn);
}
/** Directory entry for the next table at frame `next`: R | W, as pfn_to_dma_pte writes it. */
export function slPdeLo(next: number): number {
  return (loOfPfn(next) | SL_R | SL_W) >>> 0;
}
export function slPdeHi(next: number): number {
  return hiOfPfn(next);
}

// Hot-path readers.
export function slPresent(lo: number): boolean {
  return (lo & 3) !== 0;
}
export function slR(lo: number): boolean {
  return (lo & SL_R) !== 0;
}
export function slW(lo: number): boolean {
  return (lo & SL_W) !== 0;
}
export function slPs(lo: number): boolean {
  return (lo & SL_PS) !== 0;
}
export function slSnp(lo: number): boolean {
  return (lo & SL_SNP) !== 0;
}
export function slAddrPfn(lo: number, hi: number): number {
  return pfnOf(lo, hi & HI_ADDR_MASK);
}

export function describeSlPte(lo: number, hi: number, level: number): string {
  if (!slPresent(lo)) return `${hex64(lo, hi)} not present`;
  const leaf = level === 1 || slPs(lo);
  const perms = `${slR(lo) ? "R" : "-"}${slW(lo) ? "W" : "-"}`;
  return `${hex64(lo, hi)} ${leaf ? (level === 1 ? "4K leaf" : level === 2 ? "2M leaf" : "1G leaf") : "table"} pfn 0x${slAddrPfn(lo, hi).toString(16)} ${perms}${slSnp(lo) ? " SNP" : ""}`;
}

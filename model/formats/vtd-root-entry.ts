// Intel VT-d root entry (legacy mode), 128 bits: [lo bits 31..0, lo 63..32, hi 31..0, hi 63..32].
//
// Source: Linux drivers/iommu/intel/iommu.h (struct root_entry, root_entry_lctp:
// "re->lo & VTD_PAGE_MASK" when bit 0 is set) and iommu.c iommu_context_addr
// (the root entry of a bus gets the context table's physical address | 1);
// QEMU hw/i386/intel_iommu_internal.h VTD_ROOT_ENTRY_P 1, VTD_ROOT_ENTRY_CTP
// (~0xfffULL). The root table holds 256 entries, one per PCI bus; the entry's
// context-table pointer names a 4 KiB table of 256 context entries, one per
// devfn. hi is reserved in legacy mode (the upper context table of scalable
// mode is not modelled).

import { hex64, hiOfPfn, loOfPfn, pfnOf } from "./word64.ts";

export type RootEntryWords = [number, number, number, number];

/** VTD_ROOT_ENTRY_P: the entry is present. */
export const ROOT_P = 0x1;
/** Root-table entries (buses) and context-table entries (devfns) per table. */
export const ROOT_ENTRIES = 256;
export const CONTEXT_ENTRIES = 256;
/** Bytes per root entry and per legacy context entry. */
export const ROOT_ENTRY_BYTES = 16;

/** Root entry pointing at the context table in frame `ctpPfn` (Linux: virt_to_phys(context) | 1). */
export function buildRootEntry(ctpPfn: number): RootEntryWords {
  return [(loOfPfn(ctpPfn) | ROOT_P) >>> 0, hiOfPfn(ctpPfn), 0, 0];
}

export function rootPresent(lo: number): boolean {
  return (lo & ROOT_P) !== 0;
}

/** Context-table pointer (bits 51..12) as a frame number; -1 when not present (root_entry_lctp returns 0). */
export function rootCtpPfn(lo: number, hi: number): number {
  return rootPresent(lo) ? pfnOf(lo, hi) : -1;
}

/** Index of a requester id's root entry (bus) and context entry (devfn): SID = bus << 8 | devfn. */
export function sidBus(sid: number): number {
  return (sid >>> 8) & 0xff;
}
export function sidDevfn(sid: number): number {
  return sid & 0xff;
}

export function describeRootEntry(w: Readonly<RootEntryWords>): string {
  return rootPresent(w[0]) ? `root entry P ctp ${hex64((w[0] & ~0xfff) >>> 0, w[1] & 0xfffff)}` : "root entry not present";
}

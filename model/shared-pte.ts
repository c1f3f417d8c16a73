/**
 * Page-table entries shared by the CPU MMU (x86-64 format) and the AMD IOMMU
 * (v1 host format): the same 64-bit word is decoded by both walkers. The two
 * formats nearly agree (present bit 0, address bits 51..12, accessed/dirty
 * 5/6) and conflict in exactly two places (Linux arch/x86/include/asm/
 * pgtable_types.h; drivers/iommu/amd/amd_iommu_types.h):
 *
 *  bits    x86-64 MMU                              AMD IOMMU v1
 *  9..11   software: _PAGE_SPECIAL 9,              NextLevel: 0 = leaf, 1..6 = table
 *          _PAGE_UFFD_WP 10, _PAGE_SOFT_DIRTY 11   of that level, 7 = large leaf
 *  61, 62  protection key bits 2 and 3 (59..62)    IR (read), IW (write) permission
 *
 * (bit 59 is the IOMMU's U, bit 60 FC; bits 52..58, x86 software bits 57/58
 * among them, are used by neither Linux's AMD v1 code nor the model's walker:
 * IOMMU_PAGE_MASK ends at bit 51. Whether AMD hardware ignores them or
 * reserves them is unverified.)
 *
 * Two encodings of a morsel's entries:
 *  - "naive": entries are what Linux writes for the MMU, plus the IOMMU's
 *    NextLevel in directory entries (where x86 ignores bits 9..11) and IR/IW
 *    in bits 61/62 from the DMA direction. The kernel keeps using its software
 *    bits on leaves: a write fault sets _PAGE_DIRTY | _PAGE_SOFT_DIRTY
 *    (pte_mkdirty with CONFIG_MEM_SOFT_DIRTY), and bit 11 reads as NextLevel 4
 *    to the IOMMU; a page the CPU has not written stays read-only for the MMU
 *    (dirty tracking) while IW already lets the device write it.
 *  - "safe": bits 9..11 of a shared entry belong to the IOMMU (0 on a leaf,
 *    the next level on a directory entry); soft-dirty moves to SOFTW4
 *    (bit 57), and special/uffd-wp are not used on morsel entries; IR and IW
 *    are derived from the MMU's own permissions (IW only on an entry the MMU
 *    maps writable), so the IOMMU never grants more than the MMU; a page a
 *    device may write is mapped writable and dirty at once (the MMU cannot
 *    see device writes). The price: protection keys 4, 8 and 12 (the values
 *    IR, IW and both spell in bits 59..62) are reserved for shared leaves and
 *    must stay accessible in every PKRU (user pages; PKS for supervisor
 *    pages), and fewer software bits remain.
 */
import {
  X86_LO_ACCESSED, X86_LO_DIRTY, X86_LO_PRESENT, X86_LO_RW, X86_LO_USER, X86_SOFTHI_4, x86EncodeHi, x86EncodeLo,
} from "./formats/x86-pte.ts";

/** "native": plain Linux x86 entries, for a morsel the IOMMU never walks (it gets a secondary view, morsel-view.ts). */
export type SharingEncoding = "naive" | "safe" | "native";

/** x86 pkey values that put IR (bit 61) and IW (bit 62) in a shared entry. */
export const PKEY_IR = 4, PKEY_IW = 8;
/** Linux _PAGE_BIT_SOFT_DIRTY = _PAGE_BIT_SOFTW3. */
const X86_LO_SOFT_DIRTY = 1 << 11;

export interface SharedLeaf {
  lo: number;
  hi: number;
}

/**
 * The leaf the page-fault path writes for `frame` in a morsel: `cpuWrite`
 * is a write fault (the CPU writes the buffer), `devRead`/`devWrite` the DMA
 * direction the device is granted.
 */
export function sharedLeaf(enc: SharingEncoding, frame: number, cpuWrite: boolean, devRead: boolean, devWrite: boolean, out: SharedLeaf): SharedLeaf {
  if (enc === "native") {
    const flags = X86_LO_PRESENT | X86_LO_USER | X86_LO_ACCESSED | (cpuWrite || devWrite ? X86_LO_RW | X86_LO_DIRTY | X86_LO_SOFT_DIRTY : 0);
    out.lo = x86EncodeLo(frame, flags);
    out.hi = x86EncodeHi(frame, true, 0, 0);
    return out;
  }
  if (enc === "naive") {
    const flags = X86_LO_PRESENT | X86_LO_USER | X86_LO_ACCESSED | (cpuWrite ? X86_LO_RW | X86_LO_DIRTY | X86_LO_SOFT_DIRTY : 0);
    out.lo = x86EncodeLo(frame, flags);
    out.hi = x86EncodeHi(frame, true, (devRead ? PKEY_IR : 0) | (devWrite ? PKEY_IW : 0), 0);
    return out;
  }
  const writable = cpuWrite || devWrite;
  const flags = X86_LO_PRESENT | X86_LO_USER | X86_LO_ACCESSED | (writable ? X86_LO_RW | X86_LO_DIRTY : 0);
  out.lo = x86EncodeLo(frame, flags);
  out.hi = x86EncodeHi(frame, true, (devRead ? PKEY_IR : 0) | (devWrite && writable ? PKEY_IW : 0), writable ? X86_SOFTHI_4 : 0);
  return out;
}

/**
 * A directory entry inside a morsel (the same in both encodings: the
 * "minor change" both need): x86 P | RW | US | A, with the IOMMU's NextLevel
 * in bits 9..11, which x86 ignores in a non-leaf entry, and IR | IW in bits
 * 61/62, which x86 ignores there too (protection keys apply to leaves only).
 */
export function sharedDirectory(table: number, nextLevel: number, out: SharedLeaf): SharedLeaf {
  out.lo = (x86EncodeLo(table, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | X86_LO_ACCESSED) | ((nextLevel & 7) << 9)) >>> 0;
  out.hi = x86EncodeHi(table, false, PKEY_IR | PKEY_IW, 0);
  return out;
}

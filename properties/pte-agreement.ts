/**
 * pte-agreement: an entry shared by the MMU and the IOMMU means the same to both.
 *
 * Formally: in every state, for every present entry e at index j of a
 * morsel table frame (role morsel-page-table: walked by the CPU as x86-64 and
 * by the IOMMU as AMD v1) of level L:
 *   - if x86 reads e as a leaf (L = 1, or PS at L >= 2) of base frame F, the
 *     IOMMU reads it as a leaf (NextLevel 0) of base frame F, and the IOMMU
 *     grants no write (IW, bit 62) where the MMU maps read-only (RW, bit 1):
 *     the IOMMU never grants more than the MMU (IR needs only presence);
 *   - if x86 reads e as a pointer to the table at frame T, the IOMMU reads
 *     it as a pointer (NextLevel L-1) to T.
 * Where they disagree, a device walks somewhere the CPU does not (a data
 * frame taken for a table, or a fault where the CPU translates), or writes
 * memory the kernel believes read-only (clean, write-protected for dirty or
 * soft-dirty tracking, copy-on-write).
 *
 * Checked only on transitions that changed the entries or the frame table.
 *
 * Source: the bit layouts of Linux
 * arch/x86/include/asm/pgtable_types.h (_PAGE_BIT_SOFTW1..3 = special,
 * uffd-wp, soft-dirty; _PAGE_BIT_PKEY_BIT0..3 = 59..62) and
 * drivers/iommu/amd/amd_iommu_types.h (PM_LEVEL_ENC bits 11:9, IOMMU_PTE_IR
 * 61, IOMMU_PTE_IW 62); Albes' Morsel IOMMU talk (FGBS 2024: bits the MMU ignores
 * are software's, and Linux uses some of them); docs/reference/formats.md
 * section 1, docs/reference/morsels.md.
 */
import { type Property, type Violation } from "./property.ts";
import { FRAMES, PTMEM, PT_W } from "../model/geometry.ts";
import { frameAux, frameData, frameRole, ROLE_MORSEL_PT } from "../model/physical-memory.ts";
import { MORSEL_SHARED } from "../model/morsel.ts";
import { ptFirst } from "../model/page-table-memory.ts";
import { x86IsHugeLeaf, x86LeafPfn, x86Pfn } from "../model/formats/x86-pte.ts";
import { amdAddrPfn, amdIw, amdNextLevel } from "../model/formats/amd-v1-pte.ts";

/** The entry's name in a violation message (built only on a violation). */
function entryName(key: number, f: number, level: number): string {
  return `entry ${key % 512} of morsel table frame ${f} (level ${level})`;
}

const SOFT_BITS = ["special (bit 9)", "uffd-wp (bit 10)", "soft-dirty (bit 11)"];

function softBitNames(lo: number): string {
  const names = SOFT_BITS.filter((_, i) => (lo & (1 << (9 + i))) !== 0);
  return names.length === 0 ? "no software bit" : `Linux's ${names.join(" and ")}`;
}

export const pteAgreement: Property = {
  name: "pte-agreement",
  summary: "an entry shared by MMU and IOMMU decodes to the same frame in both, and the IOMMU never grants more than the MMU",
  antecedent: {
    summary: "a present entry of a table shared by MMU and IOMMU, after the entries or the frames changed",
    cases: ["shared entry checked"],
    count(_sys, pre, _e, _obs, post, counts, at): void {
      if (pre[PTMEM] === post[PTMEM] && pre[FRAMES] === post[FRAMES]) return;
      const pt = post[PTMEM];
      const fr = post[FRAMES];
      for (let p = 0; p < pt[0]; p++) {
        const f = Math.floor(pt[1 + p * PT_W] / 512);
        if (frameRole(fr, f) !== ROLE_MORSEL_PT || (frameAux(fr, f) & MORSEL_SHARED) === 0) {
          p = ptFirst(pt, f + 1) - 1;
          continue;
        }
        if ((pt[2 + p * PT_W] & 1) === 0) continue;
        counts[at]++;
        return;
      }
    },
  },
  check(_sys, pre, _e, _obs, post): Violation | null {
    if (pre[PTMEM] === post[PTMEM] && pre[FRAMES] === post[FRAMES]) return null;
    const pt = post[PTMEM];
    const fr = post[FRAMES];
    const n = pt[0];
    for (let p = 0; p < n; p++) {
      const key = pt[1 + p * PT_W];
      const f = Math.floor(key / 512);
      if (frameRole(fr, f) !== ROLE_MORSEL_PT || (frameAux(fr, f) & MORSEL_SHARED) === 0) {
        p = ptFirst(pt, f + 1) - 1; // not a shared morsel table: skip the rest of its entries
        continue;
      }
      const lo = pt[2 + p * PT_W] >>> 0;
      const hi = pt[3 + p * PT_W] >>> 0;
      if ((lo & 1) === 0) continue;
      const level = frameData(fr, f) & 0xf;
      const nl = amdNextLevel(lo);
      if (level === 1 || x86IsHugeLeaf(lo, level)) {
        const frame = x86LeafPfn(lo, hi, level);
        const rw = (lo & 2) !== 0;
        if (nl !== 0) {
          const as = nl === 7 ? "a leaf of non-default size (NextLevel 7)" : nl >= level
            ? `a pointer to a level-${nl} table at frame ${amdAddrPfn(lo, hi)}, which a level-${level} table cannot hold (NextLevel must be below the table's level): the IOMMU faults where the CPU translates`
            : `a pointer to a level-${nl} table at frame ${amdAddrPfn(lo, hi)}, so the IOMMU walks the data in frame ${frame} as a page table`;
          return {
            property: "pte-agreement", frame: f,
            message: `${entryName(key, f, level)}: the MMU reads a leaf mapping frame ${frame}; the IOMMU reads NextLevel ${nl} in bits 9..11, set by ${softBitNames(lo)}, as ${as}`,
          };
        }
        if (amdAddrPfn(lo, hi) !== frame) {
          return { property: "pte-agreement", frame: f, message: `${entryName(key, f, level)}: the MMU maps frame ${frame}, the IOMMU frame ${amdAddrPfn(lo, hi)}` };
        }
        if (amdIw(hi) && !rw) {
          return {
            property: "pte-agreement", frame: f,
            message: `${entryName(key, f, level)}: the IOMMU grants write (IW, bit 62, which the MMU reads as protection-key bit 3) to frame ${frame}, which the MMU maps read-only (RW clear): a device may write memory the kernel tracks as clean or write-protected`,
          };
        }
        continue;
      }
      const table = x86Pfn(lo, hi);
      if (nl !== level - 1 || amdAddrPfn(lo, hi) !== table) {
        return {
          property: "pte-agreement", frame: f,
          message: `${entryName(key, f, level)}: the MMU reads a pointer to the table at frame ${table}; the IOMMU reads NextLevel ${nl}${nl === 0 ? `, a ${level === 2 ? "2 MiB" : "large"} leaf at frame ${amdAddrPfn(lo, hi)}: it maps the page table and its neighbours as data` : ""}`,
        };
      }
    }
    return null;
  },
};

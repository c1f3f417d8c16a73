/**
 * Page-table entries decoded, in each table's own format: AMD IOMMU v1 or
 * VT-d second-level for IOMMU tables, x86-64 for the CPU's and the morsels'
 * tables, AMD v1 or EPT for a morsel's view (docs/state.md "Page-table
 * memory", "IOMMU page tables"; model/formats/).
 */
import { FRAMES, PTMEM, PT_W, type Geometry } from "../geometry.ts";
import { frameAux, frameData, frameRole, ROLE_IOMMU_PT, ROLE_MMU_PT, ROLE_MORSEL_PT, ROLE_MORSEL_VIEW } from "../physical-memory.ts";
import { AMD_NL_LARGE, amdLargeBasePfn, decodeAmdV1, describeAmdV1 } from "../formats/amd-v1-pte.ts";
import { describeSlPte, slAddrPfn, slPresent, slPs, slR, slW } from "../formats/vtd-sl-pte.ts";
import { decodeX86Pte, x86LeafPfn } from "../formats/x86-pte.ts";
import { decodeEptPte, eptIsLeaf, eptLeafPfn } from "../formats/ept-pte.ts";
import { hex64, pfnOf } from "../formats/word64.ts";
import { VIEW_EPT } from "../morsel-view.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

export type PteRecord = {
  readonly kind: "pte";
  /** The entry's place: "frame 6 [504]". */
  readonly key: string;
  /** Which table: "IOMMU dom 0 L1", "MMU kernel L4", "morsel L1", "AMD v1 view L1". */
  readonly table: string;
  /** The format the entry is decoded in: amd-v1, vtd-sl, x86-64, ept. */
  readonly format: string;
  /** First IOVA (IOMMU, morsel and view tables) the entry translates, or null. */
  readonly iova: string | null;
  readonly present: boolean;
  /** A leaf (a page) rather than a pointer to a lower table. */
  readonly leaf: boolean;
  /** The frame the entry points to: the page of a leaf, the next table of a directory entry. */
  readonly target: number;
  /** Read and write permission bits: IR/IW (AMD), R/W (VT-d, EPT), P/RW (x86). */
  readonly read: boolean;
  readonly write: boolean;
  /** The entry in its format's own words, e.g. "PTE 4 KiB -> pfn 0x7 IR". */
  readonly entry: string;
  /** The 64-bit hardware word. */
  readonly raw: string;
}

interface Decoded {
  readonly format: string;
  readonly present: boolean;
  readonly leaf: boolean;
  readonly target: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly entry: string;
}

function amd(lo: number, hi: number, level: number): Decoded {
  const e = decodeAmdV1(lo, hi);
  const leaf = e.nextLevel === 0 || e.nextLevel === AMD_NL_LARGE;
  return {
    format: "amd-v1", present: e.present, leaf, target: e.nextLevel === AMD_NL_LARGE ? amdLargeBasePfn(lo, hi) : e.addrPfn,
    read: e.ir, write: e.iw, entry: describeAmdV1(lo, hi, level),
  };
}

function vtd(lo: number, hi: number, level: number): Decoded {
  return {
    format: "vtd-sl", present: slPresent(lo), leaf: level === 1 || slPs(lo), target: slAddrPfn(lo, hi), read: slR(lo), write: slW(lo),
    entry: describeSlPte(lo, hi, level).replace(/^0x[0-9a-f]+ /, ""),
  };
}

function x86(lo: number, hi: number, level: number): Decoded {
  const e = decodeX86Pte(lo, hi, level);
  const leaf = level === 1 || e.huge;
  const flags = `${e.writable ? " RW" : ""}${e.user ? " U" : ""}${e.global ? " G" : ""}${e.nx ? " NX" : ""}`;
  return {
    format: "x86-64", present: e.present, leaf, target: leaf ? x86LeafPfn(lo, hi, level) : pfnOf(lo, hi), read: e.present, write: e.writable,
    entry: e.present ? `${leaf ? (level === 1 ? "PTE 4 KiB" : level === 2 ? "PDE 2 MiB" : "PDPTE 1 GiB") : "table"} -> pfn ${hex(leaf ? x86LeafPfn(lo, hi, level) : pfnOf(lo, hi))}${flags}` : "not present",
  };
}

function ept(lo: number, hi: number, level: number): Decoded {
  const e = decodeEptPte(lo, hi);
  const leaf = eptIsLeaf(lo, level);
  const present = e.read || e.write || e.exec;
  const perms = `${e.read ? "R" : "-"}${e.write ? "W" : "-"}${e.exec ? "X" : "-"}`;
  return {
    format: "ept", present, leaf, target: leaf ? eptLeafPfn(lo, hi, level) : e.pfn, read: e.read, write: e.write,
    entry: present ? `${leaf ? "leaf" : "table"} -> pfn ${hex(leaf ? eptLeafPfn(lo, hi, level) : e.pfn)} ${perms}` : "not present",
  };
}

/** First IOVA page translated by entry `index` of the table with key `key` (level | prefix << 4). */
function entryPage(key: number, index: number): number {
  const level = key & 0xf;
  return (key >>> 4) * 2 ** (9 * level) + index * 2 ** (9 * (level - 1));
}

export function decodePageTables(g: Geometry, s: State): PteRecord[] {
  const pt = s[PTMEM], fr = s[FRAMES];
  const out: PteRecord[] = [];
  for (let i = 0; i < pt[0]; i++) {
    const k = pt[1 + i * PT_W];
    const lo = pt[2 + i * PT_W] >>> 0, hi = pt[3 + i * PT_W] >>> 0;
    const f = Math.floor(k / 512), index = k % 512;
    const role = frameRole(fr, f), key = frameData(fr, f), level = key & 0xf;
    let table: string, d: Decoded, iova: string | null = null;
    if (role === ROLE_IOMMU_PT) {
      table = `IOMMU dom ${frameAux(fr, f) & 0xff} L${level}`;
      d = g.vtd ? vtd(lo, hi, level) : amd(lo, hi, level);
      iova = hex(entryPage(key, index) * 4096);
    } else if (role === ROLE_MMU_PT) {
      const mmuLevel = frameData(fr, f);
      table = `MMU ${frameAux(fr, f) === 0 ? "kernel" : "user"} L${mmuLevel}`;
      d = x86(lo, hi, mmuLevel);
    } else if (role === ROLE_MORSEL_PT) {
      table = `morsel L${level}`;
      d = x86(lo, hi, level);
      iova = hex(entryPage(key, index) * 4096);
    } else if (role === ROLE_MORSEL_VIEW) {
      const fmt = frameAux(fr, f) >>> 13;
      table = `${fmt === VIEW_EPT ? "EPT" : "AMD v1"} view L${level}`;
      d = fmt === VIEW_EPT ? ept(lo, hi, level) : amd(lo, hi, level);
      iova = hex(entryPage(key, index) * 4096);
    } else {
      // Entries are erased when a table frame is freed (ptClearFrame): this is never expected.
      table = `frame with role ${role}`;
      d = { format: "raw", present: true, leaf: false, target: pfnOf(lo, hi), read: false, write: false, entry: "entry in a frame that is not a page table" };
    }
    out.push({
      kind: "pte", key: `frame ${f} [${index}]`, table, format: d.format, iova, present: d.present, leaf: d.leaf, target: d.target,
      read: d.read, write: d.write, entry: d.entry, raw: hex64(lo, hi),
    });
  }
  return out;
}

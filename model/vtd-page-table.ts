/**
 * The VT-d second-level walk, in memory only (no caches): from the table at
 * `level`, each entry read is one reference; R and W are ANDed down the walk
 * (a directory entry without W makes its whole span read-only); a level-1
 * entry or one with PS is the leaf (4 KiB, 2 MiB at level 2, 1 GiB at level
 * 3). An entry with neither R nor W is not present (Linux dma_pte_present).
 * Mapping and unmapping are iommu-page-table.ts's, in this format.
 * Source: Linux drivers/iommu/intel/iommu.h (dma_pte_*), VT-d spec
 * "Second-Stage Translation" as described in drivers/iommu/generic_pt/fmt/vtdss.h.
 */
import { levelShift, PT_W } from "./geometry.ts";
import { ptFind } from "./page-table-memory.ts";
import { type Words } from "./state.ts";
import { slAddrPfn, slPs } from "./formats/vtd-sl-pte.ts";
import { type WalkResult } from "./iommu-page-table.ts";

const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

function index(v: number, level: number): number {
  return Math.floor(v / POW2[levelShift(level)]) % 512;
}

export function walkFromVtd(
  pt: Words, table: number, level: number, v: number, ir: boolean, iw: boolean, out: WalkResult,
  onPde?: (level: number, next: number, nextLevel: number, ir: boolean, iw: boolean) => void,
): WalkResult {
  out.frame = -1;
  out.refs = 0;
  for (let guard = 0; guard < 8 && level >= 1; guard++) {
    const p = ptFind(pt, table, index(v, level));
    out.refs++;
    if (p < 0) return out;
    const lo = pt[2 + p * PT_W] >>> 0;
    const hi = pt[3 + p * PT_W] >>> 0;
    if ((lo & 3) === 0) return out;
    ir = ir && (lo & 1) !== 0;
    iw = iw && (lo & 2) !== 0;
    if (level === 1 || slPs(lo)) {
      const span = POW2[levelShift(level)];
      const base = slAddrPfn(lo, hi);
      out.frame = base - (base % span) + (v % span);
      out.ir = ir;
      out.iw = iw;
      out.level = level;
      out.pageLog2 = 12 + levelShift(level);
      return out;
    }
    const next = slAddrPfn(lo, hi);
    if (onPde) onPde(level, next, level - 1, ir, iw);
    table = next;
    level--;
  }
  return out;
}

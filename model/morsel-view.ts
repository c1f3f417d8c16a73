/**
 * Multi-target morsels (seed "Multi-Target Virtual-Memory Objects"): one
 * representation of a morsel per page-table format. The x86-64 tables are
 * the primary view, the authoritative truth; a secondary view in another
 * format (AMD IOMMU v1 for a device, Intel EPT for a virtual machine)
 * mirrors the primary's layout table for table and entry for entry. A
 * secondary view holds nothing the primary does not: it is built lazily (an
 * empty root first, each page entered on first access), may be dropped and
 * rebuilt from the primary at any time, and when the primary changes the
 * view's entries for the changed pages must be invalidated, together with
 * whatever TLB caches them (the IOTLB for an AMD view, the EPT TLB for an
 * EPT view), before the change is relied upon. view-refinement checks that.
 *
 * View table frames have role morsel-view-table; aux = the primary table
 * frame it mirrors | format << 13 (frames < 8192); w2 = its table key, as
 * for any table a domain links (so pt-page-safety knows it).
 */
import { C } from "./counters.ts";
import { FRAMES, PTMEM, PT_W } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { ptFind, ptWrite } from "./page-table-memory.ts";
import { allocFrames, frameAux, ROLE_MORSEL_VIEW, setFrameData } from "./physical-memory.ts";
import { type Tx, type Words } from "./state.ts";
import { freeTableTree } from "./morsel.ts";
import { tableIndex, tableKey } from "./iommu-page-table.ts";
import { amdPdeHi, amdPdeLo, amdPteHi, amdPteLo } from "./formats/amd-v1-pte.ts";
import { EPT_LO_EXEC, EPT_LO_READ, EPT_LO_RWX, EPT_LO_WRITE, EPT_MT, eptEncodeHi, eptEncodeLo, eptLeafFlags } from "./formats/ept-pte.ts";
import { x86IsHugeLeaf, x86LeafPfn, x86Nx, x86Pfn, x86Present, x86Writable } from "./formats/x86-pte.ts";

export const VIEW_AMD_V1 = 1, VIEW_EPT = 2;
export type ViewFormat = typeof VIEW_AMD_V1 | typeof VIEW_EPT;
export const VIEW_FORMAT_NAMES = ["", "AMD IOMMU v1", "Intel EPT"];

/** The primary table frame a view table mirrors. */
export function viewPrimary(fr: Words, f: number): number {
  return frameAux(fr, f) & 0x1fff;
}
export function viewFormat(fr: Words, f: number): number {
  return frameAux(fr, f) >>> 13;
}

/** A new, empty view table mirroring primary table `primary` (level `level`, covering page `v`); -1 when out of memory. */
export function viewTable(tx: Tx, primary: number, fmt: ViewFormat, level: number, v: number, obs: Observation): number {
  const f = allocFrames(tx, 0, ROLE_MORSEL_VIEW, primary | (fmt << 13), obs);
  if (f < 0) return -1;
  setFrameData(tx.w(FRAMES), f, tableKey(level, v));
  obs.counters[C.ptFramesAllocated]++;
  if (obs.detail) obs.frameNote(f, `held a ${VIEW_FORMAT_NAMES[fmt]} view table of morsel table ${primary}`);
  return f;
}

function countWrite(fmt: number, obs: Observation): void {
  if (fmt === VIEW_AMD_V1) obs.counters[C.iommuPteWrites]++;
  else obs.counters[C.mmuPteWrites]++; // EPT: the CPU's second stage
}

/**
 * First access to page `v` through view `root` (level `level`): mirror the
 * primary's entries on the way down, building view tables as needed. The
 * leaf gets the primary's frame and no more than its rights, further limited
 * to what the view's user is granted (`read`, `write`: a device's DMA
 * direction): AMD IR, IW only if the primary is writable; EPT R, W only if
 * writable, X only if not NX. Returns false if the primary has no page there
 * or memory ran out.
 */
export function viewFill(tx: Tx, root: number, level: number, v: number, obs: Observation, read = true, write = true): boolean {
  const fr = tx.c[FRAMES];
  const fmt = viewFormat(fr, root) as ViewFormat;
  let view = root;
  let primary = viewPrimary(fr, root);
  for (let l = level; l >= 1; l--) {
    const idx = tableIndex(v, l);
    const pp = ptFind(tx.c[PTMEM], primary, idx);
    if (pp < 0) return false;
    const lo = tx.c[PTMEM][2 + pp * PT_W] >>> 0, hi = tx.c[PTMEM][3 + pp * PT_W] >>> 0;
    if (!x86Present(lo)) return false;
    if (l === 1 || x86IsHugeLeaf(lo, l)) {
      if (l !== 1) return false; // the model's morsels hold 4 KiB pages only
      const frame = x86LeafPfn(lo, hi, 1);
      const w = x86Writable(lo) && write;
      const ok = fmt === VIEW_AMD_V1
        ? ptWrite(tx, view, idx, amdPteLo(frame), amdPteHi(frame, read, w, true))
        : ptWrite(tx, view, idx, eptEncodeLo(frame, eptLeafFlags((read ? EPT_LO_READ : 0) | (w ? EPT_LO_WRITE : 0) | (x86Nx(hi) ? 0 : EPT_LO_EXEC), EPT_MT.WB, false)), eptEncodeHi(frame, false));
      if (ok) countWrite(fmt, obs);
      return ok;
    }
    const childPrimary = x86Pfn(lo, hi);
    const vp = ptFind(tx.c[PTMEM], view, idx);
    let child: number;
    if (vp >= 0) {
      const vlo = tx.c[PTMEM][2 + vp * PT_W] >>> 0, vhi = tx.c[PTMEM][3 + vp * PT_W] >>> 0;
      child = x86Pfn(vlo, vhi); // AMD and EPT both keep the address in bits 51..12
    } else {
      child = viewTable(tx, childPrimary, fmt, l - 1, v, obs);
      if (child < 0) return false;
      const ok = fmt === VIEW_AMD_V1
        ? ptWrite(tx, view, idx, amdPdeLo(child, l - 1), amdPdeHi(child))
        : ptWrite(tx, view, idx, eptEncodeLo(child, EPT_LO_RWX), eptEncodeHi(child, false));
      if (!ok) return false;
      countWrite(fmt, obs);
    }
    view = child;
    primary = childPrimary;
  }
  return false;
}

/** The primary changed at page `v`: clear the view's leaf for it (the caller then invalidates the view's TLB). */
export function viewInvalidatePage(tx: Tx, root: number, level: number, v: number, obs: Observation): void {
  let view = root;
  for (let l = level; l > 1; l--) {
    const p = ptFind(tx.c[PTMEM], view, tableIndex(v, l));
    if (p < 0) return;
    view = x86Pfn(tx.c[PTMEM][2 + p * PT_W] >>> 0, tx.c[PTMEM][3 + p * PT_W] >>> 0);
  }
  if (ptFind(tx.c[PTMEM], view, tableIndex(v, 1)) < 0) return;
  ptWrite(tx, view, tableIndex(v, 1), 0, 0);
  countWrite(viewFormat(tx.c[FRAMES], root), obs);
}

/** Drops a whole view (already unlinked and invalidated by the caller): its table frames are freed; it can be rebuilt from the primary. */
export function viewDrop(tx: Tx, root: number, level: number, obs: Observation): void {
  freeTableTree(tx, root, level, obs);
}

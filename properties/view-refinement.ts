/**
 * view-refinement: a secondary morsel view never translates differently
 * from, or more permissively than, the primary.
 *
 * Formally: in every state, for every present entry at index j of a view
 * table V (role morsel-view-table, format AMD IOMMU v1 or Intel EPT, level L)
 * mirroring primary table P:
 *   - P is still a morsel table (the primary has not been destroyed under it);
 *   - a leaf of V mapping frame F with rights R: P's entry j is a present
 *     x86 leaf mapping F whose rights include R (a writable view entry, AMD
 *     IW or EPT W, needs RW in the primary; an EPT X needs NX clear);
 *   - a directory entry of V pointing at view table C: P's entry j points
 *     at the primary table C mirrors.
 * A view may hold less than the primary (it is filled lazily and may be
 * dropped), never more or other. When the primary unmaps a page, the view's
 * entry must go before the primary's change is relied upon; a stale view
 * entry is exactly what a device or VM could still translate through.
 *
 * Checked only on transitions that changed the entries or the frame table.
 *
 * What a vCPU of the VM reaches through an EPT view (the `guest-access`
 * event, model/vm-ept.ts: an EPT walk, or the EPT TLB's cached copy of an
 * entry) must also be what the primary grants now: the vCPU reached frame F
 * at guest-physical page v, writing or not, through a translation mirroring
 * primary table P; then P is still a morsel table and its entry for v is a
 * present leaf mapping F, writable if the vCPU wrote. A cached EPT
 * translation the VMM did not flush (no INVEPT) after the primary unmapped
 * fails this, though every view table is faithful.
 *
 * Source: the thesis topic "Multi-Target Virtual-Memory Objects" (LUH SRA;
 * docs/reference/morsels.md: primary = authoritative truth; secondary views follow the
 * object layout, restored on first use, populated lazily).
 */
import { type Property, type Violation } from "./property.ts";
import { FRAMES, PTMEM, PT_W } from "../model/geometry.ts";
import { frameData, frameRole, ROLE_MORSEL_PT, ROLE_MORSEL_VIEW } from "../model/physical-memory.ts";
import { ptFind, ptFirst } from "../model/page-table-memory.ts";
import { type Observation } from "../model/observation.ts";
import { type State } from "../model/state.ts";
import { tableIndex } from "../model/iommu-page-table.ts";
import { VIEW_AMD_V1, VIEW_FORMAT_NAMES, viewFormat, viewPrimary } from "../model/morsel-view.ts";
import { amdAddrPfn, amdIw, amdNextLevel } from "../model/formats/amd-v1-pte.ts";
import { EPT_LO_EXEC, EPT_LO_RWX, EPT_LO_WRITE, eptIsLeaf, eptLeafPfn, eptPfn } from "../model/formats/ept-pte.ts";
import { x86IsHugeLeaf, x86LeafPfn, x86Nx, x86Pfn, x86Present, x86Writable } from "../model/formats/x86-pte.ts";

/** The entry's name in a violation message (built only on a violation). */
function entryName(j: number, fmt: number, f: number, level: number, prim: number): string {
  return `entry ${j} of the ${VIEW_FORMAT_NAMES[fmt]} view table in frame ${f} (level ${level}), mirroring morsel table frame ${prim}`;
}

/** A vCPU's access through an EPT view (or its cached copy) that the primary does not grant now, or null. */
function guestAccessViolation(winBase: number, obs: Observation, post: State): Violation | null {
  const pt = post[PTMEM];
  const f = obs.guestFrame, prim = obs.guestPrimary;
  const how = obs.guestViaTlb ? "through its EPT TLB (a translation cached earlier)" : "through an EPT walk";
  const what = `a vCPU of the VM ${obs.guestWrite ? "wrote" : "read"} frame ${f} at guest-physical window page ${obs.guestPage} ${how}`;
  if (prim < 0 || frameRole(post[FRAMES], prim) !== ROLE_MORSEL_PT) {
    return { property: "view-refinement", frame: f, message: `${what}, mirroring morsel table frame ${prim}, which is no longer a morsel table: the EPT translation outlived the morsel (no INVEPT at the unmount)` };
  }
  const pp = ptFind(pt, prim, tableIndex(winBase + obs.guestPage, 1));
  const plo = pp < 0 ? 0 : pt[2 + pp * PT_W] >>> 0;
  const phi = pp < 0 ? 0 : pt[3 + pp * PT_W] >>> 0;
  if (!x86Present(plo)) {
    return { property: "view-refinement", frame: f, message: `${what}; the primary (x86-64) maps nothing there now: the EPT translation was not invalidated (INVEPT) when the primary unmapped` };
  }
  const pf = x86LeafPfn(plo, phi, 1);
  if (pf !== f) return { property: "view-refinement", frame: f, message: `${what}; the primary maps frame ${pf} there` };
  if (obs.guestWrite && !x86Writable(plo)) return { property: "view-refinement", frame: f, message: `${what}; the primary maps it read-only` };
  return null;
}

export const viewRefinement: Property = {
  name: "view-refinement",
  summary: "a secondary morsel view never translates differently from, or more permissively than, the primary",
  antecedent: {
    summary: "a present entry of a morsel view table, after the entries or the frames changed",
    cases: ["view entry checked", "guest CPU access through an EPT view"],
    count(_sys, pre, _e, obs, post, counts, at): void {
      if (obs.guestFrame >= 0) counts[at + 1]++;
      if (pre[PTMEM] === post[PTMEM] && pre[FRAMES] === post[FRAMES]) return;
      const pt = post[PTMEM];
      const fr = post[FRAMES];
      for (let p = 0; p < pt[0]; p++) {
        const f = Math.floor(pt[1 + p * PT_W] / 512);
        if (frameRole(fr, f) !== ROLE_MORSEL_VIEW) {
          p = ptFirst(pt, f + 1) - 1;
          continue;
        }
        const lo = pt[2 + p * PT_W] >>> 0;
        if (viewFormat(fr, f) === VIEW_AMD_V1 ? (lo & 1) === 0 : (lo & EPT_LO_RWX) === 0) continue;
        counts[at]++;
        return;
      }
    },
  },
  check(sys, pre, _e, obs, post): Violation | null {
    if (obs.guestFrame >= 0) {
      const v = guestAccessViolation(sys.cfg.iovaBasePfn, obs, post);
      if (v !== null) return v;
    }
    if (pre[PTMEM] === post[PTMEM] && pre[FRAMES] === post[FRAMES]) return null;
    const pt = post[PTMEM];
    const fr = post[FRAMES];
    const n = pt[0];
    for (let p = 0; p < n; p++) {
      const key = pt[1 + p * PT_W];
      const f = Math.floor(key / 512);
      if (frameRole(fr, f) !== ROLE_MORSEL_VIEW) {
        p = ptFirst(pt, f + 1) - 1; // not a view table: skip the rest of its entries
        continue;
      }
      const lo = pt[2 + p * PT_W] >>> 0;
      const hi = pt[3 + p * PT_W] >>> 0;
      const fmt = viewFormat(fr, f);
      const amd = fmt === VIEW_AMD_V1;
      if (amd ? (lo & 1) === 0 : (lo & EPT_LO_RWX) === 0) continue;
      const level = frameData(fr, f) & 0xf;
      const j = key % 512;
      const prim = viewPrimary(fr, f);
      if (frameRole(fr, prim) !== ROLE_MORSEL_PT) {
        return { property: "view-refinement", frame: f, message: `${entryName(j, fmt, f, level, prim)}: frame ${prim} is no longer a morsel table, yet the view still translates through this entry` };
      }
      const isLeaf = amd ? amdNextLevel(lo) === 0 : eptIsLeaf(lo, level);
      const pp = ptFind(pt, prim, j);
      const plo = pp < 0 ? 0 : pt[2 + pp * PT_W] >>> 0;
      const phi = pp < 0 ? 0 : pt[3 + pp * PT_W] >>> 0;
      const primLeaf = x86Present(plo) && (level === 1 || x86IsHugeLeaf(plo, level));
      if (isLeaf) {
        const frame = amd ? amdAddrPfn(lo, hi) : eptLeafPfn(lo, hi, level);
        const w = amd ? amdIw(hi) : (lo & EPT_LO_WRITE) !== 0;
        const x = !amd && (lo & EPT_LO_EXEC) !== 0;
        if (!primLeaf) {
          return {
            property: "view-refinement", frame,
            message: `${entryName(j, fmt, f, level, prim)}: the view maps frame ${frame}, but the primary (x86-64) maps nothing there: the view was not invalidated when the primary unmapped`,
          };
        }
        const pf = x86LeafPfn(plo, phi, level);
        if (pf !== frame) return { property: "view-refinement", frame, message: `${entryName(j, fmt, f, level, prim)}: the view maps frame ${frame}, the primary frame ${pf}` };
        if (w && !x86Writable(plo)) return { property: "view-refinement", frame, message: `${entryName(j, fmt, f, level, prim)}: the view lets frame ${frame} be written, the primary maps it read-only` };
        if (x && x86Nx(phi)) return { property: "view-refinement", frame, message: `${entryName(j, fmt, f, level, prim)}: the view lets frame ${frame} be executed, the primary maps it NX` };
        continue;
      }
      const child = amd ? amdAddrPfn(lo, hi) : eptPfn(lo, hi);
      if (!x86Present(plo) || primLeaf || x86Pfn(plo, phi) !== viewPrimary(fr, child) || frameRole(fr, child) !== ROLE_MORSEL_VIEW) {
        return { property: "view-refinement", frame: child, message: `${entryName(j, fmt, f, level, prim)}: the view points at table frame ${child}, which does not mirror what the primary has there` };
      }
    }
    return null;
  },
};

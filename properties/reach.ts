/**
 * Which frames a device can still reach: the frames a request from it could
 * land on now, without any further action by software. Used by pin-safety.
 *
 * Device d reaches frame f when
 *   - d is attached in passthrough (it reaches every frame), or
 *   - d's domain tables in memory map some window page to f (any permission:
 *     a page mapped for reading is still memory the device can see), or
 *   - d's IOTLB, or (with ATS) its own ATC, holds a translation to f: the
 *     hardware keeps using a cached translation until an invalidation
 *     executes, whatever the tables say, or
 *   - d is untrusted, has ATS and no ACS Translation Blocking: it forges
 *     translated requests to any frame (Thunderclap).
 * Directory-cache entries are not followed: they point at table frames, and
 * a stale one that leads elsewhere is pt-page-safety's business.
 *
 * Off the hot path: called only for frames a step freed or unpinned.
 */
import { ATC, DTE, IOTLB, IOTLB_W, PTMEM } from "../model/geometry.ts";
import { deviceMode, atsEnabled } from "../model/iommu.ts";
import { walkMemory, WalkResult } from "../model/iommu-page-table.ts";
import { type State } from "../model/state.ts";
import { type System } from "../model/system.ts";

export const REACH_NONE = 0, REACH_PASSTHROUGH = 1, REACH_TABLES = 2, REACH_IOTLB = 3, REACH_ATC = 4, REACH_FORGED = 5;
export const REACH_NAMES = [
  "nothing", "its passthrough (identity) attachment", "its domain's page tables", "an IOTLB entry", "its own ATC (ATS)",
  "forged translated requests (ATS, no ACS Translation Blocking)",
];

/** Scratch result: which device reaches the frame, how, and at which IOVA page. */
export class Reach {
  dev = -1;
  how = REACH_NONE;
  iovaPfn = 0;
}

const walk = new WalkResult();

/** Whether some device reaches frame `f` in state `s`; `out` says which and how. */
export function deviceReaches(sys: System, s: State, f: number, out: Reach): boolean {
  out.dev = -1;
  out.how = REACH_NONE;
  const g = sys.g;
  const cfg = sys.cfg;
  for (let dev = 0; dev < cfg.devices; dev++) {
    const mode = deviceMode(s[DTE], dev, sys.g.vtd);
    if (mode === "passthrough") return hit(out, dev, REACH_PASSTHROUGH, f);
    if (mode !== "translate") continue;
    if (cfg.untrusted === true && cfg.acsTb !== true && atsEnabled(s[DTE], dev, sys.g.vtd)) return hit(out, dev, REACH_FORGED, f);
    for (let i = 0; i < g.winPages; i++) {
      const slot = (dev * g.winPages + i) * IOTLB_W;
      if ((s[IOTLB][slot] & 1) !== 0 && s[IOTLB][slot + 1] === f) return hit(out, dev, REACH_IOTLB, g.winBase + i);
      if (s[ATC].length > 0 && (s[ATC][slot] & 1) !== 0 && s[ATC][slot + 1] === f) return hit(out, dev, REACH_ATC, g.winBase + i);
    }
    for (let i = 0; i < g.winPages; i++) {
      if (walkMemory(sys, s[PTMEM], s[DTE], dev, g.winBase + i, walk).frame === f) return hit(out, dev, REACH_TABLES, g.winBase + i);
    }
  }
  return false;
}

function hit(out: Reach, dev: number, how: number, iovaPfn: number): boolean {
  out.dev = dev;
  out.how = how;
  out.iovaPfn = iovaPfn;
  return true;
}

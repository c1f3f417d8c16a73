/**
 * The IOTLB and the directory-entry (PDE) cache, kept separately because
 * invalidating leaves but not directory entries is a real bug class.
 *
 * Both are filled adversarially: every walk inserts what it read, and nothing
 * is ever evicted; only an executed invalidation command removes an entry.
 * (Real caches may drop entries at any time; keeping them is the worst case
 * for staleness, and a cached entry is always preferred over memory.)
 *
 * IOTLB: per domain, one slot per page of the IOVA window (software only ever
 * maps inside the window, so no present leaf exists outside it):
 *   w0 = valid | IR << 1 | IW << 2, w1 = frame.
 * PDE cache: per domain and table level L >= 2, one slot per directory prefix
 * (v >> 9(L-1)) of the window: (next table frame + 1) | next level << 16 |
 * IR << 20 | IW << 21 (permissions accumulated down to that entry).
 */
import { IOTLB, IOTLB_W, PDEC, levelShift, type Geometry } from "./geometry.ts";
import { type Tx } from "./state.ts";

const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

export function iotlbSlot(g: Geometry, dom: number, v: number): number {
  const i = v - g.winBase;
  if (i < 0 || i >= g.winPages) return -1;
  return (dom * g.winPages + i) * IOTLB_W;
}

export function iotlbFill(tx: Tx, slot: number, frame: number, ir: boolean, iw: boolean): void {
  const w0 = 1 | (ir ? 2 : 0) | (iw ? 4 : 0);
  const cur = tx.c[IOTLB];
  if (cur[slot] === w0 && cur[slot + 1] === frame) return;
  const t = tx.w(IOTLB);
  t[slot] = w0;
  t[slot + 1] = frame;
}

/** Slot of the PDE-cache entry for the directory entry at table level `level` covering page `v`, or -1. */
export function pdecSlot(g: Geometry, dom: number, level: number, v: number): number {
  const p = Math.floor(v / POW2[levelShift(level)]) - g.pdecFirst[level];
  if (p < 0 || p >= g.pdecCount[level]) return -1;
  return dom * g.pdecPerDomain + g.pdecOffset[level] + p;
}

export function pdecEncode(frame: number, nextLevel: number, ir: boolean, iw: boolean): number {
  return (frame + 1) | (nextLevel << 16) | (ir ? 1 << 20 : 0) | (iw ? 1 << 21 : 0);
}
export function pdecFrame(e: number): number {
  return (e & 0xffff) - 1;
}
export function pdecNextLevel(e: number): number {
  return (e >>> 16) & 0xf;
}
export function pdecIr(e: number): boolean {
  return (e & (1 << 20)) !== 0;
}
export function pdecIw(e: number): boolean {
  return (e & (1 << 21)) !== 0;
}

export function pdecFill(tx: Tx, slot: number, e: number): void {
  if (tx.c[PDEC][slot] === e) return;
  tx.w(PDEC)[slot] = e;
}

/**
 * Executes an invalidation of pages [first, first+pages) of domain `dom`:
 * IOTLB entries in the range go; with `pde`, directory entries whose span
 * intersects the range go too. Returns how many entries were removed.
 */
export function invalidateRange(tx: Tx, dom: number, first: number, pages: number, pde: boolean): number {
  const g = tx.g;
  let removed = 0;
  const last = first + pages - 1;
  const lo = Math.max(first, g.winBase);
  const hi = Math.min(last, g.winBase + g.winPages - 1);
  for (let v = lo; v <= hi; v++) {
    const s = iotlbSlot(g, dom, v);
    if (tx.c[IOTLB][s] !== 0) {
      const t = tx.w(IOTLB);
      t[s] = 0;
      t[s + 1] = 0;
      removed++;
    }
  }
  if (!pde) return removed;
  for (let level = 2; level <= g.cfg.iommuLevels; level++) {
    const span = POW2[levelShift(level)];
    for (let p = 0; p < g.pdecCount[level]; p++) {
      const start = (g.pdecFirst[level] + p) * span;
      if (start + span - 1 < first || start > last) continue;
      const s = dom * g.pdecPerDomain + g.pdecOffset[level] + p;
      if (tx.c[PDEC][s] !== 0) {
        tx.w(PDEC)[s] = 0;
        removed++;
      }
    }
  }
  return removed;
}

/** The IOVA allocators decoded: each domain's allocated ranges (docs/state.md "The IOVA allocator"; iova-allocator.ts). */
import { IOVA, type Geometry } from "../geometry.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

export type IovaRecord = {
  readonly kind: "iova";
  /** "dom 0 0x1f8000": a maximal run of allocated pages. */
  readonly key: string;
  readonly dom: number;
  readonly iova: string;
  readonly pages: number;
}

export function decodeIova(g: Geometry, s: State): IovaRecord[] {
  const bm = s[IOVA];
  const out: IovaRecord[] = [];
  for (let dom = 0; dom < g.cfg.devices; dom++) {
    const base = dom * g.bitmapWords;
    const used = (i: number) => (bm[base + (i >>> 5)] & (1 << (i & 31))) !== 0;
    for (let i = 0; i < g.winPages; i++) {
      if (!used(i) || (i > 0 && used(i - 1))) continue;
      let n = 1;
      while (i + n < g.winPages && used(i + n)) n++;
      const iova = hex((g.winBase + i) * 4096);
      out.push({ kind: "iova", key: `dom ${dom} ${iova}`, dom, iova, pages: n });
    }
  }
  return out;
}

// Tests for the IOTLB and the directory-entry cache in model/iotlb.ts (issue
// 15/16, mutation testing): slot arithmetic at the window's edges, the
// entry encodings, fills that change nothing write nothing, and which
// entries an invalidation removes (a directory entry goes when its span
// meets the range, by a single page at either end).
import { describe, expect, it } from "vitest";
import { IOTLB, IOTLB_W, PDEC } from "../../model/geometry.ts";
import {
  invalidateRange, iotlbFill, iotlbSlot, pdecEncode, pdecFill, pdecFrame, pdecIr, pdecIw, pdecNextLevel, pdecSlot,
} from "../../model/iotlb.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { config, txOn } from "./helpers.ts";

// The default machine: window pages 504..519 (it crosses the 2 MiB boundary at 512), two domains, three levels;
// directory-cache slots per domain: level 2 prefixes 0 (pages 0..511) and 1 (512..1023), level 3 prefix 0.
const sys = makeSystem(config(), strict);
const g = sys.g;

function filled() {
  const { tx, obs } = txOn(sys);
  for (const dom of [0, 1]) {
    for (let v = 504; v < 520; v++) iotlbFill(tx, iotlbSlot(g, dom, v), 9, true, true);
    for (let i = 0; i < g.pdecPerDomain; i++) pdecFill(tx, dom * g.pdecPerDomain + i, pdecEncode(3, 1, true, true));
  }
  return { tx, obs };
}
const liveIotlb = (tx: ReturnType<typeof txOn>["tx"], dom: number) => {
  const out: number[] = [];
  for (let v = 504; v < 520; v++) if (tx.c[IOTLB][iotlbSlot(g, dom, v)] !== 0) out.push(v);
  return out;
};
const livePdec = (tx: ReturnType<typeof txOn>["tx"], dom: number) =>
  [pdecSlot(g, dom, 2, 504), pdecSlot(g, dom, 2, 512), pdecSlot(g, dom, 3, 504)].map((s) => tx.c[PDEC][s] !== 0);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe("IOTLB and directory-cache slots", () => {
  it("the geometry this file assumes", () => {
    expect([g.winBase, g.winPages, g.cfg.devices, g.cfg.iommuLevels, g.pdecPerDomain]).toEqual([504, 16, 2, 3, 3]);
  });

  it("an IOTLB slot per domain and window page, none outside the window", () => {
    expect(iotlbSlot(g, 0, 504)).toBe(0);
    expect(iotlbSlot(g, 0, 519)).toBe(15 * IOTLB_W);
    expect(iotlbSlot(g, 1, 504)).toBe(16 * IOTLB_W);
    expect(iotlbSlot(g, 1, 510)).toBe(22 * IOTLB_W);
    expect(iotlbSlot(g, 0, 503)).toBe(-1);
    expect(iotlbSlot(g, 0, 520)).toBe(-1);
  });

  it("a directory-cache slot per domain, level and prefix of the window, none outside", () => {
    expect(pdecSlot(g, 0, 2, 504)).toBe(0);
    expect(pdecSlot(g, 0, 2, 511)).toBe(0);
    expect(pdecSlot(g, 0, 2, 512)).toBe(1);
    expect(pdecSlot(g, 0, 2, 1023)).toBe(1);
    expect(pdecSlot(g, 0, 3, 504)).toBe(2);
    expect(pdecSlot(g, 0, 3, 519)).toBe(2);
    expect(pdecSlot(g, 1, 2, 512)).toBe(4);
    expect(pdecSlot(g, 1, 3, 504)).toBe(5);
    expect(pdecSlot(g, 0, 2, 1024)).toBe(-1);
    expect(pdecSlot(g, 0, 3, 2 ** 18)).toBe(-1);
    const vtd = makeSystem(config({ iommu: "vtd", iommuLevels: 4 }), strict).g;
    expect(pdecSlot(vtd, 0, 4, 504)).toBe(3);
    expect(pdecSlot(vtd, 1, 4, 504)).toBe(7);
    expect(pdecSlot(vtd, 0, 4, 2 ** 27)).toBe(-1);
  });

  it("a directory-cache entry keeps frame, next level and permissions apart; frame 0 is a real entry", () => {
    for (const [frame, nl, ir, iw] of [[0, 1, false, false], [5, 2, true, false], [0xfffe, 15, false, true], [123, 3, true, true]] as const) {
      const e = pdecEncode(frame, nl, ir, iw);
      expect(e).not.toBe(0);
      expect([pdecFrame(e), pdecNextLevel(e), pdecIr(e), pdecIw(e)]).toEqual([frame, nl, ir, iw]);
    }
    expect(pdecEncode(5, 2, true, false)).toBe(6 | (2 << 16) | (1 << 20));
    expect(pdecEncode(5, 2, false, true)).toBe(6 | (2 << 16) | (1 << 21));
  });

  it("an IOTLB entry: valid, IR, IW and the frame; a fill that changes nothing writes nothing", () => {
    const { tx } = txOn(sys);
    const s = iotlbSlot(g, 0, 505);
    iotlbFill(tx, s, 7, true, false);
    expect([tx.c[IOTLB][s], tx.c[IOTLB][s + 1]]).toEqual([3, 7]);
    iotlbFill(tx, s, 7, false, true);
    expect([tx.c[IOTLB][s], tx.c[IOTLB][s + 1]]).toEqual([5, 7]);
    iotlbFill(tx, s, 8, false, true);
    expect([tx.c[IOTLB][s], tx.c[IOTLB][s + 1]]).toEqual([5, 8]);
    const base = tx.commit();
    const t2 = txOn(sys, base).tx;
    iotlbFill(t2, s, 8, false, true);
    pdecFill(t2, 0, 0);
    const same = t2.commit();
    expect(same[IOTLB]).toBe(base[IOTLB]);
    expect(same[PDEC]).toBe(base[PDEC]);
    const t3 = txOn(sys, base).tx;
    iotlbFill(t3, s, 9, false, true);
    pdecFill(t3, 0, pdecEncode(3, 1, true, true));
    const changed = t3.commit();
    expect(changed[IOTLB]).not.toBe(base[IOTLB]);
    expect(changed[PDEC]).not.toBe(base[PDEC]);
    expect(changed[PDEC][0]).toBe(pdecEncode(3, 1, true, true));
  });
});

describe("invalidateRange", () => {
  it("removes the domain's IOTLB entries in the range, clipped to the window; counts what it removed", () => {
    const { tx } = filled();
    expect(invalidateRange(tx, 0, 510, 4, false)).toBe(4);
    expect(liveIotlb(tx, 0)).toEqual([...range(504, 510), ...range(514, 520)]);
    expect(liveIotlb(tx, 1)).toEqual(range(504, 520));
    expect(livePdec(tx, 0)).toEqual([true, true, true]); // without pde the directory entries stay
    expect(invalidateRange(tx, 0, 510, 4, false)).toBe(0); // nothing left there
    expect(invalidateRange(tx, 0, 500, 6, false)).toBe(2); // 504, 505
    expect(invalidateRange(tx, 0, 518, 10, false)).toBe(2); // 518, 519
    expect(liveIotlb(tx, 0)).toEqual([...range(506, 510), ...range(514, 518)]);
  });

  it("with pde, a directory entry goes when its span meets the range, even by one page at either end", () => {
    const cases: [number, number, boolean[], number][] = [
      [510, 2, [false, true, false], 2 + 2], // inside prefix 0 only
      [511, 1, [false, true, false], 1 + 2], // the last page of prefix 0
      [512, 1, [true, false, false], 1 + 2], // the first page of prefix 1
      [511, 2, [false, false, false], 2 + 3],
      [600, 5, [true, false, false], 0 + 2], // above the window: no IOTLB entry, but prefix 1's span
      [0, 10, [false, true, false], 0 + 2], // below the window
      [2 ** 18, 1, [true, true, true], 0], // beyond the level-3 span
    ];
    for (const [first, pages, left, removed] of cases) {
      const { tx } = filled();
      expect(invalidateRange(tx, 0, first, pages, true), `${first}+${pages}`).toBe(removed);
      expect(livePdec(tx, 0), `${first}+${pages}`).toEqual(left);
      expect(livePdec(tx, 1)).toEqual([true, true, true]);
    }
  });
});

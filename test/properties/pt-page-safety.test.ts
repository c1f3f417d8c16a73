// pt-page-safety's early exit (issue 16): the check is skipped only when
// neither the directory cache nor the frame table changed. A step that
// changes the directory cache alone (a walk filling an entry) is checked, and
// a step that changes neither is not re-examined.
import { describe, expect, it } from "vitest";
import { mIova, mSegFrame } from "../../model/dma-mapping.ts";
import { FRAMES, MAPS, PDEC } from "../../model/geometry.ts";
import { pdecEncode, pdecFill, pdecFrame, pdecNextLevel } from "../../model/iotlb.ts";
import { frameRole, freeFrames, ROLE_MORSEL_PT, setFrame } from "../../model/physical-memory.ts";
import { strict } from "../../model/policies/strict.ts";
import { ptPageSafety } from "../../properties/pt-page-safety.ts";
import { Runner, txOn } from "../model/helpers.ts";

/** strict: a mapping on dev0 whose walk filled the directory cache; the slot of its deepest cached entry. */
function cached(): { r: Runner; slot: number; data: number } {
  const r = Runner.of(strict);
  r.step({ t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "bidirectional" });
  r.step({ t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 });
  const pd = r.state[PDEC];
  let slot = -1;
  for (let i = 0; i < pd.length; i++) if (pd[i] !== 0 && (slot < 0 || pdecNextLevel(pd[i]) < pdecNextLevel(pd[slot]))) slot = i;
  expect(slot).toBeGreaterThanOrEqual(0);
  expect(mIova(r.state[MAPS], 0)).toBeGreaterThan(0);
  return { r, slot, data: mSegFrame(r.state[MAPS], 0, 0) };
}

describe("pt-page-safety's early exit", () => {
  it("a step that fills the directory cache alone, with an entry pointing at a data page, is checked and caught", () => {
    const { r, slot, data } = cached();
    const pre = r.state;
    expect(ptPageSafety.check(r.sys, pre, { t: "iommu" }, r.obs, pre)).toBeNull();
    const { tx, obs } = txOn(r.sys, pre);
    const e = pre[PDEC][slot];
    pdecFill(tx, slot, pdecEncode(data, pdecNextLevel(e), true, true));
    const post = tx.commit();
    expect(post[FRAMES]).toBe(pre[FRAMES]); // only the directory cache changed
    expect(post[PDEC]).not.toBe(pre[PDEC]);
    const v = ptPageSafety.check(r.sys, pre, { t: "iommu" }, obs, post);
    expect(v?.message).toMatch(new RegExp(`directory cache for dom 0 still holds the level-\\d entry .* pointing at frame ${data}, which is no longer that page table`));
    // The unchanged cached entry is fine.
    expect(pdecFrame(e)).not.toBe(data);
  });

  it("a walk that fills the directory cache with the tables' own entries is fine", () => {
    const { r } = cached();
    const walk = r.log[1]; // the dma: its walk filled the cache
    expect(walk.post[PDEC]).not.toBe(walk.pre[PDEC]);
    expect(ptPageSafety.check(r.sys, walk.pre, walk.event, r.obs, walk.post)).toBeNull();
    // And so is the map before it, which changed the frames (new table frames) with nothing cached.
    expect(ptPageSafety.check(r.sys, r.log[0].pre, r.log[0].event, r.obs, r.log[0].post)).toBeNull();
  });

  it("the violation names the entry's level and IOVA span, at every level the walk cached", () => {
    const { r, data } = cached();
    const slots = [...r.state[PDEC].keys()].filter((i) => r.state[PDEC][i] !== 0);
    expect(slots.length).toBe(r.sys.cfg.iommuLevels - 1); // one directory entry per level above the leaves
    for (const slot of slots) {
      const e = r.state[PDEC][slot];
      const { tx, obs } = txOn(r.sys, r.state);
      pdecFill(tx, slot, pdecEncode(data, pdecNextLevel(e), true, true));
      const v = ptPageSafety.check(r.sys, r.state, { t: "iommu" }, obs, tx.commit())!;
      const level = pdecNextLevel(e) + 1;
      const span = 2 ** (9 * (level - 1)) * 4096;
      const first = Math.floor((v.iovaPfn! * 4096) / span) * span;
      expect(v.iovaPfn! * 4096).toBe(first);
      expect(v.message).toContain(`the level-${level} entry covering IOVAs 0x${first.toString(16)}..0x${(first + span - 1).toString(16)}, pointing at frame ${data}`);
      expect(v.dev).toBe(0);
      expect(v.frame).toBe(data);
    }
  });

  it("a step that changes neither the directory cache nor the frames is not re-examined", () => {
    const { r, slot, data } = cached();
    const { tx } = txOn(r.sys, r.state);
    pdecFill(tx, slot, pdecEncode(data, pdecNextLevel(r.state[PDEC][slot]), true, true));
    const bad = tx.commit();
    // The state is bad, but an earlier step already reported it: nothing changed since.
    expect(ptPageSafety.check(r.sys, bad, { t: "iommu" }, r.obs, bad)).toBeNull();
  });

  it("a step that frees the table a cached entry points at, leaving the cache alone, is checked and caught", () => {
    const { r, slot } = cached();
    const pre = r.state;
    const table = pdecFrame(pre[PDEC][slot]);
    const { tx, obs } = txOn(r.sys, pre);
    freeFrames(tx, table, 0, obs);
    const post = tx.commit();
    expect(post[PDEC]).toBe(pre[PDEC]); // only the frames changed
    expect(ptPageSafety.check(r.sys, pre, { t: "iommu" }, obs, post)?.message).toMatch(new RegExp(`pointing at frame ${table}, which is no longer that page table: it is free`));
  });

  it("its antecedent counts each kind of step that puts a cached entry to the test, and nothing else", () => {
    const { r, slot, data } = cached();
    const count = (pre: typeof r.state, post: typeof r.state): number[] => {
      const counts = new Float64Array(3);
      ptPageSafety.antecedent!.count(r.sys, pre, { t: "iommu" }, r.obs, post, counts, 0);
      return Array.from(counts);
    };
    const s = r.state;
    const step = (f: (tx: ReturnType<typeof txOn>["tx"], obs: ReturnType<typeof txOn>["obs"]) => void) => {
      const { tx, obs } = txOn(r.sys, s);
      f(tx, obs);
      return tx.commit();
    };
    expect(count(s, s)).toEqual([0, 0, 0]); // nothing changed
    expect(count(r.log[0].pre, r.log[0].post)).toEqual([0, 0, 0]); // the map: frames changed, but nothing cached yet
    expect(count(s, step((tx) => pdecFill(tx, slot, pdecEncode(data, 1, true, true))))).toEqual([0, 1, 0]);
    expect(count(s, step((tx, obs) => freeFrames(tx, pdecFrame(s[PDEC][slot]), 0, obs)))).toEqual([1, 0, 0]);
    expect(count(s, step((tx, obs) => freeFrames(tx, data, 0, obs)))).toEqual([0, 0, 1]); // a data page freed: no table
    // A morsel table frame that stops being one counts as a table freed too.
    const pre = s.map((c) => c.slice()) as unknown as typeof s;
    setFrame(pre[FRAMES], 20, ROLE_MORSEL_PT, 0, 0, 0);
    expect(frameRole(s[FRAMES], 20)).not.toBe(ROLE_MORSEL_PT);
    expect(count(pre, s)).toEqual([1, 0, 0]);
  });

  it("the violation names pt-page-safety, the domain, the frame and the IOVA page", () => {
    const { r, slot, data } = cached();
    const { tx, obs } = txOn(r.sys, r.state);
    pdecFill(tx, slot, pdecEncode(data, 1, true, true));
    const v = ptPageSafety.check(r.sys, r.state, { t: "iommu" }, obs, tx.commit())!;
    expect([v.property, v.dev, v.frame, typeof v.iovaPfn]).toEqual(["pt-page-safety", 0, data, "number"]);
  });
});

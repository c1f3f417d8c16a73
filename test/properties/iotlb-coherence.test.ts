// iotlb-coherence's rule for a mapping no call is working on (issue 16): a
// cached translation must agree with the tables now. Reached by changing the
// tables under a live mapping without an invalidation, as a policy that
// remaps an IOVA to another frame, or lowers its permission, in place would.
import { describe, expect, it } from "vitest";
import { mIova } from "../../model/dma-mapping.ts";
import { MAPS } from "../../model/geometry.ts";
import { iommuMapPage, iommuUnmapPages } from "../../model/iommu-page-table.ts";
import { SRC_IOTLB } from "../../model/observation.ts";
import { strict } from "../../model/policies/strict.ts";
import { iotlbCoherence } from "../../properties/iotlb-coherence.ts";
import { Runner, txOn } from "../model/helpers.ts";

/** strict: a bidirectional mapping on dev0 whose translation the IOTLB caches, then its entry rewritten to `frame` with `write`. */
function rewritten(frame: (old: number) => number, write: boolean): { r: Runner; old: number } {
  const r = Runner.of(strict);
  r.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "bidirectional" });
  const fill = r.step({ t: "dma", dev: 0, write: false, page: 0, offset: 0, len: 1 });
  const old = fill.segFrame[0];
  const v = mIova(r.state[MAPS], 0);
  const { tx, obs } = txOn(r.sys, r.state);
  iommuUnmapPages(tx, 0, v, 1, 0, obs);
  expect(iommuMapPage(tx, 0, v, frame(old), true, write, obs)).toBe(true);
  r.state = tx.commit(); // no invalidation queued: the IOTLB keeps the old translation
  return { r, old };
}

function check(r: Runner, write: boolean) {
  const s = r.step({ t: "dma", dev: 0, write, page: 0, offset: 0, len: 1 });
  expect(s.segSource[0]).toBe(SRC_IOTLB);
  return iotlbCoherence.check(r.sys, s.pre, s.event, r.obs, s.post);
}

describe("iotlb-coherence on a live mapping", () => {
  it("an IOVA remapped to another frame without invalidation: the cached translation disagrees with the tables", () => {
    const { r, old } = rewritten((f) => f + 1, true);
    const v = check(r, false);
    expect(v?.message).toMatch(new RegExp(`read frame ${old} through a stale IOTLB entry .*; the tables now map it to frame ${old + 1}$`));
  });

  it("a permission lowered without invalidation: a write through the cached entry", () => {
    const { r, old } = rewritten((f) => f, false);
    expect(check(r, false)).toBeNull(); // reading is still allowed
    expect(check(r, true)?.message).toMatch(new RegExp(`wrote frame ${old} .*the tables now map it to frame ${old} without that permission$`));
  });

  it("an unchanged entry is coherent", () => {
    const { r } = rewritten((f) => f, true);
    expect(check(r, true)).toBeNull();
  });
});

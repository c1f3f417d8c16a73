/**
 * pt-page-safety.
 *
 * Formally: in every state, every entry of the IOMMU's directory-entry cache
 * for domain d, table level L and IOVA prefix p points at a frame that is
 * still d's page-table frame holding the level L-1 table for that prefix
 * (possibly unlinked from the tree but not yet freed). Once such a frame is
 * freed and reused, a walk through the cached entry would read whatever the
 * frame holds now as page-table entries.
 *
 * Source: Linux frees page-table pages only after
 * iommu_iotlb_sync (the gather freelist in dma-iommu.c) or, lazily, after the
 * flush-queue flush; F&S (Rubin et al., SOSP'24) keeps page-walk caches and
 * must invalidate them when a table page is reclaimed
 * (docs/reference/policies.md sections 1, 2 and 5).
 */
import { type Property, type Violation } from "./property.ts";
import { FRAMES, PDEC, levelShift } from "../model/geometry.ts";
import { isTableFrameOf } from "../model/iommu-page-table.ts";
import { pdecFrame, pdecNextLevel } from "../model/iotlb.ts";
import { describeFrame, hex } from "./describe.ts";
import { frameRole, ROLE_IOMMU_PT, ROLE_MORSEL_PT } from "../model/physical-memory.ts";
import { type State } from "../model/state.ts";

/** Whether some IOMMU (or morsel) table frame of `pre` is no longer one in `post`. */
function tableFrameFreed(frames: number, pre: State, post: State): boolean {
  const a = pre[FRAMES];
  const b = post[FRAMES];
  for (let f = 0; f < frames; f++) {
    const r = frameRole(a, f);
    if ((r === ROLE_IOMMU_PT || r === ROLE_MORSEL_PT) && frameRole(b, f) !== r) return true;
  }
  return false;
}

export const ptPageSafety: Property = {
  name: "pt-page-safety",
  summary: "no cached directory entry points at a frame that is no longer that page-table frame",
  // The check has something to examine: the directory cache holds an entry and it or the frames changed.
  antecedent: {
    summary: "the directory cache held an entry while it or the frames changed",
    afterMap: true,
    cases: ["table frame freed under a cached entry", "directory cache changed", "frames changed under a cached entry"],
    count(sys, pre, _e, _obs, post, counts, at): void {
      const pdChanged = post[PDEC] !== pre[PDEC];
      const frChanged = post[FRAMES] !== pre[FRAMES];
      if (!pdChanged && !frChanged) return;
      const pd = post[PDEC];
      let any = false;
      for (let i = 0; i < pd.length && !any; i++) any = pd[i] !== 0;
      if (!any) return;
      if (frChanged && tableFrameFreed(sys.cfg.frames, pre, post)) counts[at]++;
      else if (pdChanged) counts[at + 1]++;
      else counts[at + 2]++;
    },
  },
  check(sys, pre, _e, _obs, post): Violation | null {
    if (post[PDEC] === pre[PDEC] && post[FRAMES] === pre[FRAMES]) return null;
    const g = sys.g;
    const pd = post[PDEC];
    const fr = post[FRAMES];
    for (let dom = 0; dom < sys.cfg.devices; dom++) {
      for (let level = 2; level <= sys.cfg.iommuLevels; level++) {
        for (let p = 0; p < g.pdecCount[level]; p++) {
          const e = pd[dom * g.pdecPerDomain + g.pdecOffset[level] + p];
          if (e === 0) continue;
          const f = pdecFrame(e);
          const v = (g.pdecFirst[level] + p) * 2 ** levelShift(level);
          if (isTableFrameOf(fr, f, dom, pdecNextLevel(e), v)) continue;
          return {
            property: "pt-page-safety",
            dev: dom,
            frame: f,
            iovaPfn: v,
            message: `the IOMMU's directory cache for dom ${dom} still holds the level-${level} entry covering IOVAs ${hex(v * 4096)}..${hex((v + 2 ** levelShift(level)) * 4096 - 1)}, pointing at frame ${f}, ` +
              `which is no longer that page table: it is ${describeFrame(post, f)}`,
          };
        }
      }
    }
    return null;
  },
};

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
 * Source: DESIGN.md section 3; Linux frees page-table pages only after
 * iommu_iotlb_sync (the gather freelist in dma-iommu.c) or, lazily, after the
 * flush-queue flush; F&S (Rubin et al., SOSP'24) keeps page-walk caches and
 * must invalidate them when a table page is reclaimed.
 */
import { type Property, type Violation } from "./property.ts";
import { FRAMES, PDEC, levelShift } from "../model/geometry.ts";
import { isTableFrameOf } from "../model/iommu-page-table.ts";
import { pdecFrame, pdecNextLevel } from "../model/iotlb.ts";
import { describeFrame, hex } from "./describe.ts";

export const ptPageSafety: Property = {
  name: "pt-page-safety",
  summary: "no cached directory entry points at a frame that is no longer that page-table frame",
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

/**
 * dma-integrity: a device's DMA at a mapping's address lands in that
 * mapping's buffer.
 *
 * Formally, for every transition:
 *   1. for every performed segment of a device access by device d that was
 *      translated (a page walk, an IOTLB hit, a walk from a cached directory
 *      entry, an ATC hit) at IOVA page v, reaching frame f: every live
 *      mapping of d whose IOVA range covers v holds f (f is one of its
 *      segments' frames or bounce-slot frames, or a frame of a pool d owns
 *      for good);
 *   2. in the post-state, no two live mappings of the same device cover a
 *      common IOVA page (checked on transitions that changed the mappings).
 * Clause 2 is what an IOVA freed before its invalidation completed breaks
 * first: the next map of that device is handed the same IOVA while the
 * first mapping's unmap is still in progress, and its DMA may then go
 * through the first mapping's stale IOTLB entry (clause 1).
 * Identity (passthrough) and forged accesses translate nothing and are left
 * to the confinement properties.
 *
 * Source: the DMA API contract (Linux Documentation/core-api/dma-api.rst:
 * dma_map_* returns an address the device uses to reach that buffer);
 * Linux drivers/iommu/dma-iommu.c __iommu_dma_unmap frees the IOVA
 * (iommu_dma_free_iova) only after iommu_iotlb_sync; drivers/iommu/iova.c
 * hands a freed range out again at once.
 */
import { type Property, type Violation } from "./property.ts";
import { MAPS } from "../model/geometry.ts";
import { MS_FREE, mDev, mIova, mPages, mStatus } from "../model/dma-mapping.ts";
import { SRC_ATC, SRC_IOTLB, SRC_PDEC_WALK, SRC_WALK } from "../model/observation.ts";
import { coversPage, mappingHoldsFrame } from "./mapping-frames.ts";
import { describeFrame, hex, sourceName } from "./describe.ts";

export const dmaIntegrity: Property = {
  name: "dma-integrity",
  summary: "a device access inside a live mapping's IOVA range reaches only that mapping's buffer; no two live mappings of a device share an IOVA page",
  antecedent: {
    summary: "a device access inside a live mapping's IOVA range, or two live mappings of one device with IOVAs",
    afterMap: true,
    cases: ["access inside a live mapping", "two live mappings of a device"],
    count(sys, pre, _e, obs, post, counts, at): void {
      const mp = post[MAPS];
      const n = sys.cfg.maxMappings;
      if (post[MAPS] !== pre[MAPS]) {
        let pair = false;
        for (let a = 0; a < n && !pair; a++) {
          if (mStatus(mp, a) === MS_FREE || mIova(mp, a) === 0) continue;
          for (let b = a + 1; b < n && !pair; b++) pair = mStatus(mp, b) !== MS_FREE && mIova(mp, b) !== 0 && mDev(mp, b) === mDev(mp, a);
        }
        if (pair) counts[at + 1]++;
      }
      if (obs.dev < 0) return;
      for (let i = 0; i < obs.nseg; i++) {
        const src = obs.segSource[i];
        if (src !== SRC_WALK && src !== SRC_IOTLB && src !== SRC_PDEC_WALK && src !== SRC_ATC) continue;
        for (let m = 0; m < n; m++) {
          if (mDev(mp, m) !== obs.dev || !coversPage(mp, m, obs.segIovaPfn[i])) continue;
          counts[at]++;
          break;
        }
      }
    },
  },
  check(sys, pre, _e, obs, post): Violation | null {
    const mp = post[MAPS];
    const n = sys.cfg.maxMappings;
    if (post[MAPS] !== pre[MAPS]) {
      for (let a = 0; a < n; a++) {
        if (mStatus(mp, a) === MS_FREE || mIova(mp, a) === 0) continue;
        const a0 = mIova(mp, a), a1 = a0 + mPages(mp, a);
        for (let b = a + 1; b < n; b++) {
          if (mStatus(mp, b) === MS_FREE || mIova(mp, b) === 0 || mDev(mp, b) !== mDev(mp, a)) continue;
          const b0 = mIova(mp, b), b1 = b0 + mPages(mp, b);
          if (b0 >= a1 || a0 >= b1) continue;
          const v = Math.max(a0, b0);
          return {
            property: "dma-integrity", dev: mDev(mp, a), iovaPfn: v,
            message: `mappings #${a} and #${b} of device ${mDev(mp, a)} are both live and share IOVA page ${hex(v)}: ` +
              "a device access there cannot reach both buffers",
          };
        }
      }
    }
    if (obs.dev < 0) return null;
    for (let i = 0; i < obs.nseg; i++) {
      const src = obs.segSource[i];
      if (src !== SRC_WALK && src !== SRC_IOTLB && src !== SRC_PDEC_WALK && src !== SRC_ATC) continue;
      const v = obs.segIovaPfn[i];
      const f = obs.segFrame[i];
      for (let m = 0; m < n; m++) {
        if (mDev(mp, m) !== obs.dev || !coversPage(mp, m, v) || mappingHoldsFrame(post, m, f)) continue;
        return {
          property: "dma-integrity", dev: obs.dev, frame: f, iovaPfn: v,
          message: `device ${obs.dev} ${obs.write ? "wrote" : "read"} IOVA ${hex(v * 4096 + obs.segOffset[i])} of mapping #${m} ` +
            `through ${sourceName(src)}, but reached frame ${f} (${describeFrame(post, f)}), which holds none of that mapping's buffer`,
        };
      }
    }
    return null;
  },
};

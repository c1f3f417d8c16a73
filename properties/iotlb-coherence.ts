/**
 * iotlb-coherence ("no stale IOTLB access").
 *
 * Formally: for every transition whose observation contains a device access
 * segment translated with the help of a cache (an IOTLB hit, or a walk
 * started from a cached directory entry) for IOVA page v of device d:
 *   - some live mapping of d covers v (otherwise its unmap has returned: the
 *     access is stale), and
 *   - if every covering mapping's map call has returned and none is being
 *     unmapped, the cached translation agrees with what the tables in memory
 *     map at v now: same frame, and the access allowed by the memory walk too.
 * A permanent mapping of a device-owned pool (shadow buffers, a DMA-aware
 * allocator's pool) never goes stale: an access through a cached translation
 * that the tables in memory still map to the same pool frame of that device,
 * with that permission, is fine whether or not a DMA mapping uses it now.
 * An access while the covering mapping's unmap (or a failing map's undo) is
 * still in progress is not stale: the DMA API grants the buffer until the
 * call returns, and the invalidation that call waits for is what removes it.
 * That exemption holds only for the mapping the cached translation was made
 * for: the frame it leads to holds that mapping's buffer, and no other
 * mapping of the device whose map has returned covers the page (another
 * buffer, even one in the same frame: a kmalloc neighbour in the same slab
 * page). With such a mapping the translation is checked against the tables
 * as for any returned mapping, so a translation left over from a mapping
 * whose IOVA was freed early and reused by another buffer is stale even
 * while the first unmap is still in progress, whether or not the new buffer
 * shares the old one's frame; the new mapping's own translation agrees with
 * the tables and passes.
 *
 * Source: the lazy window of Linux dma-iommu.c; the
 * temporal class of Thunderclap (NDSS'19); docs/reference/policies.md
 * sections 2 and 7.
 */
import { type Property, type Violation } from "./property.ts";
import { MAPS, PTMEM, DTE } from "../model/geometry.ts";
import { MS_FREE, MS_MAPPING, MS_UNMAPPING, mDev, mIova, mPages, mStatus } from "../model/dma-mapping.ts";
import { SRC_ATC, SRC_IOTLB, SRC_PDEC_WALK } from "../model/observation.ts";
import { walkMemory, WalkResult } from "../model/iommu-page-table.ts";
import { hex, sourceName } from "./describe.ts";
import { devicePoolFrame } from "./grants.ts";
import { cachedAccessAntecedent } from "./antecedent.ts";
import { mappingHoldsFrame } from "./mapping-frames.ts";

const walk = new WalkResult();

export const iotlbCoherence: Property = {
  name: "iotlb-coherence",
  summary: "no device access completes through a cached translation that is stale or disagrees with the tables",
  antecedent: cachedAccessAntecedent,
  check(sys, _pre, _e, obs, post): Violation | null {
    if (obs.dev < 0) return null;
    for (let i = 0; i < obs.nseg; i++) {
      const src = obs.segSource[i];
      if (src !== SRC_IOTLB && src !== SRC_PDEC_WALK && src !== SRC_ATC) continue;
      const v = obs.segIovaPfn[i];
      const mp = post[MAPS];
      const f = obs.segFrame[i];
      let covered = false;
      let unmapping = false;
      let otherMapped = false;
      for (let m = 0; m < sys.cfg.maxMappings; m++) {
        const st = mStatus(mp, m);
        if (st === MS_FREE || mDev(mp, m) !== obs.dev) continue;
        const first = mIova(mp, m);
        if (first === 0 || v < first || v >= first + mPages(mp, m)) continue; // 0: no IOVA assigned yet
        covered = true;
        // Exempt: a call in progress whose own translation this is, unless a returned map of another buffer
        // (any other mapping, whatever frame it holds) covers v too.
        if (st === MS_UNMAPPING || st === MS_MAPPING) unmapping ||= mappingHoldsFrame(post, m, f);
        else otherMapped = true;
      }
      if (otherMapped) unmapping = false;
      const what = `device ${obs.dev} ${obs.write ? "wrote" : "read"} frame ${f} through a stale ${sourceName(src, false)} for IOVA ${hex(v * 4096 + obs.segOffset[i])}`;
      if (!covered) {
        walkMemory(sys, post[PTMEM], post[DTE], obs.dev, v, walk);
        const permanent = walk.frame === f && (obs.write ? walk.iw : walk.ir) && devicePoolFrame(post, obs.dev, f);
        if (permanent) continue;
        return { property: "iotlb-coherence", dev: obs.dev, frame: f, iovaPfn: v, message: `${what}; its unmap had already returned` };
      }
      if (unmapping) continue;
      walkMemory(sys, post[PTMEM], post[DTE], obs.dev, v, walk);
      const allowed = obs.write ? walk.iw : walk.ir;
      if (walk.frame === f && allowed) continue;
      const now = walk.frame < 0 ? "nothing is mapped there now" : `the tables now map it to frame ${walk.frame}${allowed ? "" : " without that permission"}`;
      return { property: "iotlb-coherence", dev: obs.dev, frame: f, iovaPfn: v, message: `${what}; ${now}` };
    }
    return null;
  },
};

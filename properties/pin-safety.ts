/**
 * pin-safety ("no frame a device can still reach is unpinned or reclaimed").
 *
 * Formally: for every transition (pre, event, post) and every frame f such
 * that
 *   - f was pinned in pre and is not pinned in post (its last pin dropped), or
 *   - f was allocated in pre (any role but free) and is free in post (the page
 *     allocator reclaimed it: a kfree, the driver freeing its buffer, munmap of
 *     a user page, a table page freed),
 * no device reaches f in post (reach.ts: a passthrough attachment, a present
 * leaf of its domain tables, an IOTLB or ATC entry, or forged translated
 * requests). Frames of user memory count like any other: after `user-unmap`
 * the process no longer maps the page, but if a device still does, the
 * kernel must not take the frame back. That is why VFIO pins what it maps:
 * a pinned frame whose owner frees it stays allocated (role pinned) until
 * the last unpin, so only an unpin can hand it back, and unpinning while a
 * device still reaches it is the bug this property catches. A policy that
 * pins nothing satisfies it by never freeing a reachable frame (strict waits
 * for the invalidation before the buffer is returned to the driver).
 *
 * Source: Linux drivers/vfio/vfio_iommu_type1.c
 * vfio_unmap_unpin (unmap, iommu_iotlb_sync, then unpin the pages);
 * Documentation/core-api/pin_user_pages.rst (FOLL_PIN for DMA: the page must
 * not be reclaimed or migrated while the device may access it);
 * docs/reference/policies.md section 6.
 */
import { type Property, type Violation } from "./property.ts";
import { FRAMES } from "../model/geometry.ts";
import { frameRole, ROLE_FREE, ROLE_NAMES } from "../model/physical-memory.ts";
import { pinCount } from "../model/pinning.ts";
import { deviceReaches, Reach, REACH_NAMES, REACH_PASSTHROUGH, REACH_FORGED } from "./reach.ts";
import { hex } from "./describe.ts";

const reach = new Reach();

export const pinSafety: Property = {
  name: "pin-safety",
  summary: "no frame a device can still reach is unpinned or reclaimed",
  antecedent: {
    summary: "a frame went back to the page allocator, or lost its last pin",
    afterMap: true,
    cases: ["frame reclaimed", "last pin dropped"],
    count(sys, pre, _e, _obs, post, counts, at): void {
      const a = pre[FRAMES];
      const b = post[FRAMES];
      if (a === b) return;
      for (let f = 0; f < sys.cfg.frames; f++) {
        if (frameRole(b, f) === ROLE_FREE && frameRole(a, f) !== ROLE_FREE) counts[at]++;
        if (pinCount(a, f) !== 0 && pinCount(b, f) === 0) counts[at + 1]++;
      }
    },
  },
  check(sys, pre, _e, _obs, post): Violation | null {
    const a = pre[FRAMES];
    const b = post[FRAMES];
    if (a === b) return null;
    for (let f = 0; f < sys.cfg.frames; f++) {
      const reclaimed = frameRole(b, f) === ROLE_FREE && frameRole(a, f) !== ROLE_FREE;
      const unpinned = pinCount(a, f) !== 0 && pinCount(b, f) === 0;
      if (!reclaimed && !unpinned) continue;
      if (!deviceReaches(sys, post, f, reach)) continue;
      const via = reach.how === REACH_PASSTHROUGH || reach.how === REACH_FORGED
        ? REACH_NAMES[reach.how]
        : `${REACH_NAMES[reach.how]} for IOVA ${hex(reach.iovaPfn * 4096)}`;
      const what = unpinned
        ? `its last pin was dropped${reclaimed ? " and it went back to the page allocator" : ""}`
        : `the page allocator reclaimed it (it held ${ROLE_NAMES[frameRole(a, f)]} memory and is free now)`;
      return {
        property: "pin-safety",
        dev: reach.dev,
        frame: f,
        iovaPfn: reach.how === REACH_PASSTHROUGH || reach.how === REACH_FORGED ? undefined : reach.iovaPfn,
        message: `frame ${f}: ${what}, yet device ${reach.dev} can still reach it through ${via}`,
      };
    }
    return null;
  },
};

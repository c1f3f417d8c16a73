/**
 * Page pinning: a per-frame pin count, as Linux's FOLL_PIN references
 * (pin_user_pages, unpin_user_pages; Documentation/core-api/pin_user_pages.rst).
 * A pinned frame is not reclaimed: when its owner frees it (kfree, munmap,
 * the driver freeing its buffer) the page allocator keeps it, with role
 * ROLE_PINNED, until the last unpin returns it (physical-memory.ts
 * freeFrames). VFIO type1 pins every page it maps for a device
 * (drivers/vfio/vfio_iommu_type1.c vfio_pin_pages_remote) and unpins after
 * the IOMMU unmap and IOTLB sync (vfio_unmap_unpin); CoIOMMU pins on first
 * use. The pin-safety property checks that no frame a device can still reach
 * is unpinned or reclaimed.
 *
 * The count lives in the frame record, word w1 bits 0..15 (up to 65535 pins
 * per frame); it is present state, not history: an unpinned frame has 0.
 */
import { C } from "./counters.ts";
import { FRAMES, FRAME_W } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { type Tx, type Words } from "./state.ts";
import { frameOrder, frameRole, freeFrames, ROLE_FREE, ROLE_PINNED } from "./physical-memory.ts";

export const MAX_PINS = 0xffff;

/** Pin count of frame `f`. */
export function pinCount(fr: Words, f: number): number {
  return fr[f * FRAME_W + 1] & 0xffff;
}

function setPinCount(fr: Words, f: number, n: number): void {
  fr[f * FRAME_W + 1] = (fr[f * FRAME_W + 1] & ~0xffff) | n;
}

/**
 * Pins frame `f` (counts `pins`). False, changing nothing, when the frame is
 * free (nothing to pin) or its count is saturated.
 */
export function pinFrame(tx: Tx, f: number, obs: Observation): boolean {
  const fr0 = tx.c[FRAMES];
  if (f < 0 || f >= tx.g.cfg.frames || frameRole(fr0, f) === ROLE_FREE) return false;
  const n = pinCount(fr0, f);
  if (n >= MAX_PINS) return false;
  setPinCount(tx.w(FRAMES), f, n + 1);
  obs.counters[C.pins]++;
  return true;
}

/**
 * Drops one pin of frame `f` (counts `unpins`). At the last unpin of a frame
 * its owner already freed (ROLE_PINNED), the block goes back to the page
 * allocator once none of its frames is pinned. False when `f` is not pinned.
 */
export function unpinFrame(tx: Tx, f: number, obs: Observation): boolean {
  const fr0 = tx.c[FRAMES];
  if (f < 0 || f >= tx.g.cfg.frames) return false;
  const n = pinCount(fr0, f);
  if (n === 0) return false;
  const fr = tx.w(FRAMES);
  setPinCount(fr, f, n - 1);
  obs.counters[C.unpins]++;
  if (n === 1 && frameRole(fr, f) === ROLE_PINNED) {
    const order = frameOrder(fr, f);
    const head = f - (f % (1 << order));
    for (let i = 0; i < 1 << order; i++) if (pinCount(fr, head + i) !== 0) return true;
    if (obs.detail) obs.note(`last unpin of frame ${f}: its owner had freed it, so it goes back to the page allocator`);
    freeFrames(tx, head, order, obs);
  }
  return true;
}

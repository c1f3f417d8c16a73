/**
 * no-leak: whatever was taken for DMA is given back once DMA is over.
 *
 * Formally: for every transition whose post-state is quiescent (no mapping
 * is live, no DMA API call or timer work is in progress, the command buffer
 * and every flush queue are empty, and no timer is armed):
 *   - no frame is pinned;
 *   - every IOVA page allocated now was allocated at boot, or is mapped by
 *     the tables to a pool frame its device owns for good (a pool that grows
 *     on demand and stays mapped, like DAMN's);
 *   - every IOMMU page-table frame is linked (none detached and never
 *     freed), and, when emptied tables are reclaimed (reclaimEmptyTables),
 *     every one that was not there at boot holds at least one entry; no
 *     morsel table or view table is left;
 *   - no bounce slot is still marked as a mapping's (Kernel.setSegBounce
 *     without Kernel.releaseBounceSlot), and every bounce-pool frame was
 *     one at boot (a pool block a handler took is given back);
 *   - the policy reports nothing still held in its private state
 *     (Policy.held: a bounce slot, a shadow page marked in use).
 * Checked only on transitions into a quiescent state or that changed the
 * frames, IOVAs, tables or policy words of one.
 *
 * Source: Linux drivers/iommu/dma-iommu.c __iommu_dma_unmap (the IOVA and
 * the gathered page-table pages are freed after iommu_iotlb_sync) and
 * fq_ring_free (after a flush); drivers/vfio/vfio_iommu_type1.c
 * vfio_unmap_unpin (every pinned page unpinned); kernel/dma/swiotlb.c
 * swiotlb_release_slots.
 */
import { type Property, type Violation } from "./property.ts";
import { CALLS, CALL_W, CMDQ, DTE, FQ, FRAMES, HDR, H_TIMER, IOVA, MAPS, POL, PTMEM } from "../model/geometry.ts";
import { MS_FREE, mStatus } from "../model/dma-mapping.ts";
import { pinCount } from "../model/pinning.ts";
import { iovaAllocated } from "../model/iova-allocator.ts";
import { anyFqTimer, fqRingBase } from "../model/flush-queue.ts";
import { walkMemory, WalkResult } from "../model/iommu-page-table.ts";
import { ptCount } from "../model/page-table-memory.ts";
import { F_DETACHED, frameAux, frameFlags, frameRole, ROLE_BOUNCE, ROLE_IOMMU_PT, ROLE_MORSEL_PT, ROLE_MORSEL_VIEW } from "../model/physical-memory.ts";
import { Kernel } from "../model/kernel.ts";
import { Observation } from "../model/observation.ts";
import { type State, Tx } from "../model/state.ts";
import { type System } from "../model/system.ts";
import { devicePoolFrame } from "./grants.ts";
import { hex } from "./describe.ts";

const walk = new WalkResult();

/** Whether DMA is over in `s`: nothing mapped, nothing in progress, nothing queued, no timer. */
export function quiescent(sys: System, s: State): boolean {
  if (s[HDR][H_TIMER] !== 0 || s[CMDQ][1] !== 0) return false;
  for (let m = 0; m < sys.cfg.maxMappings; m++) if (mStatus(s[MAPS], m) !== MS_FREE) return false;
  for (let c = 0; c < sys.g.contexts; c++) if (s[CALLS][c * CALL_W] !== 0) return false;
  if (anyFqTimer(s, sys.g)) return false;
  for (let d = 0; d < sys.cfg.devices; d++) for (let cpu = 0; cpu < sys.cfg.cpus; cpu++) if (s[FQ][fqRingBase(sys.g, d, cpu)] !== 0) return false;
  return true;
}

/** A read-only Kernel over a state, for Policy.held (one per system). */
const readers = new WeakMap<System, Kernel>();
function reader(sys: System, s: State): Kernel {
  let k = readers.get(sys);
  if (k === undefined) {
    k = new Kernel(new Tx(sys.g), new Observation());
    readers.set(sys, k);
  }
  k.tx.begin(s);
  return k;
}

/** What is still held for DMA in quiescent state `s`, in words, or null. */
export function leak(sys: System, s: State): string | null {
  const fr = s[FRAMES];
  const init = sys.init;
  let bounceLeak: string | null = null; // reported after Policy.held, which names the policy's own bookkeeping
  for (let f = 0; f < sys.cfg.frames; f++) {
    const pins = pinCount(fr, f);
    if (pins > 0) return `frame ${f} is still pinned (${pins} pin${pins > 1 ? "s" : ""})`;
    const role = frameRole(fr, f);
    if (role === ROLE_IOMMU_PT) {
      const dom = frameAux(fr, f) & 0xff;
      if ((frameFlags(fr, f) & F_DETACHED) !== 0) return `frame ${f}, an IOMMU page table of device ${dom}'s domain, was unlinked but never freed`;
      const atBoot = frameRole(init[FRAMES], f) === ROLE_IOMMU_PT;
      if (!atBoot && sys.cfg.reclaimEmptyTables && ptCount(s[PTMEM], f) === 0) return `frame ${f}, an empty IOMMU page table of device ${dom}'s domain, was never freed`;
    }
    if ((role === ROLE_MORSEL_PT || role === ROLE_MORSEL_VIEW) && frameRole(init[FRAMES], f) !== role) return `frame ${f} still holds a morsel ${role === ROLE_MORSEL_PT ? "page table" : "view table"}`;
    if (role === ROLE_BOUNCE) {
      // Kernel.setSegBounce marks a slot's frames with the mapping (aux = m + 1); releaseBounceSlot clears it
      // (Linux swiotlb_release_slots). No mapping is live, so a marked frame is a slot never released.
      const owner = frameAux(fr, f);
      if (owner !== 0) bounceLeak ??= `frame ${f}, mapping #${owner - 1}'s bounce slot, was never released`;
      // A bounce pool taken after boot (Kernel.allocBouncePool in a handler) and never given back (freeBouncePool).
      else if (frameRole(init[FRAMES], f) !== ROLE_BOUNCE) bounceLeak ??= `frame ${f}, a bounce-pool frame taken after boot, was never given back`;
    }
  }
  const g = sys.g;
  for (let dev = 0; dev < sys.cfg.devices; dev++) {
    for (let i = 0; i < g.winPages; i++) {
      const v = g.winBase + i;
      if (!iovaAllocated(sys, s[IOVA], dev, v) || iovaAllocated(sys, init[IOVA], dev, v)) continue;
      walkMemory(sys, s[PTMEM], s[DTE], dev, v, walk);
      if (walk.frame >= 0 && devicePoolFrame(s, dev, walk.frame)) continue; // a permanent pool mapping
      return `IOVA page ${hex(v)} of device ${dev} is still allocated`;
    }
  }
  const held = sys.policy.held === undefined ? null : sys.policy.held(reader(sys, s));
  return held ?? bounceLeak;
}

export const noLeak: Property = {
  name: "no-leak",
  summary: "once no mapping is live and nothing is in progress or queued, every pin, IOVA, table frame, bounce slot and pool page taken for DMA is back",
  // The check's own precondition: a transition into a quiescent state that ended DMA activity or changed what it accounts.
  antecedent: {
    summary: "DMA activity drained: a transition into a state with nothing mapped, in progress or queued",
    afterMap: true,
    cases: ["drained"],
    count(sys, pre, _e, _obs, post, counts, at): void {
      if (!quiescent(sys, post)) return;
      if (quiescent(sys, pre) && pre[FRAMES] === post[FRAMES] && pre[IOVA] === post[IOVA] && pre[PTMEM] === post[PTMEM] && pre[POL] === post[POL]) return;
      counts[at]++;
    },
  },
  check(sys, pre, _e, _obs, post): Violation | null {
    if (!quiescent(sys, post)) return null;
    if (quiescent(sys, pre) && pre[FRAMES] === post[FRAMES] && pre[IOVA] === post[IOVA] && pre[PTMEM] === post[PTMEM] && pre[POL] === post[POL]) return null;
    const what = leak(sys, post);
    if (what === null) return null;
    return { property: "no-leak", message: `nothing is mapped, in progress or queued, yet ${what}` };
  },
};

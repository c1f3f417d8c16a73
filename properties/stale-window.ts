/**
 * stale-window: a translation used after its unmap returned is at most the
 * policy's declared bound old.
 *
 * Formally: for every transition whose observation contains a segment of a
 * device access by device d translated from a cache (an IOTLB hit, a walk
 * from a cached directory entry, an ATC hit) at IOVA page v reaching frame
 * f, where the translation is stale (no live mapping of d covering v holds
 * f, and the tables in memory do not map v to f with that permission, i.e.
 * the unmap that removed it has returned), at least one of:
 *   a. an invalidation covering (d, v) is queued in the command buffer (the
 *      policy has sent it; the hardware's latency is not the policy's);
 *   b. the policy declares a bound (Policy.staleBound) of B ms and U unmaps,
 *      and a deferred flush is due within it: the policy timer is armed with
 *      at most B ms left, or has expired and waits for the timer context, or
 *      timer work is in progress; and no CPU's deferred-unmap queue holds
 *      more than U entries.
 * Why this bounds the age: the model's only clock is the timer, and
 * Kernel.armTimer never postpones an armed timer. An entry goes stale when
 * its unmap returns; if the flush is then due within B ms, the entry is at
 * most B ms old while the timer runs down, and once the timer fires the
 * flush's invalidation is queued (a). A policy without a bound must have
 * queued the invalidation before the unmap returned.
 *
 * Source: Linux drivers/iommu/dma-iommu.c: queue_iova arms fq_timer with
 * IOVA_DEFAULT_FQ_TIMEOUT (10 ms) when it is not pending, and flushes when
 * the per-CPU ring of IOVA_DEFAULT_FQ_SIZE (256) entries is full; Kconfig
 * IOMMU_DEFAULT_DMA_LAZY ("devices may be able to access memory for some
 * time after it has been unmapped").
 */
import { type Property, type Violation } from "./property.ts";
import { CALLS, CALL_W, CMDQ, DTE, FQ, HDR, H_TIMER, MAPS, PTMEM } from "../model/geometry.ts";
import { mDev } from "../model/dma-mapping.ts";
import { SRC_ATC, SRC_IOTLB, SRC_PDEC_WALK } from "../model/observation.ts";
import { walkMemory, WalkResult } from "../model/iommu-page-table.ts";
import { invalidationQueued as queuedInCommandBuffer } from "../model/command-queue.ts";
import { type StaleBound } from "../model/policy.ts";
import { type State } from "../model/state.ts";
import { type System } from "../model/system.ts";
import { coversPage, mappingHoldsFrame } from "./mapping-frames.ts";
import { fqRingBase, fqTimer } from "../model/flush-queue.ts";
import { hex, sourceName } from "./describe.ts";

const walk = new WalkResult();

/** The bound `sys`'s policy declares, or null. */
export function staleBound(sys: System): StaleBound | null {
  const b = sys.policy.staleBound;
  return b === undefined ? null : typeof b === "function" ? b(sys.cfg) : b;
}

/** Whether an invalidation of (dev, v) waits in the command buffer: the IOMMU's, or for an ATC hit the device's. */
export function invalidationQueued(s: State, dev: number, v: number, atc: boolean, vtd = false): boolean {
  return queuedInCommandBuffer(vtd, s[CMDQ], dev, v, atc);
}

/** Whether a deferred flush of `dom` is due within the bound (see the statement, b): the policy timer's or the domain's flush timer. */
function flushDue(sys: System, s: State, b: StaleBound, dom: number): boolean {
  const due = (t: number) => t === -1 || (t > 0 && t <= b.ms);
  const busy = s[CALLS][sys.g.timerCtx * CALL_W] !== 0;
  if (!(due(s[HDR][H_TIMER]) || due(fqTimer(s[FQ], sys.g, dom)) || busy)) return false;
  // Deferred unmaps waiting on each ring (flush-queue.ts layout: the count first).
  for (let d = 0; d < sys.cfg.devices; d++) for (let cpu = 0; cpu < sys.cfg.cpus; cpu++) if (s[FQ][fqRingBase(sys.g, d, cpu)] > b.unmaps) return false;
  return true;
}

/** Whether a mapping of `dev` covers IOVA page `v` and holds frame `f`: the cached translation is that mapping's own, not stale. */
function heldByLiveMapping(sys: System, post: State, dev: number, v: number, f: number): boolean {
  const mp = post[MAPS];
  for (let m = 0; m < sys.cfg.maxMappings; m++) if (mDev(mp, m) === dev && coversPage(mp, m, v) && mappingHoldsFrame(post, m, f)) return true;
  return false;
}

export const staleWindow: Property = {
  name: "stale-window",
  summary: "a translation used after its unmap returned is at most the policy's declared bound old",
  // What the check examines: every access through a cache; the cases say whether its mapping was still there.
  antecedent: {
    summary: "a device access through a cached translation",
    afterMap: true,
    cases: ["cached, its mapping live", "cached, no live mapping holds it (stale)"],
    count(sys, _pre, _e, obs, post, counts, at): void {
      if (obs.dev < 0) return;
      for (let i = 0; i < obs.nseg; i++) {
        const src = obs.segSource[i];
        if (src !== SRC_IOTLB && src !== SRC_PDEC_WALK && src !== SRC_ATC) continue;
        const v = obs.segIovaPfn[i];
        const f = obs.segFrame[i];
        counts[at + (heldByLiveMapping(sys, post, obs.dev, v, f) ? 0 : 1)]++;
      }
    },
  },
  check(sys, _pre, _e, obs, post): Violation | null {
    if (obs.dev < 0) return null;
    for (let i = 0; i < obs.nseg; i++) {
      const src = obs.segSource[i];
      if (src !== SRC_IOTLB && src !== SRC_PDEC_WALK && src !== SRC_ATC) continue;
      const v = obs.segIovaPfn[i];
      const f = obs.segFrame[i];
      if (heldByLiveMapping(sys, post, obs.dev, v, f)) continue;
      walkMemory(sys, post[PTMEM], post[DTE], obs.dev, v, walk);
      if (walk.frame === f && (obs.write ? walk.iw : walk.ir)) continue; // the tables agree: not stale
      if (invalidationQueued(post, obs.dev, v, src === SRC_ATC, sys.g.vtd)) continue;
      const b = staleBound(sys);
      if (b !== null && flushDue(sys, post, b, obs.dev)) continue;
      const t = fqTimer(post[FQ], sys.g, obs.dev) || post[HDR][H_TIMER];
      const why = b === null
        ? "the policy declares no stale window, and no invalidation of it is queued"
        : `no invalidation of it is queued and no flush is due within the declared ${b.ms} ms (${t === 0 ? "no timer is armed" : `the timer has ${t} ms left`})`;
      return {
        property: "stale-window", dev: obs.dev, frame: f, iovaPfn: v,
        message: `device ${obs.dev} ${obs.write ? "wrote" : "read"} frame ${f} through a stale ${sourceName(src, false)} for IOVA ` +
          `${hex(v * 4096 + obs.segOffset[i])} after its unmap returned; ${why}: nothing bounds how long it stays usable`,
      };
    }
    return null;
  },
};

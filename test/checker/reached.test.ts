/**
 * The interesting states are reached: "holds" verdicts are not vacuous. Each
 * witness is searched for with the same generator the checker uses, as a
 * property that "fails" when the witness state occurs.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES, MAPS, OBJECTS, PDEC } from "../../model/geometry.ts";
import { Observation, SRC_IOTLB, SRC_PDEC_WALK } from "../../model/observation.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Policy } from "../../model/policy.ts";
import { type State } from "../../model/state.ts";
import { makeSystem, Stepper, type System } from "../../model/system.ts";
import { eventsArbitrary } from "../../checker/arbitraries.ts";
import { MS_FREE, MS_UNMAPPING, mDev, mIova, mPages, mStatus } from "../../model/dma-mapping.ts";
import { frameRole, ROLE_FREE, ROLE_IOMMU_PT } from "../../model/physical-memory.ts";
import { objCount, objFrame, objOwner, OWNER_KERNEL, OWNER_USER } from "../../model/objects.ts";
import { pdecFrame } from "../../model/iotlb.ts";

type Witness = (sys: System, pre: State, obs: Observation, post: State) => boolean;

/** Searches random event sequences for a step where `w` holds; returns the events up to it, or null. */
function search(policy: Policy, w: Witness, runs = 20000, seed = 7): Event[] | null {
  const sys = makeSystem(DEFAULT_CONFIG, policy);
  const obs = new Observation();
  const st = new Stepper(sys, obs);
  const found = fc.check(
    fc.property(eventsArbitrary(DEFAULT_CONFIG, 24), (events) => {
      let s = sys.init;
      for (const e of events) {
        const pre = s;
        s = st.step(s, e);
        if (w(sys, pre, obs, s)) return false;
      }
      return true;
    }),
    { seed, numRuns: runs, endOnFailure: true },
  );
  return found.failed ? found.counterexample![0] : null;
}

/** Mapping covering IOVA page v of dev, by status, or -1 when none is live. */
function coveringStatus(sys: System, s: State, dev: number, v: number): number {
  const mp = s[MAPS];
  for (let m = 0; m < sys.cfg.maxMappings; m++) {
    if (mStatus(mp, m) === MS_FREE || mDev(mp, m) !== dev) continue;
    if (v >= mIova(mp, m) && v < mIova(mp, m) + mPages(mp, m)) return mStatus(mp, m);
  }
  return -1;
}

/**
 * A cached translation used after the unmap returned, landing on a frame that
 * was freed earlier in the run and now holds an object of the kernel or of the
 * process: the page was reused inside the window.
 */
function reuseInsideWindow(): Witness {
  let freed = new Set<number>();
  let last: State | null = null;
  return (sys, pre, obs, post) => {
    if (pre === sys.init || last !== pre) freed = new Set();
    last = post;
    for (let f = 0; f < sys.cfg.frames; f++) {
      if (frameRole(post[FRAMES], f) === ROLE_FREE && frameRole(pre[FRAMES], f) !== ROLE_FREE) freed.add(f);
    }
    for (let i = 0; i < obs.nseg; i++) {
      if (obs.segSource[i] !== SRC_IOTLB) continue;
      if (coveringStatus(sys, post, obs.dev, obs.segIovaPfn[i]) !== -1) continue;
      const f = obs.segFrame[i];
      if (!freed.has(f) || frameRole(post[FRAMES], f) === ROLE_FREE) continue;
      const ob = post[OBJECTS];
      for (let j = 0; j < objCount(ob); j++) {
        if (objFrame(ob, j) === f && (objOwner(ob, j) === OWNER_KERNEL || objOwner(ob, j) === OWNER_USER)) return true;
      }
    }
    return false;
  };
}

/** A device access through a cached translation while the covering unmap is in progress. */
const accessDuringUnmap: Witness = (sys, _pre, obs, post) => {
  for (let i = 0; i < obs.nseg; i++) {
    const src = obs.segSource[i];
    if ((src === SRC_IOTLB || src === SRC_PDEC_WALK) && coveringStatus(sys, post, obs.dev, obs.segIovaPfn[i]) === MS_UNMAPPING) return true;
  }
  return false;
};

/** A page-table frame freed in a step after the directory cache had pointed at it (earlier in the run). */
function tableFreedAfterCaching(): Witness {
  let cached = new Set<number>();
  let last: State | null = null;
  return (sys, pre, _obs, post) => {
    if (pre === sys.init || last !== pre) cached = new Set();
    last = post;
    for (const e of pre[PDEC]) if (e !== 0) cached.add(pdecFrame(e));
    for (const f of cached) {
      if (frameRole(pre[FRAMES], f) === ROLE_IOMMU_PT && frameRole(post[FRAMES], f) === ROLE_FREE) return true;
    }
    return false;
  };
}

describe("interesting states are reached", () => {
  it("a lazy run reuses a page inside the window: a stale IOTLB entry reaches a page the kernel or a process now owns", () => {
    // Reuse needs five events in order (map, access, unmap+free, a kernel or
    // user allocation, access); since IOVAs are allocated top-down the search
    // finds it in 8 of seeds 1..12 within 50,000 runs, and with seed 9 after a few hundred.
    const events = search(lazy, reuseInsideWindow(), 50000, 9);
    expect(events).not.toBeNull();
    expect(events!.some((e) => e.t === "unmap")).toBe(true);
  });

  it("strict never reaches that state (no stale translation survives an unmap)", () => {
    expect(search(strict, reuseInsideWindow(), 5000)).toBeNull();
  });

  it("strict: devices use cached translations while an unmap is in progress (the grace window iotlb-coherence allows)", () => {
    expect(search(strict, accessDuringUnmap)).not.toBeNull();
  });

  for (const policy of [strict, lazy]) {
    it(`${policy.name}: page-table frames the directory cache pointed at are reclaimed (pt-page-safety is not vacuous)`, () => {
      expect(search(policy, tableFreedAfterCaching())).not.toBeNull();
    });
  }
});

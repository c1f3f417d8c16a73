/**
 * stale-window: lazy's stale translations are used only while a flush is due
 * within its declared bound (IOVA_DEFAULT_FQ_TIMEOUT); a lazy that never arms
 * its timer, or arms it for longer than it declares, is caught; the
 * antecedent (a cached translation used after its unmap returned) is reached.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { lazy, lazyUnmap } from "../../model/policies/lazy.ts";
import { strictWaitBeforeInvalidate } from "../../model/policies/broken.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation, SRC_ATC, SRC_IOTLB, SRC_PDEC_WALK, SRC_WALK } from "../../model/observation.ts";
import { passthrough } from "../../model/policies/passthrough.ts";
import { shadow } from "../../model/policies/shadow.ts";
import { MAPS } from "../../model/geometry.ts";
import { mSegFrame } from "../../model/dma-mapping.ts";
import { invalidationQueued, staleBound } from "../../properties/stale-window.ts";
import { Runner } from "../model/helpers.ts";
import { antecedentCounts } from "./helpers.ts";
import { findProperty } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { traceEvents } from "../../checker/trace.ts";

const stale = findProperty("stale-window")!;
const coherence = findProperty("iotlb-coherence")!;

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "to-device" };
const DMA: Event = { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };
const UNMAP: Event = { t: "unmap", cpu: 0, k: 0, free: true };
/** lazy without a declared bound: its stale accesses are violations until the flush's invalidation is queued. */
const unbounded: Policy = { ...lazy, name: "test-lazy-no-bound", staleBound: undefined };

/** Map, access, unmap; then the step of an access after the unmap returned. */
function accessAfterUnmap(r: Runner): ReturnType<Runner["step"]> {
  r.steps([MAP, DMA, UNMAP]);
  return r.step(DMA);
}

describe("stale-window", () => {
  it("lazy: the antecedent is reached (a stale IOTLB hit after the unmap returned) and the bound holds", () => {
    const sys = makeSystem(DEFAULT_CONFIG, lazy);
    const events = [MAP, DMA, UNMAP, { t: "tick", ms: 9 } as Event, DMA];
    // The last access is stale: iotlb-coherence fails on it ...
    expect(new Executor(sys, [coherence]).run(events).violation?.step).toBe(4);
    // ... through an IOTLB entry ...
    const obs = new Observation();
    const st = new Stepper(sys, obs);
    let s = sys.init;
    for (const e of events) s = st.step(s, e);
    expect(obs.segSource[0]).toBe(SRC_IOTLB);
    // ... while the flush is due within 10 ms: stale-window holds.
    expect(new Executor(sys, [stale]).run(events).violation).toBeNull();
  });

  it("lazy: once the timer fires, the flush's invalidation is queued, and then executed", () => {
    const sys = makeSystem(DEFAULT_CONFIG, lazy);
    const events: Event[] = [MAP, DMA, UNMAP, { t: "tick", ms: 10 }, DMA, { t: "iommu" }, DMA];
    expect(new Executor(sys, [stale]).run(events).violation).toBeNull();
  });

  it("a lazy that arms its timer for longer than its declared bound is caught", () => {
    const slow: Policy = {
      ...lazy,
      name: "test-lazy-slow-timer",
      unmap(k, m, phase) {
        const r = lazyUnmap(k, m, phase, false);
        k.armTimer(k.fqTimeoutMs * 10);
        return r;
      },
    };
    const sys = makeSystem(DEFAULT_CONFIG, slow);
    const r = new Executor(sys, [stale]).run([MAP, DMA, UNMAP, DMA]);
    expect(r.violation?.step).toBe(3);
    expect(traceEvents(sys, [stale], [MAP, DMA, UNMAP, DMA]).explanation).toMatch(/no flush is due within the declared 10 ms \(the timer has 100 ms left\)/);
  });

  it("a policy without a bound passes while its invalidation is queued (the hardware's latency is not the policy's)", () => {
    // strict-wait-before-invalidate: the unmap returned, the invalidation still waits in the command buffer.
    const sys = makeSystem(DEFAULT_CONFIG, strictWaitBeforeInvalidate);
    const events: Event[] = [MAP, DMA, { ...UNMAP, free: false }, { t: "iommu" }, { t: "resume", cpu: 0 }, DMA];
    expect(new Executor(sys, [coherence]).run(events).violation?.step).toBe(5);
    expect(new Executor(sys, [stale]).run(events).violation).toBeNull();
  });
});

describe("stale-window: what it counts and which accesses it judges", () => {
  const at = (r: Runner, s: ReturnType<Runner["step"]>) => stale.check(r.sys, s.pre, s.event, r.obs, s.post);

  it("the antecedent: an IOTLB hit with its mapping live, then one after the unmap returned; a walk is not counted", () => {
    // Per step: [guard, cached with its mapping live, cached and stale, guard].
    const r = Runner.of(lazy);
    const c = antecedentCounts(stale, r, [MAP, DMA, DMA, UNMAP, DMA, { t: "tick", ms: 10 }, { t: "iommu" }, DMA]);
    expect(c.map((x) => x.join(""))).toEqual(["0000", "0000", "0100", "0000", "0010", "0000", "0000", "0000"]);
  });

  it("a lazy without a declared bound: the stale access is a violation, naming the IOVA with its offset", () => {
    const r = Runner.of(unbounded);
    r.steps([MAP, DMA, UNMAP]);
    const v = at(r, r.step({ ...DMA, offset: 8 }));
    expect(v?.message).toMatch(/^device 0 read frame \d+ through a stale IOTLB entry for IOVA 0x207008 after its unmap returned; the policy declares no stale window, and no invalidation of it is queued/);
    expect([v?.dev, v?.iovaPfn]).toEqual([0, r.sys.g.winBase + 15]);
  });

  it("lazy: right after the unmap the timer has the whole bound left (10 of 10 ms): the flush is due within it", () => {
    const r = Runner.of(lazy);
    const s = accessAfterUnmap(r);
    expect(s.segSource).toEqual([SRC_IOTLB]);
    expect(at(r, s)).toBeNull();
  });

  it("a bound of one deferred unmap: two waiting on the ring break it, one does not", () => {
    const one: Policy = { ...lazy, name: "test-lazy-one-unmap", staleBound: { ms: 10, unmaps: 1 } };
    const r = Runner.of(one);
    expect(staleBound(r.sys)).toEqual({ ms: 10, unmaps: 1 }); // a bound given as a value, not a function
    r.steps([MAP, MAP, DMA, UNMAP]);
    expect(at(r, r.step(DMA))).toBeNull();
    r.step({ ...UNMAP, k: 0 });
    const v = at(r, r.step(DMA));
    expect(v?.message).toMatch(/no flush is due within the declared 10 ms \(the timer has 10 ms left\)/);
  });

  it("another device's live mapping of the same frame does not make the stale translation its own", () => {
    // Two kmalloc buffers in one slab frame, one per device, both at the top IOVA page of their device.
    const km: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
    const r = Runner.of(unbounded);
    r.steps([km, { ...km, dev: 1 }, DMA]);
    const f = r.log[2].segFrame[0];
    r.step({ ...UNMAP, k: 0, free: false });
    const s = r.step(DMA);
    expect(s.segFrame).toEqual([f]);
    expect(mSegFrame(r.state[MAPS], 1, 0)).toBe(f);
    expect(at(r, s)?.message).toMatch(/the policy declares no stale window/);
  });

  it("an ATC hit after the unmap returned is judged too", () => {
    const r = Runner.of(unbounded, { ats: true });
    const ats: Event = { t: "ats-dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };
    r.steps([MAP, ats, UNMAP]);
    const s = r.step(ats);
    expect(s.segSource).toEqual([SRC_ATC]);
    expect(at(r, s)?.message).toMatch(/through a stale ATC entry|through a stale .*ATC/);
  });

  it("accesses through no cache (passthrough), or through a pool page the tables still map (shadow), are not stale", () => {
    const pt = Runner.of(passthrough);
    expect(at(pt, pt.step({ ...DMA, page: 20 }))).toBeNull();
    const sh = Runner.of(shadow);
    const s = accessAfterUnmap(sh);
    expect(s.segSource).toEqual([SRC_IOTLB]);
    expect(at(sh, s)).toBeNull();
  });

  it("only the segments the access performed are judged, not what an earlier access left in the observation", () => {
    const r = Runner.of(unbounded);
    const bad = accessAfterUnmap(r);
    expect(at(r, bad)).not.toBeNull();
    const s = r.step({ ...MAP, cpu: 1 });
    // The arrays past nseg (0 now) still hold the stale IOTLB segment of the access before.
    expect([s.nseg, r.obs.segSource[0]]).toEqual([0, SRC_IOTLB]);
    r.obs.dev = 0;
    expect(at(r, s)).toBeNull();
  });
});

describe("stale-window: a stale write, and the queued invalidation on AMD", () => {
  it("a lazy without a bound: a stale write is reported as one", () => {
    const r = Runner.of(unbounded);
    const map: Event = { ...MAP, dir: "bidirectional" };
    r.steps([map, DMA, UNMAP]);
    const s = r.step({ ...DMA, write: true });
    expect(s.segSource).toEqual([SRC_IOTLB]);
    expect(stale.check(r.sys, s.pre, s.event, r.obs, s.post)?.message).toMatch(/^device 0 wrote frame \d+ through a stale IOTLB entry/);
  });

  it("a stale walk from a cached directory entry is judged as a stale IOTLB hit is", () => {
    // The access above, as if its translation came from a walk that began at a cached directory entry
    // of a freed table (a policy that frees tables without invalidating the directory cache).
    const r = Runner.of(unbounded);
    const s = accessAfterUnmap(r);
    const judge = () => stale.check(r.sys, s.pre, s.event, r.obs, s.post);
    r.obs.segSource[0] = SRC_PDEC_WALK;
    expect(judge()?.message).toMatch(/^device 0 read frame \d+ through a stale page walk from a cached directory entry/);
    r.obs.segSource[0] = SRC_WALK; // a walk of the tables as they are now is never stale
    expect(judge()).toBeNull();
  });

  it("invalidationQueued reads the AMD command buffer unless told it is VT-d's", () => {
    // strict-wait-before-invalidate: after the unmap returned, the invalidation of page 0x207 still waits.
    const r = Runner.of(strictWaitBeforeInvalidate);
    r.steps([MAP, DMA, { ...UNMAP, free: false }, { t: "iommu" }, { t: "resume", cpu: 0 }]);
    const v = r.sys.g.winBase + 15;
    expect(invalidationQueued(r.state, 0, v, false)).toBe(true);
    expect(invalidationQueued(r.state, 0, v - 1, false)).toBe(false);
  });
});

describe("stale-window's antecedent: every cached source", () => {
  it("a walk from a cached directory entry and an ATC hit, their mappings live, count as cached and live", () => {
    // strict with ATS: #1's page (0x206) is walked from the directory entries #0's walk cached.
    const r = Runner.of(strict, { ats: true });
    const c = antecedentCounts(stale, r, [MAP, DMA, MAP, { ...DMA, page: 14 }, { t: "ats-dma", dev: 0, write: false, page: 15, offset: 0, len: 1 }, { t: "ats-dma", dev: 0, write: false, page: 15, offset: 0, len: 1 }]);
    expect(r.log.map((s) => s.segSource)).toEqual([[], [SRC_WALK], [], [SRC_PDEC_WALK], [SRC_ATC], [SRC_ATC]]);
    expect(c.map((x) => x.join(""))).toEqual(["0000", "0000", "0000", "0100", "0100", "0100"]);
  });
});

describe("stale-window's antecedent: performed segments only", () => {
  it("a record past nseg, left by an earlier access, is not counted", () => {
    const r = Runner.of(lazy);
    const c = antecedentCounts(stale, r, [MAP, DMA, UNMAP, DMA, MAP]);
    expect(c[3]).toEqual([0, 0, 1, 0]);
    // The map performs no access (nseg 0); its observation still holds the stale IOTLB segment of the read before.
    expect([r.obs.nseg, r.obs.segSource[0]]).toEqual([0, SRC_IOTLB]);
    r.obs.dev = 0;
    const s = r.log[4];
    const k = new Float64Array(4);
    stale.antecedent!.count(r.sys, s.pre, s.event, r.obs, s.post, k, 1);
    expect(Array.from(k)).toEqual([0, 0, 0, 0]);
  });
});

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
import { type Policy } from "../../model/policy.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation, SRC_IOTLB } from "../../model/observation.ts";
import { findProperty } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { traceEvents } from "../../checker/trace.ts";

const stale = findProperty("stale-window")!;
const coherence = findProperty("iotlb-coherence")!;

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "to-device" };
const DMA: Event = { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };
const UNMAP: Event = { t: "unmap", cpu: 0, k: 0, free: true };

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

// coiommu (model/policies/coiommu.ts): the DMA tracking table, pin on first
// use through one request to the host, unmap that only decrements, the LRU
// unpinner claiming pages with compare-exchange; and the two broken unpinners.

import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { CALLS, CALL_W, FRAMES, MAPS, POL } from "../../model/geometry.ts";
import { FAULT_NONE, Observation } from "../../model/observation.ts";
import { coiommu, DTTE_ACCESSED, DTTE_PINNED } from "../../model/policies/coiommu.ts";
import { coiommuUnpinBeforeInvalidate, coiommuUnpinNoCmpxchg } from "../../model/policies/broken.ts";
import { type Policy } from "../../model/policy.ts";
import { pinCount } from "../../model/pinning.ts";
import { frameRole, ROLE_FREE } from "../../model/physical-memory.ts";
import { MS_MAPPED, mSegFrame, mSegOffset, mSegs, mSegLen, mStatus, segPages } from "../../model/dma-mapping.ts";
import { type State } from "../../model/state.ts";
import { makeSystem, Stepper, type System } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { type Property } from "../../properties/property.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";
import { traceEvents } from "../../checker/trace.ts";

const MAP64: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "bidirectional" };

class Run {
  readonly obs = new Observation();
  readonly st: Stepper;
  s: State;
  exits = 0;
  constructor(readonly sys: System) {
    this.st = new Stepper(sys, this.obs);
    this.s = sys.init;
  }
  static of(p: Policy = coiommu): Run {
    return new Run(makeSystem(DEFAULT_CONFIG, p));
  }
  step(e: Event): this {
    this.s = this.st.step(this.s, e);
    this.exits += this.obs.counters[C.vmExits];
    return this;
  }
  dtt(f: number): number {
    return this.s[POL][f] >>> 0;
  }
  /** Frame of the first live mapping's buffer. */
  frame(k = 0): number {
    for (let m = 0, n = 0; m < this.sys.cfg.maxMappings; m++) {
      if (mStatus(this.s[MAPS], m) !== MS_MAPPED) continue;
      if (n++ === k) return mSegFrame(this.s[MAPS], m, 0);
    }
    return -1;
  }
  timerBusy(): boolean {
    return this.s[CALLS][this.sys.g.timerCtx * CALL_W] !== 0;
  }
  /** Runs the IOMMU and the timer context until it is idle. */
  settleTimer(): this {
    for (let i = 0; i < 50 && this.timerBusy(); i++) this.step({ t: "iommu" }).step({ t: "resume", cpu: this.sys.cfg.cpus });
    return this;
  }
}

describe("coiommu: the DMA tracking table", () => {
  it("first map: count 1, ACCESSED, one VM exit to pin, PINNED; a second buffer in the same page needs no exit", () => {
    const r = Run.of().step(MAP64);
    const f = r.frame();
    expect(r.dtt(f)).toBe((DTTE_PINNED | DTTE_ACCESSED | 1) >>> 0);
    expect(r.exits).toBe(1);
    expect(pinCount(r.s[FRAMES], f)).toBe(1);
    r.step(MAP64);
    expect(r.frame(1)).toBe(f); // the same kmalloc-64 slab page
    expect(r.dtt(f)).toBe((DTTE_PINNED | DTTE_ACCESSED | 2) >>> 0);
    expect(r.exits).toBe(1);
    expect(pinCount(r.s[FRAMES], f)).toBe(1);
  });

  it("steady state: once the page is pinned, map/unmap cycles make no VM exit, no invalidation, no pin", () => {
    const r = Run.of().step(MAP64);
    const f = r.frame();
    let cmds = 0, pins = 0;
    for (let i = 0; i < 20; i++) {
      r.step({ t: "unmap", cpu: 0, k: 0, free: false });
      cmds += r.obs.counters[C.iotlbInvCmds];
      r.step(MAP64);
      cmds += r.obs.counters[C.iotlbInvCmds];
      pins += r.obs.counters[C.pins];
    }
    expect(r.exits).toBe(1);
    expect([cmds, pins]).toEqual([0, 0]);
    expect(r.dtt(f) & 0xffff).toBe(1);
  });

  it("unmap only decrements; the host mapping stays and the device still reaches the page", () => {
    const r = Run.of().step(MAP64);
    const f = r.frame();
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    expect(r.dtt(f)).toBe((DTTE_PINNED | DTTE_ACCESSED) >>> 0);
    expect(r.obs.counters[C.iotlbInvCmds] + r.obs.counters[C.vmExits]).toBe(0);
    r.step({ t: "dma", dev: 0, write: false, page: f, offset: 0, len: 8 });
    expect(r.obs.fault).toBe(FAULT_NONE);
    expect(r.obs.segFrame[0]).toBe(f);
  });

  it("the LRU unpinner: a second chance for ACCESSED, then compare-exchange, unmap, invalidate, wait, unpin", () => {
    const r = Run.of().step(MAP64);
    const f = r.frame();
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    r.step({ t: "tick", ms: 1 }).settleTimer(); // pass 1: ACCESSED cleared
    expect(r.dtt(f)).toBe(DTTE_PINNED >>> 0);
    expect(pinCount(r.s[FRAMES], f)).toBe(1);
    r.step({ t: "tick", ms: 1 });
    expect(r.timerBusy()).toBe(true); // candidate found, claim pending
    r.settleTimer();
    expect(r.dtt(f)).toBe(0);
    expect(pinCount(r.s[FRAMES], f)).toBe(0);
    r.step({ t: "dma", dev: 0, write: false, page: f, offset: 0, len: 8 });
    expect(r.obs.fault).not.toBe(FAULT_NONE);
  });

  it("compare-exchange fails when the guest maps the page between the scan and the claim: it stays pinned and mapped", () => {
    const r = Run.of().step(MAP64);
    const f = r.frame();
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    r.step({ t: "tick", ms: 1 }).settleTimer();
    r.step({ t: "tick", ms: 1 });
    expect(r.timerBusy()).toBe(true);
    r.step(MAP64); // sees PINNED: no request to the host
    expect(r.exits).toBe(1);
    r.settleTimer();
    expect(r.dtt(f) & DTTE_PINNED).not.toBe(0);
    expect(pinCount(r.s[FRAMES], f)).toBe(1);
    r.step({ t: "dma", dev: 0, write: true, page: f, offset: 64, len: 8 });
    expect(r.obs.fault).toBe(FAULT_NONE);
  });
});

/**
 * Test-only check: a device access to a page of a live mapping (at the
 * guest-physical page coiommu gives it) never faults. The missing
 * compare-exchange breaks exactly this.
 */
const liveMappingWorks: Property = {
  name: "page-confinement", // a name from the union; the check is the test's own
  summary: "a live mapping's pages are reachable",
  check(sys, _pre, e, obs, post) {
    if (e.t !== "dma" || obs.fault === FAULT_NONE) return null;
    const mp = post[MAPS];
    for (let m = 0; m < sys.cfg.maxMappings; m++) {
      if (mStatus(mp, m) !== MS_MAPPED) continue;
      for (let i = 0; i < mSegs(mp, m); i++) {
        const first = mSegFrame(mp, m, i) + Math.floor(mSegOffset(mp, m, i) / 4096);
        for (let p = 0; p < segPages(mSegOffset(mp, m, i), mSegLen(mp, m, i)); p++) {
          if (sys.g.winBase + first + p === obs.faultIovaPfn) return { property: "page-confinement", message: `a DMA to live mapping #${m} faulted` };
        }
      }
    }
    return null;
  },
};

describe("coiommu's broken unpinners", () => {
  const search = (p: Policy, props: readonly Property[]) =>
    exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, p), props, alphabetEvents(DEFAULT_SCOPE), { depth: 60, maxStates: 500_000 });

  it("unpinning before the invalidation completes violates pin-safety: the device wrote a frame the host reclaimed (6 events)", () => {
    const prop = findProperty("pin-safety")!;
    const r = search(coiommuUnpinBeforeInvalidate, [prop]);
    const ev = r.outcomes[0].events!;
    const sys = makeSystem(DEFAULT_SCOPE.config, coiommuUnpinBeforeInvalidate);
    // The device touches the page (filling its IOTLB) before or after the unmap; two unpinner passes; the claim.
    expect([...ev.map((e) => e.t)].sort()).toEqual(["dma", "map", "resume", "tick", "tick", "unmap"]);
    expect(ev[0].t).toBe("map");
    expect(ev.slice(3).map((e) => e.t)).toEqual(["tick", "tick", "resume"]);
    expect(ev.some((e) => e.t === "unmap" && e.free)).toBe(true);
    // Right after the violation the device writes the page: it lands on the frame the host reclaimed (now free).
    const run = new Run(sys);
    for (const e of ev) run.step(e);
    const d = ev.find((e) => e.t === "dma")!;
    run.step({ ...d, write: true } as Event);
    expect(run.obs.fault).toBe(FAULT_NONE);
    const f = run.obs.segFrame[0];
    expect(frameRole(run.s[FRAMES], f)).toBe(ROLE_FREE);
    expect(traceEvents(sys, [prop], ev).explanation).toMatch(/its last pin was dropped and it went back to the page allocator, yet device 0 can still reach it through an IOTLB entry/);
    // The correct unpinner on the same events: no violation.
    expect(new Executor(makeSystem(DEFAULT_SCOPE.config, coiommu), [prop]).run(ev).violation).toBeNull();
  });

  it("coiommu itself holds pin-safety and pt-page-safety over the whole default scope", () => {
    const r = search(coiommu, [findProperty("pin-safety")!, findProperty("pt-page-safety")!]);
    expect(r.exhausted).toBe(true);
    expect(r.outcomes.every((o) => o.events === null)).toBe(true);
  });

  it("without compare-exchange: pin-safety still holds over the whole default scope (VFIO unmaps, syncs, then unpins, under its lock)", () => {
    const r = search(coiommuUnpinNoCmpxchg, [findProperty("pin-safety")!]);
    expect(r.exhausted).toBe(true);
    expect(r.outcomes[0].events).toBeNull();
  });

  it("without compare-exchange, the first symptom: a live mapping's DMA faults (7 events); never with compare-exchange", () => {
    const r = search(coiommuUnpinNoCmpxchg, [liveMappingWorks]);
    const ev = r.outcomes[0].events!;
    // map, unmap, pass 1 (second chance), pass 2 (candidate), the guest maps again (PINNED: no request), the claim, the DMA.
    expect(ev.map((e) => e.t)).toEqual(["map", "unmap", "tick", "tick", "map", "resume", "dma"]);
    expect(new Executor(makeSystem(DEFAULT_SCOPE.config, coiommu), [liveMappingWorks]).run(ev).violation).toBeNull();
    expect(search(coiommu, [liveMappingWorks]).outcomes[0].events).toBeNull();
  });
});

describe("coiommu gives no protection inside the guest", () => {
  it("the device reaches a guest kernel object after its unmap returned (page-confinement violated)", () => {
    const prop = findProperty("page-confinement")!;
    const events: Event[] = [
      { t: "kmalloc", size: 2048 }, // the guest kernel's object
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 2048, dir: "from-device" }, // the driver's buffer, same slab page
      { t: "unmap", cpu: 0, k: 0, free: true },
      { t: "dma", dev: 0, write: true, page: 0, offset: 0, len: 8 },
    ];
    const sys = makeSystem(DEFAULT_CONFIG, coiommu);
    const run = Run.of();
    for (const e of events.slice(0, 2)) run.step(e);
    const f = run.frame();
    events[3] = { t: "dma", dev: 0, write: true, page: f, offset: 0, len: 8 };
    const t = traceEvents(sys, [prop], events);
    expect(t.violation?.step).toBe(3);
    expect(t.explanation).toMatch(/holds nothing granted to device 0: it is a kmalloc-2048 slab holding a kmalloc-2048 object of the kernel/);
  });
});

describe("coiommu: a scatterlist must be contiguous in guest-physical memory", () => {
  // dma-direct (kernel/dma/direct.c dma_direct_map_sg) gives each sg entry its own DMA address, its
  // guest-physical one; the model's mapping has one IOVA range with the segments back to back. Two
  // kmalloc-64 objects in one slab frame are two segments on the same page, not back to back: such a
  // map fails rather than claim IOVA pages it does not map (the random engine found that "violating"
  // availability: an access inside the claimed range faulted).
  it("a map-sg of two objects in one frame fails; a single buffer maps at its guest-physical page", async () => {
    const { Runner } = await import("./helpers.ts");
    const { MS_FREE, mStatus, mIova, mSegFrame } = await import("../../model/dma-mapping.ts");
    const r = Runner.of(coiommu);
    r.step({ t: "map-sg", cpu: 0, dev: 0, sizes: [64, 64], dir: "to-device" });
    expect(r.log[0].notes.join("; ")).toMatch(/map failed \(DMA_MAPPING_ERROR\)/);
    expect(mStatus(r.state[MAPS], 0)).toBe(MS_FREE);
    const ok = Runner.of(coiommu);
    ok.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" });
    expect(mIova(ok.state[MAPS], 0)).toBe(ok.sys.g.winBase + mSegFrame(ok.state[MAPS], 0, 0));
  });
});

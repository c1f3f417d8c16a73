/**
 * Interruptible handlers (issue 11 part 4): a handler that writes one IOVA
 * page per step ends the step after each write (a preemption point, Linux
 * vfio_pin_map_dma's cond_resched), so a device access or an IOMMU walk can
 * fall between two page-table writes of a map, and an error path that
 * unwinds without invalidating is caught.
 */
import { describe, expect, it } from "vitest";
import { type Kernel } from "../../model/kernel.ts";
import { DONE, FAIL, type Policy } from "../../model/policy.ts";
import { makeSystem } from "../../model/system.ts";
import { vfioUndoNoInvalidate } from "../../model/policies/broken.ts";
import { vfioStepwise } from "../../model/policies/vfio-stepwise.ts";
import { findPolicy, findAnyPolicy } from "../../model/policies/index.ts";
import { findProperty } from "../../properties/index.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { traceEvents } from "../../checker/trace.ts";

/**
 * The default scope with its IOVA window moved up a page (511..514, so a
 * 2-page buffer at the lowest free IOVA straddles two leaf tables) and an
 * 8 KiB page buffer to map: with the kernel holding one slab frame, the
 * second leaf table finds no free frame and the map fails part-way.
 */
const SCOPE: Scope = {
  config: { ...DEFAULT_SCOPE.config, iovaBasePfn: 511 },
  alphabet: {
    ...DEFAULT_SCOPE.alphabet, kmallocSizes: [], mapRanges: [], pageSizes: [8192], directions: ["to-device"],
    dmaPages: [0, 1], dmaOffsets: [0], tickMs: [],
  },
};
const ALPHABET = alphabetEvents(SCOPE);
const SAFETY = ["page-confinement", "iotlb-coherence", "pin-safety", "pt-page-safety"].map((n) => findProperty(n)!);
const search = (policy: Policy, props = SAFETY) => exhaustiveCheck(makeSystem(SCOPE.config, policy), props, ALPHABET, { depth: 40, maxStates: 2_000_000 });

describe("a device access between two page-table writes of a map", () => {
  it("vfio-undo-no-invalidate: a failed map's undo without invalidation leaves the IOTLB reaching the freed buffer (5 events)", () => {
    const prop = findProperty("page-confinement")!;
    const r = search(vfioUndoNoInvalidate, [prop]);
    const events = r.outcomes[0].events!;
    expect(events.map((e) => e.t)).toEqual(["map", "dma", "kmalloc", "resume", "dma"]);
    const sys = makeSystem(SCOPE.config, vfioUndoNoInvalidate);
    const tr = traceEvents(sys, [prop], events);
    // The device's access (step 2) falls while the map is in progress, between its first and second page write.
    expect(tr.steps[0].notes.join("\n")).toMatch(/map blocked \(phase 17\)/);
    expect(tr.steps[3].notes.join("\n")).toMatch(/map failed/);
    expect(tr.explanation).toMatch(/read frame \d+ through an IOTLB entry for IOVA 0x1ff000; frame \d+ holds nothing granted to device 0: it is free/);
    // vfio-stepwise, which invalidates and waits before unpinning, is safe on the same events.
    const fine = new Executor(makeSystem(SCOPE.config, vfioStepwise), SAFETY).run(events);
    expect(fine.violation).toBeNull();
    // There the failed map's undo clears, invalidates and waits before the map fails.
    const undo = traceEvents(makeSystem(SCOPE.config, vfioStepwise), SAFETY, events).steps[3].notes.join("\n");
    expect(undo).toMatch(/IOVA pages 0x1ff\+2 cleared[^]*queued INVALIDATE_IOMMU_PAGES[^]*queued COMPLETION_WAIT[^]*map blocked \(phase 1\)/);
  });

  it("iotlb-coherence's explanation says the stale translation's mapping ended in a failed map, not an unmap", () => {
    const prop = findProperty("iotlb-coherence")!;
    const r = search(vfioUndoNoInvalidate, [prop]);
    const events = r.outcomes[0].events!;
    expect(events.map((e) => e.t)).toEqual(["map", "dma", "kmalloc", "resume", "dma"]);
    const tr = traceEvents(makeSystem(SCOPE.config, vfioUndoNoInvalidate), [prop], events);
    expect(tr.explanation).toMatch(/through a stale IOTLB entry for IOVA 0x1ff000; the map it was made for had already failed \(DMA_MAPPING_ERROR at step 4\)/);
    expect(tr.explanation).not.toMatch(/unmap had already returned/);
  });

  it("vfio-stepwise holds every safety property vfio claims on that scope, with maps failing part-way", () => {
    const r = search(vfioStepwise);
    expect(r.exhausted).toBe(true);
    for (const o of r.outcomes) expect(o.events, o.property.name).toBeNull();
  });

  it("the same undo bug in a map that writes all its pages in one step is harmless: no access falls between the writes", () => {
    const atomic: Policy = {
      ...vfioUndoNoInvalidate,
      name: "vfio-undo-no-invalidate-atomic",
      map(k: Kernel, m: number, phase: number): number {
        // Run every step of the stepwise map inside this one step (the same writes and the same undo).
        let p = phase;
        for (;;) {
          p = vfioUndoNoInvalidate.map(k, m, p);
          if (p === DONE || p === FAIL || p < 16) return p;
        }
      },
    };
    // Its maps do fail part-way (a kernel slab frame taken first): cleared, unpinned, failed, all in one step.
    const kmalloc = ALPHABET.find((e) => e.t === "kmalloc")!;
    const map = ALPHABET.find((e) => e.t === "map")!;
    const failed = traceEvents(makeSystem(SCOPE.config, atomic), SAFETY, [kmalloc, map]).steps[1].notes.join("\n");
    expect(failed).toMatch(/IOVA pages 0x1ff\+2 cleared[^]*map failed/);
    const r = search(atomic);
    expect(r.exhausted).toBe(true);
    for (const o of r.outcomes) expect(o.events, o.property.name).toBeNull();
  });

  it("vfio-stepwise's unmap clears one page per step: a device access between the two clears still reaches the buffer", () => {
    const map = ALPHABET.find((e) => e.t === "map")!;
    const unmap = ALPHABET.find((e) => e.t === "unmap" && e.free)!;
    const read1 = ALPHABET.find((e) => e.t === "dma" && e.page === 1 && !e.write)!;
    const events = [map, { t: "resume", cpu: 0 } as const, unmap, read1];
    const tr = traceEvents(makeSystem(SCOPE.config, vfioStepwise), SAFETY, events);
    expect(tr.steps[2].notes.join("\n")).toMatch(/IOVA pages 0x1ff\+1 cleared[^]*unmap blocked \(phase 17\)/);
    expect(tr.steps[3].notes.join("\n")).not.toMatch(/fault/i);
    expect(tr.violation).toBeNull();
  });

  it("is no built-in row; --policy finds both by name", () => {
    expect(findPolicy("vfio-stepwise")).toBeUndefined();
    expect(findAnyPolicy("vfio-stepwise")).toBe(vfioStepwise);
    expect(findAnyPolicy("vfio-undo-no-invalidate")).toBe(vfioUndoNoInvalidate);
  });
});

/**
 * no-leak: quiescent states after DMA are reached (the antecedent), and in
 * them every built-in that claims no-leak has given everything back; a
 * policy that keeps a bounce slot marked in use is caught through
 * Policy.held.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, withIommu } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { findAnyPolicy, POLICIES } from "../../model/policies/index.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { DONE, FAIL, type Policy } from "../../model/policy.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";
import { findProperty } from "../../properties/index.ts";
import { leak, quiescent } from "../../properties/no-leak.ts";
import { Executor } from "../../checker/execute.ts";

const noLeak = findProperty("no-leak")!;

/** A map and unmap driven to the end: strict-like unmaps need the IOMMU to run the invalidation and the wait, lazy a timer and a flush. */
const ROUND: Event[] = [
  { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 100, dir: "to-device" },
  { t: "dma", dev: 0, write: false, page: 0, offset: 0, len: 1 },
  { t: "unmap", cpu: 0, k: 0, free: true },
  { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 },
  { t: "tick", ms: 10 }, { t: "iommu" }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 2 },
];

describe("no-leak", () => {
  for (const name of ["strict", "lazy", "bounce", "shadow", "damn", "fns", "vfio", "viommu"]) {
    it(`${name}: a full map/unmap round reaches a quiescent state after a mapping existed, and nothing is held`, () => {
      const policy = POLICIES.find((p) => p.name === name)!;
      const sys = makeSystem(DEFAULT_CONFIG, policy);
      const st = new Stepper(sys, new Observation());
      let s = sys.init;
      let mapped = false;
      for (const e of ROUND) {
        s = st.step(s, e);
        mapped ||= !quiescent(sys, s);
      }
      expect(mapped).toBe(true);
      expect(quiescent(sys, s)).toBe(true);
      expect(leak(sys, s)).toBeNull();
      expect(new Executor(sys, [noLeak]).run(ROUND).violation).toBeNull();
    });
  }

  it("a bounce that never releases its slot is caught through Policy.held", () => {
    const keepSlot: Policy = {
      ...bounce,
      name: "test-bounce-keep-slot",
      unmap(k, m, phase) {
        if (phase === 0) return bounce.unmap(k, m, phase);
        if (!k.completionDone()) return phase;
        k.freeDetachedTables();
        k.freeIova(k.dev(m), k.iova(m), k.pages(m));
        return DONE;
      },
    };
    const r = new Executor(makeSystem(DEFAULT_CONFIG, keepSlot), [noLeak]).run(ROUND);
    expect(r.violation?.step).toBe(5);
    expect(r.violation?.message).toMatch(/bounce slot frame \d+ is still marked in use/);
    // Without Policy.held, the slot's frames still name the mapping (Kernel.setSegBounce) and no-leak sees it.
    const noHeld: Policy = { ...keepSlot, name: "test-bounce-keep-slot-no-held", held: undefined };
    const r2 = new Executor(makeSystem(DEFAULT_CONFIG, noHeld), [noLeak]).run(ROUND);
    expect(r2.violation?.step).toBe(5);
    expect(r2.violation?.message).toMatch(/frame \d+, mapping #0's bounce slot, was never released/);
  });

  it("a bounce pool block a handler took and never gave back is a leak", () => {
    const poolPerMap: Policy = {
      ...strict,
      name: "test-bounce-pool-per-map",
      map(k, m, phase) {
        if (phase === 0 && k.allocBouncePool(0) < 0) return FAIL; // the leak: never freeBouncePool
        return strict.map(k, m, phase);
      },
    };
    const r = new Executor(makeSystem(DEFAULT_CONFIG, poolPerMap), [noLeak]).run(ROUND);
    expect(r.violation?.step).toBe(5);
    expect(r.violation?.message).toMatch(/a bounce-pool frame taken after boot, was never given back/);
  });

  it("a map that fails for lack of a table frame gives back the tables it linked (AMD and VT-d; strict, vfio-stepwise)", () => {
    // 8 or 9 frames: the map of a 2-page buffer links its upper table(s), then finds no frame for the next
    // one. The undo (clear, invalidate, wait) unlinks the empty tables on the failing page's path, and
    // they are freed after the wait: nothing is left linked and empty (a leak with reclaimEmptyTables).
    const MAP2: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" };
    const drain: Event[] = [{ t: "iommu" }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }];
    for (const policy of [strict, findAnyPolicy("vfio-stepwise")!]) {
      for (const iommu of ["amd-v1", "vtd"] as const) {
        for (const [frames, iommuLevels] of [[8, 3], [8, 4], [9, 4]]) {
          const cfg = withIommu({ ...DEFAULT_CONFIG, frames, iommuLevels, cpus: 1, devices: 1 }, iommu);
          const sys = makeSystem(cfg, policy);
          const obs = new Observation();
          obs.detail = true;
          const st = new Stepper(sys, obs);
          let s = sys.init;
          let failed = false;
          for (const e of [MAP2, ...drain, { t: "resume", cpu: 0 } as Event, ...drain]) {
            s = st.step(s, e);
            failed ||= obs.notes.some((n) => /map failed/.test(n));
          }
          const where = `${policy.name} ${iommu} frames ${frames} levels ${iommuLevels}`;
          expect(failed, where).toBe(true);
          expect(quiescent(sys, s), where).toBe(true);
          expect(leak(sys, s), where).toBeNull();
        }
      }
    }
  });
});

/**
 * availability: accesses inside live mappings are reached and do not fault
 * under strict and lazy; an unmap that clears its neighbour's page makes one
 * fault; accesses outside the granted bytes or direction may fault.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { strict } from "../../model/policies/strict.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { strictUnmapOffByOne } from "../../model/policies/broken.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { FAULT_ACS_TB, FAULT_ATS_DISABLED, FAULT_NONE, Observation } from "../../model/observation.ts";
import { findProperty } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { copyState, Runner } from "../model/helpers.ts";
import { DTE, DTE_W } from "../../model/geometry.ts";
import { DTE_D1HI_IOTLB } from "../../model/formats/amd-dte.ts";
import { type State } from "../../model/state.ts";
import { antecedentCounts } from "./helpers.ts";

const availability = findProperty("availability")!;

const TWO: Event[] = [
  { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "to-device" },
  { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "to-device" },
  // IOVAs are allocated top-down: #0 has page 519, #1 page 518 just below it.
  { t: "unmap", cpu: 0, k: 1, free: true },
  { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 },
];

describe("availability", () => {
  for (const policy of [strict, lazy]) {
    it(`${policy.name}: the first mapping's page is read without a fault while the second is unmapped (antecedent reached)`, () => {
      const sys = makeSystem(DEFAULT_CONFIG, policy);
      const obs = new Observation();
      const st = new Stepper(sys, obs);
      let s = sys.init;
      for (const e of TWO) s = st.step(s, e);
      expect(obs.dev).toBe(0);
      expect(obs.fault).toBe(FAULT_NONE);
      expect(new Executor(sys, [availability]).run(TWO).violation).toBeNull();
    });
  }

  it("strict-unmap-off-by-one clears the neighbour's page: its DMA faults", () => {
    const r = new Executor(makeSystem(DEFAULT_CONFIG, strictUnmapOffByOne), [availability]).run(TWO);
    expect(r.violation?.step).toBe(3);
    expect(r.violation?.message).toMatch(/inside mapping #0 .*faulted: IO page fault \(not present\) at IOVA page 0x207/);
  });

  it("a fault outside the granted direction or bytes is not a violation", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strict);
    const write: Event[] = [TWO[0], { t: "dma", dev: 0, write: true, page: 15, offset: 0, len: 1 }];
    const beyond: Event[] = [TWO[0], { t: "dma", dev: 0, write: false, page: 15, offset: 4095, len: 2 }];
    for (const events of [write, beyond]) {
      const obs = new Observation();
      const st = new Stepper(sys, obs);
      let s = sys.init;
      for (const e of events) s = st.step(s, e);
      expect(obs.fault).not.toBe(FAULT_NONE);
      expect(new Executor(sys, [availability]).run(events).violation).toBeNull();
    }
  });
});

describe("availability: what it judges and what its antecedent counts", () => {
  // Per step: [guard, completed, faulted, guard].
  const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "to-device" };
  const READ: Event = { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };

  it("strict: an access inside the live mapping counts as completed; outside its bytes, direction, device or life it does not", () => {
    const r = Runner.of(strict);
    const c = antecedentCounts(availability, r, [
      MAP, READ, { ...READ, offset: 4095 }, { ...READ, offset: 4095, len: 2 }, { ...READ, write: true }, { ...READ, dev: 1 },
      { ...READ, page: 14 }, { t: "unmap", cpu: 0, k: 0, free: false }, READ,
    ]);
    expect(c).toEqual([
      [0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0],
      [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], // the last read: the mapping is being unmapped, no longer live
    ]);
  });

  it("a buffer inside its page: the bytes before it and after it are not granted", () => {
    // The second kmalloc-64 object of the slab: the buffer is bytes 64..127 of its page.
    const r = Runner.of(strict);
    const read = (offset: number, len: number): Event => ({ t: "dma", dev: 0, write: false, page: 15, offset, len });
    const c = antecedentCounts(availability, r, [
      { t: "kmalloc", size: 64 }, { ...MAP, src: "kmalloc", size: 64 }, read(64, 64), read(63, 2), read(127, 2), read(0, 1),
    ]);
    expect(c.slice(2).map((x) => x[1])).toEqual([1, 0, 0, 0]);
  });

  it("strict-unmap-off-by-one: the fault inside the live mapping counts as faulted", () => {
    const r = new Runner(makeSystem(DEFAULT_CONFIG, strictUnmapOffByOne));
    expect(antecedentCounts(availability, r, TWO).at(-1)).toEqual([0, 0, 1, 0]);
  });

  it("another device's access at the mapping's IOVA faults: not a violation, not counted", () => {
    const r = Runner.of(strict);
    const c = antecedentCounts(availability, r, [MAP, { ...READ, dev: 1 }]);
    expect(r.obs.fault).not.toBe(FAULT_NONE);
    expect(c[1]).toEqual([0, 0, 0, 0]);
    const s = r.log[1];
    expect(availability.check(r.sys, s.pre, s.event, r.obs, s.post)).toBeNull();
  });

  it("translated requests the platform refuses (ACS Translation Blocking, ATS disabled) are neither counted nor violations", () => {
    const ats: Event = { t: "ats-dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };
    for (const acsTb of [true, false]) {
      const r = Runner.of(strict, { ats: true, acsTb });
      r.step(MAP);
      if (!acsTb) {
        // The device table entry without ATS (as for a device the kernel did not enable it for): the IOMMU refuses.
        const st = copyState(r.state);
        st[DTE][0 * DTE_W + 3] &= ~DTE_D1HI_IOTLB;
        r.state = st;
      }
      const c = antecedentCounts(availability, r, [ats]);
      expect(r.obs.fault).toBe(acsTb ? FAULT_ACS_TB : FAULT_ATS_DISABLED);
      expect(c[0]).toEqual([0, 0, 0, 0]);
      const s = r.log[1];
      expect(availability.check(r.sys, s.pre, s.event, r.obs, s.post)).toBeNull();
    }
  });
});

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
import { FAULT_NONE, Observation } from "../../model/observation.ts";
import { findProperty } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";

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

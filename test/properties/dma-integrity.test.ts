/**
 * dma-integrity, and iotlb-coherence's exemption narrowed to the mapping the
 * cached translation was made for: an IOVA freed before its invalidation
 * completed is handed to a second mapping, whose DMA then goes through the
 * first mapping's stale IOTLB entry.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { strict } from "../../model/policies/strict.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { strictFreeIovaBeforeWait } from "../../model/policies/broken.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { traceEvents } from "../../checker/trace.ts";
import { Observation, SRC_IOTLB } from "../../model/observation.ts";
import { Stepper } from "../../model/system.ts";
import { MAPS } from "../../model/geometry.ts";
import { coversPage } from "../../properties/mapping-frames.ts";

const integrity = findProperty("dma-integrity")!;
const coherence = findProperty("iotlb-coherence")!;

/** Map a page, cache its translation, start its unmap on cpu0, map another page on cpu1 at the same IOVA, access it. */
const REUSE: Event[] = [
  { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "to-device" },
  { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 },
  { t: "unmap", cpu: 0, k: 0, free: false },
  { t: "map", cpu: 1, dev: 0, src: "pages", size: 4096, dir: "to-device" },
  { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 },
];

describe("dma-integrity", () => {
  it("an IOVA freed before the wait is reused while the first unmap is in progress: both live mappings share the page", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strictFreeIovaBeforeWait);
    const r = new Executor(sys, [integrity]).run(REUSE);
    expect(r.violation?.step).toBe(3); // the second map
    expect(traceEvents(sys, [integrity], REUSE.slice(0, 4)).explanation).toMatch(/mappings #0 and #1 of device 0 are both live and share IOVA page 0x207/);
  });

  it("the stale access through the reused IOVA reaches the first mapping's frame (clause 1)", () => {
    // Checked from the access on: clause 2 is already violated at the map.
    const sys = makeSystem(DEFAULT_CONFIG, strictFreeIovaBeforeWait);
    const obs = new Observation();
    const st = new Stepper(sys, obs);
    let s = sys.init;
    for (const e of REUSE.slice(0, 4)) s = st.step(s, e);
    const pre = s;
    s = st.step(s, REUSE[4]);
    expect(obs.segSource[0]).toBe(SRC_IOTLB);
    const v = integrity.check(sys, pre, REUSE[4], obs, s);
    expect(v?.message).toMatch(/IOVA 0x207000 of mapping #1 through an IOTLB entry, but reached frame \d+ .* which holds none of that mapping's buffer/);
  });

  it("strict keeps the IOVA until the wait: the same events are harmless, and the second map gets another page", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strict);
    const r = new Executor(sys, [integrity, coherence]).run(REUSE);
    expect(r.violation).toBeNull();
    // The antecedent is reached: the last access is translated inside a live mapping's range.
    const obs = new Observation();
    const st = new Stepper(sys, obs);
    let s = sys.init;
    for (const e of REUSE) s = st.step(s, e);
    expect(obs.nseg).toBe(1);
    const v = obs.segIovaPfn[0];
    expect([0, 1].some((m) => coversPage(s[MAPS], m, v))).toBe(true);
  });

  it("lazy holds it too: its IOVAs return only after the flush", () => {
    expect(new Executor(makeSystem(DEFAULT_CONFIG, lazy), [integrity]).run(REUSE).violation).toBeNull();
  });
});

describe("iotlb-coherence: the in-progress exemption covers only the mapping the translation was made for", () => {
  it("strict-free-iova-before-wait: the access through the first mapping's stale entry is stale, although that unmap is in progress", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strictFreeIovaBeforeWait);
    const r = new Executor(sys, [coherence]).run(REUSE);
    expect(r.violation?.step).toBe(4);
    expect(traceEvents(sys, [coherence], REUSE).explanation).toMatch(/stale IOTLB entry for IOVA 0x207000; the tables now map it to frame \d+/);
  });

  it("strict's own in-progress window is still accepted: an access through the unmapping mapping's entry", () => {
    const events: Event[] = [REUSE[0], REUSE[1], REUSE[2], REUSE[1]];
    expect(new Executor(makeSystem(DEFAULT_CONFIG, strict), [coherence]).run(events).violation).toBeNull();
  });
});

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
import { Observation, SRC_ATC, SRC_IOTLB, SRC_PASSTHROUGH, SRC_PDEC_WALK } from "../../model/observation.ts";
import { Stepper } from "../../model/system.ts";
import { MAPS } from "../../model/geometry.ts";
import { coversPage } from "../../properties/mapping-frames.ts";
import { mIova } from "../../model/dma-mapping.ts";
import { Runner } from "../model/helpers.ts";
import { antecedentCounts } from "./helpers.ts";

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

/** strict-free-iova-before-wait through REUSE's first four events, then `e`: the step's system, observation and states. */
function reuseThen(e: Event) {
  const sys = makeSystem(DEFAULT_CONFIG, strictFreeIovaBeforeWait);
  const obs = new Observation();
  const st = new Stepper(sys, obs);
  let pre = sys.init;
  for (const x of REUSE.slice(0, 4)) pre = st.step(pre, x);
  return { sys, obs, pre, post: st.step(pre, e) };
}

describe("dma-integrity", () => {
  it("an IOVA freed before the wait is reused while the first unmap is in progress: both live mappings share the page", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strictFreeIovaBeforeWait);
    const r = new Executor(sys, [integrity]).run(REUSE);
    expect(r.violation?.step).toBe(3); // the second map
    expect(traceEvents(sys, [integrity], REUSE.slice(0, 4)).explanation).toMatch(/mappings #0 and #1 of device 0 are both live and share IOVA page 0x207/);
  });

  it("the stale access through the reused IOVA reaches the first mapping's frame (clause 1)", () => {
    // Checked from the access on: clause 2 is already violated at the map.
    const { sys, obs, pre, post } = reuseThen(REUSE[4]);
    expect(obs.segSource[0]).toBe(SRC_IOTLB);
    const v = integrity.check(sys, pre, REUSE[4], obs, post);
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

describe("dma-integrity: what it counts and what it compares", () => {
  // Per step: [guard, access inside a live mapping, two live mappings of a device, guard].
  const map = (dev: number, size = 4096): Event => ({ t: "map", cpu: 0, dev, src: "pages", size, dir: "bidirectional" });
  const read = (dev: number, page: number, offset = 0, len = 1): Event => ({ t: "dma", dev, write: false, page, offset, len });

  it("strict: a second live mapping of the device counts when the mappings change; translated accesses inside one count once per segment", () => {
    const r = Runner.of(strict);
    const c = antecedentCounts(integrity, r, [
      map(0), // one mapping: no pair
      map(1), // device 1's: still no pair of one device
      map(0, 8192), // a pair on device 0 (#2 at pages 0x204..0x205)
      read(0, 15), // a walk inside #0; the mappings did not change: the pair is not counted again
      read(0, 15), // an IOTLB hit
      read(0, 12, 4095, 2), // two segments, both inside #2
      read(0, 11), // below every mapping: faults, nothing counted
      read(1, 15), // device 1's own mapping
    ]);
    expect(c).toEqual([
      [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0],
    ]);
    expect(r.log[4].segSource).toEqual([SRC_IOTLB]);
    expect(new Executor(r.sys, [integrity]).run(r.log.map((s) => s.event)).violation).toBeNull();
  });

  it("two devices' mappings at the same IOVA number are not a shared page; each device's access reaches its own buffer", () => {
    const r = Runner.of(strict);
    r.steps([map(0), map(1)]);
    expect(mIova(r.state[MAPS], 0)).toBe(mIova(r.state[MAPS], 1));
    const s = r.step(read(1, 15));
    expect(s.nseg).toBe(1);
    expect(integrity.check(r.sys, s.pre, s.event, r.obs, s.post)).toBeNull();
    expect(new Executor(r.sys, [integrity]).run([map(0), map(1), read(1, 15), read(0, 15)]).violation).toBeNull();
  });

  it("neighbouring IOVA ranges of one device do not overlap", () => {
    // #0 at page 0x207, #1 at 0x206 just below; then #2 two pages at 0x204..0x205.
    const events = [map(0), map(0), map(0, 8192)];
    const r = new Executor(makeSystem(DEFAULT_CONFIG, strict), [integrity]).run(events);
    expect(r.violation).toBeNull();
  });

  it("the violation names the accessed IOVA with its offset in the page", () => {
    const e: Event = { ...(REUSE[4] as Extract<Event, { t: "dma" }>), offset: 8 };
    const { sys, obs, pre, post } = reuseThen(e);
    expect(integrity.check(sys, pre, e, obs, post)?.message).toMatch(/read IOVA 0x207008 of mapping #1 through an IOTLB entry/);
  });

  it("a walk from a cached directory entry that reaches the wrong frame is judged as an IOTLB hit is", () => {
    // The same stale access, as if its translation came from a walk that began at a cached directory
    // entry of a freed table (a policy that frees tables without invalidating the directory cache).
    const { sys, obs, pre, post } = reuseThen(REUSE[4]);
    obs.segSource[0] = SRC_PDEC_WALK;
    expect(integrity.check(sys, pre, REUSE[4], obs, post)?.message).toMatch(/IOVA 0x207000 of mapping #1 through a page walk from a cached directory entry, but reached frame/);
    // A source the property does not judge (a passthrough access reaches physical memory, no IOVA).
    obs.segSource[0] = SRC_PASSTHROUGH;
    expect(integrity.check(sys, pre, REUSE[4], obs, post)).toBeNull();
  });

  it("only the segments the access performed are judged, not what an earlier access left in the observation", () => {
    const r = Runner.of(strict);
    r.step(map(0));
    const s = r.step(read(0, 15));
    expect(s.nseg).toBe(1);
    // The arrays past nseg keep an earlier access's segments: one through an IOTLB entry of #0's page to frame 20.
    r.obs.segSource[1] = SRC_IOTLB;
    r.obs.segIovaPfn[1] = mIova(r.state[MAPS], 0);
    r.obs.segFrame[1] = 20;
    expect(integrity.check(r.sys, s.pre, s.event, r.obs, s.post)).toBeNull();
    const c = new Float64Array(4);
    integrity.antecedent!.count(r.sys, s.pre, s.event, r.obs, s.post, c, 1);
    expect(Array.from(c)).toEqual([0, 1, 0, 0]);
  });
});

describe("dma-integrity: ATC hits, slots out of IOVA order, accesses no live mapping covers", () => {
  const map = (dev: number, size = 4096): Event => ({ t: "map", cpu: 0, dev, src: "pages", size, dir: "bidirectional" });
  const read = (page: number): Event => ({ t: "dma", dev: 0, write: false, page, offset: 0, len: 1 });

  it("strict-free-iova-before-wait with ATS: the stale ATC translation of the reused IOVA reaches the first buffer (clause 1), and is counted", () => {
    const ats: Event = { t: "ats-dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };
    const r = Runner.of(strictFreeIovaBeforeWait, { ats: true });
    const c = antecedentCounts(integrity, r, [REUSE[0], ats, REUSE[2], REUSE[3], ats]);
    const s = r.log[4];
    expect(s.segSource).toEqual([SRC_ATC]);
    expect(c[4]).toEqual([0, 1, 0, 0]);
    expect(integrity.check(r.sys, s.pre, s.event, r.obs, s.post)?.message).toMatch(/^device 0 read IOVA 0x207000 of mapping #1 through .*ATC.*, but reached frame \d+ .* which holds none of that mapping's buffer$/);
  });

  it("a mapping slot above another in IOVA but below it in number: neighbours, not overlapping", () => {
    // #0 at 0x207 and #1 at 0x206; #0 unmapped (its slot and IOVA free); a two-page map takes slot 0 at 0x204..0x205.
    const events: Event[] = [map(0), map(0), { t: "unmap", cpu: 0, k: 0, free: false }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }, map(0, 8192)];
    const r = Runner.of(strict);
    r.steps(events);
    expect([mIova(r.state[MAPS], 0), mIova(r.state[MAPS], 1)]).toEqual([0x204, 0x206]);
    expect(new Executor(r.sys, [integrity]).run(events).violation).toBeNull();
  });

  it("lazy: a stale IOTLB hit after the unmap returned is in no live mapping: not counted, though another mapping of the device is live", () => {
    const r = Runner.of(lazy);
    const c = antecedentCounts(integrity, r, [map(0), map(0), read(15), { t: "unmap", cpu: 0, k: 0, free: false }, read(15)]);
    expect(r.log[4].segSource).toEqual([SRC_IOTLB]);
    expect(c[4]).toEqual([0, 0, 0, 0]);
  });
});

describe("dma-integrity's antecedent: the device's own mappings only", () => {
  it("lazy: device 1's stale hit at the IOVA number device 0's live mapping has is not counted", () => {
    const map = (dev: number): Event => ({ t: "map", cpu: 0, dev, src: "pages", size: 4096, dir: "bidirectional" });
    const read1: Event = { t: "dma", dev: 1, write: false, page: 15, offset: 0, len: 1 };
    const r = Runner.of(lazy);
    const c = antecedentCounts(integrity, r, [map(0), map(1), read1, { t: "unmap", cpu: 0, k: 1, free: false }, read1]);
    expect(mIova(r.state[MAPS], 0)).toBe(r.sys.g.winBase + 15); // device 0's, live
    expect(r.log[4].segSource).toEqual([SRC_IOTLB]);
    expect(c[2]).toEqual([0, 1, 0, 0]);
    expect(c[4]).toEqual([0, 0, 0, 0]);
  });
});

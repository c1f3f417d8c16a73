// Device accesses of model/iommu.ts beyond the untranslated walk that
// test/model/iommu.test.ts covers: PCIe ATS (the device's ATC and its
// Translation Requests), forged translated requests, ACS Translation
// Blocking, AMD passthrough permissions, VT-d caching mode's cached
// not-present entries, and the observation an access leaves. Added for
// issue 15 part 7 (Stryker survivors of `npm run mutation:model -- --mutate
// model/iommu.ts`).
import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { amdPteHi, amdPteLo } from "../../model/formats/amd-v1-pte.ts";
import { ATC, DTE, IOTLB, MAPS, PDEC, PTMEM } from "../../model/geometry.ts";
import { encodeDte } from "../../model/formats/amd-dte.ts";
import { Tx } from "../../model/state.ts";
import { mSegFrame } from "../../model/dma-mapping.ts";
import { domainRoot, iommuMapPage, tableIndex, walkFrom, walkMemory, WalkResult } from "../../model/iommu-page-table.ts";
import { atsEnabled, deviceAccess, deviceAtsAccess, deviceForgedAccess, deviceMode, invalidateAtc, IOTLB_NEGATIVE, isPassthrough } from "../../model/iommu.ts";
import { invalidateRange, iotlbFill, iotlbSlot, pdecSlot } from "../../model/iotlb.ts";
import {
  FAULT_ACS_TB, FAULT_ATS_DISABLED, FAULT_BLOCKED, FAULT_NO_MEMORY, FAULT_NONE, FAULT_NOT_PRESENT, FAULT_PERMISSION, MAX_SEGS, Observation, SRC_ATC, SRC_FORGED,
  SRC_IOTLB, SRC_PASSTHROUGH, SRC_PDEC_WALK, SRC_WALK,
} from "../../model/observation.ts";
import { ptFind, ptWrite } from "../../model/page-table-memory.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { config, Runner, txOn } from "./helpers.ts";

const PAGE = 4096;
// The first one-page mapping gets the window's top page (IOVAs are allocated top-down).
const TOP = 15;
const map = (dir: "to-device" | "from-device" | "bidirectional" = "to-device", size = 64) => ({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size, dir }) as const;
const ats = (write: boolean, page = TOP, offset = 0, len = 64) => ({ t: "ats-dma", dev: 0, write, page, offset, len }) as const;

describe("ATS: the device's ATC and its Translation Requests", () => {
  it("a miss in the ATC asks the IOMMU (IOTLB miss, walk), fills the IOTLB and the ATC with the same entry, and reaches the buffer", () => {
    const r = Runner.of(strict, { ats: true });
    r.step(map());
    const g = r.sys.g;
    const slot = iotlbSlot(g, 0, g.winBase + TOP);
    const s = r.step(ats(false, TOP, 8, 16));
    expect(s.fault).toBe(FAULT_NONE);
    expect(s.segFrame).toEqual([mSegFrame(r.state[MAPS], 0, 0)]);
    expect(s.segSource).toEqual([SRC_ATC]);
    expect([s.counters[C.iotlbMisses], s.counters[C.walkRefs], s.counters[C.dmaBytes]]).toEqual([1, 3, 16]);
    expect(r.state[IOTLB][slot]).not.toBe(0);
    expect([r.state[ATC][slot], r.state[ATC][slot + 1]]).toEqual([r.state[IOTLB][slot], r.state[IOTLB][slot + 1]]);
    // The second access uses the ATC alone: no IOTLB lookup at all, not even a hit.
    const again = r.step(ats(false));
    expect([again.counters[C.iotlbHits], again.counters[C.iotlbMisses], again.counters[C.walkRefs]]).toEqual([0, 0, 0]);
    expect(again.post[IOTLB]).toBe(again.pre[IOTLB]);
    expect(again.post[ATC]).toBe(again.pre[ATC]);
    expect(again.segFrame).toEqual(s.segFrame);
  });

  it("a trusted device respects the permission it was given; an untrusted one writes through a read-only translation", () => {
    const trusted = Runner.of(strict, { ats: true });
    trusted.step(map("to-device"));
    const w = trusted.step(ats(true));
    expect([w.fault, w.nseg]).toEqual([FAULT_PERMISSION, 0]);
    expect(trusted.step(ats(false)).fault).toBe(FAULT_NONE); // the read was cached by the refused write's Translation Request
    const fromDev = Runner.of(strict, { ats: true });
    fromDev.step(map("from-device"));
    expect(fromDev.step(ats(false)).fault).toBe(FAULT_PERMISSION);
    expect(fromDev.step(ats(true)).fault).toBe(FAULT_NONE);
    const untrusted = Runner.of(strict, { ats: true, untrusted: true });
    untrusted.step(map("to-device"));
    const u = untrusted.step(ats(true));
    expect([u.fault, u.nseg, u.segSource[0]]).toEqual([FAULT_NONE, 1, SRC_ATC]);
  });

  it("an unmapped page: the Translation Request fails, not present, and the ATC stays empty", () => {
    const r = Runner.of(strict, { ats: true });
    r.step(map());
    const s = r.step(ats(false, 3));
    expect([s.fault, s.nseg]).toEqual([FAULT_NOT_PRESENT, 0]);
    expect(r.state[ATC].every((w) => w === 0)).toBe(true);
    expect(r.obs.faultIovaPfn).toBe(r.sys.g.winBase + 3);
  });

  it("a page outside the window has no ATC slot: not present, without a Translation Request", () => {
    const sys = makeSystem(config({ ats: true }), strict);
    const { tx } = txOn(sys);
    const obs = new Observation();
    deviceAtsAccess(tx, 0, false, (sys.g.winBase + sys.g.winPages) * PAGE, 4, obs);
    expect([obs.fault, obs.nseg, obs.counters[C.iotlbMisses]]).toEqual([FAULT_NOT_PRESENT, 0, 0]);
    deviceAtsAccess(tx, 0, false, (sys.g.winBase - 1) * PAGE, 4, obs);
    expect([obs.fault, obs.counters[C.iotlbMisses]]).toEqual([FAULT_NOT_PRESENT, 0]);
  });

  it("an ATC entry naming a frame past memory: no memory there", () => {
    const sys = makeSystem(config({ ats: true }), strict);
    const { tx } = txOn(sys);
    const slot = iotlbSlot(sys.g, 0, sys.g.winBase);
    const atc = tx.w(ATC);
    atc[slot] = 1 | 2 | 4;
    atc[slot + 1] = sys.cfg.frames;
    const obs = new Observation();
    deviceAtsAccess(tx, 0, false, sys.g.winBase * PAGE, 4, obs);
    expect([obs.fault, obs.nseg]).toEqual([FAULT_NO_MEMORY, 0]);
    atc[slot + 1] = sys.cfg.frames - 1;
    obs.reset();
    deviceAtsAccess(tx, 0, true, sys.g.winBase * PAGE, 4, obs);
    expect([obs.fault, obs.segFrame[0]]).toEqual([FAULT_NONE, sys.cfg.frames - 1]);
  });

  it("a two-page access takes two segments, each with its own offset and length", () => {
    const r = Runner.of(strict, { ats: true });
    r.step(map("to-device", 2 * PAGE));
    const m = r.state[MAPS];
    const s = r.step(ats(false, TOP - 1, PAGE - 16, 48));
    expect([s.fault, s.nseg]).toEqual([FAULT_NONE, 2]);
    expect(s.segFrame).toEqual([mSegFrame(m, 0, 0), mSegFrame(m, 0, 0) + 1]); // one contiguous segment of two frames
    expect(Array.from(r.obs.segOffset.subarray(0, 2))).toEqual([PAGE - 16, 0]);
    expect(Array.from(r.obs.segLen.subarray(0, 2))).toEqual([16, 32]);
    expect(Array.from(r.obs.segIovaPfn.subarray(0, 2))).toEqual([r.sys.g.winBase + TOP - 1, r.sys.g.winBase + TOP]);
    expect(s.segSource).toEqual([SRC_ATC, SRC_ATC]);
    expect(s.counters[C.dmaBytes]).toBe(48);
  });

  it("ACS Translation Blocking refuses translated requests at the port; without ATS in the device table the IOMMU refuses them", () => {
    const blocked = Runner.of(strict, { ats: true, acsTb: true });
    blocked.step(map());
    const b = blocked.step(ats(false));
    expect([b.fault, b.nseg, b.counters[C.iotlbMisses]]).toEqual([FAULT_ACS_TB, 0, 0]);
    // Untranslated requests still go through.
    expect(blocked.step({ t: "dma", dev: 0, write: false, page: TOP, offset: 0, len: 4 }).fault).toBe(FAULT_NONE);
    const sys = makeSystem(config({ untrusted: true }), strict); // no ATS
    const { tx } = txOn(sys);
    expect(atsEnabled(tx.c[DTE], 0)).toBe(false);
    const obs = new Observation();
    deviceForgedAccess(tx, 0, false, 3 * PAGE, 4, obs);
    expect([obs.fault, obs.nseg]).toEqual([FAULT_ATS_DISABLED, 0]);
    const withAts = makeSystem(config({ untrusted: true, ats: true }), strict);
    expect(atsEnabled(txOn(withAts).tx.c[DTE], 0)).toBe(true);
    expect(atsEnabled(txOn(withAts).tx.c[DTE], 1)).toBe(true);
  });
});

describe("forged translated requests (untrusted device with ATS)", () => {
  it("reach any physical frame, recorded as forged; past memory's end, no memory", () => {
    const sys = makeSystem(config({ untrusted: true, ats: true }), strict);
    const { tx } = txOn(sys);
    const obs = new Observation();
    deviceForgedAccess(tx, 1, true, 5 * PAGE + 100, 8, obs);
    expect([obs.fault, obs.nseg, obs.segFrame[0], obs.segSource[0], obs.segOffset[0], obs.dev, obs.write]).toEqual([FAULT_NONE, 1, 5, SRC_FORGED, 100, 1, true]);
    expect(obs.counters[C.walkRefs] + obs.counters[C.iotlbMisses] + obs.counters[C.iotlbHits]).toBe(0);
    deviceForgedAccess(tx, 0, false, sys.cfg.frames * PAGE, 8, obs);
    expect([obs.fault, obs.nseg, obs.faultIovaPfn]).toEqual([FAULT_NO_MEMORY, 0, sys.cfg.frames]);
    obs.reset();
    deviceForgedAccess(tx, 0, false, (sys.cfg.frames - 1) * PAGE, 8, obs);
    expect([obs.fault, obs.segFrame[0]]).toEqual([FAULT_NONE, sys.cfg.frames - 1]);
  });

  it("an access longer than MAX_SEGS pages stops after MAX_SEGS segments", () => {
    const sys = makeSystem(config({ untrusted: true, ats: true }), strict);
    const { tx } = txOn(sys);
    const obs = new Observation();
    deviceForgedAccess(tx, 0, false, 0, (MAX_SEGS + 2) * PAGE, obs);
    expect([obs.fault, obs.nseg, obs.counters[C.dmaBytes]]).toEqual([FAULT_NONE, MAX_SEGS, MAX_SEGS * PAGE]);
    expect([obs.iova, obs.len]).toEqual([0, (MAX_SEGS + 2) * PAGE]);
  });
});

describe("the end of memory behind a translation", () => {
  it("a leaf naming a frame past memory: the walk fills the IOTLB, the access faults with no memory", () => {
    const r = Runner.of(strict);
    r.step(map());
    const t = r.tx();
    const v = r.sys.g.winBase + TOP;
    const frames = r.sys.cfg.frames;
    // The level-1 table on the page's path: the last directory entry the walk reads.
    let l1 = -1;
    walkMemory(t, t.c[PTMEM], t.c[DTE], 0, v, new WalkResult());
    walkFrom(t.c[PTMEM], domainRoot(t.c[DTE], 0), r.sys.cfg.iommuLevels, v, true, true, new WalkResult(), (_l, next) => (l1 = next));
    expect(ptFind(t.c[PTMEM], l1, tableIndex(v, 1))).toBeGreaterThanOrEqual(0);
    ptWrite(t, l1, tableIndex(v, 1), amdPteLo(frames), amdPteHi(frames, true, true, true));
    const obs = new Observation();
    deviceAccess(t, 0, false, v * PAGE, 4, obs);
    expect([obs.fault, obs.nseg, obs.segSource[0]]).toEqual([FAULT_NO_MEMORY, 0, SRC_WALK]);
    expect(t.c[IOTLB][iotlbSlot(r.sys.g, 0, v) + 1]).toBe(frames);
    ptWrite(t, l1, tableIndex(v, 1), amdPteLo(frames - 1), amdPteHi(frames - 1, true, true, true));
    obs.reset();
    deviceAccess(t, 1, false, v * PAGE, 4, obs); // device 1's domain does not map v
    expect(obs.fault).toBe(FAULT_NOT_PRESENT);
  });
});

describe("VT-d caching mode: cached not-present entries", () => {
  it("a walk ending at a not-present entry is cached as IOTLB_NEGATIVE; the next access faults from the IOTLB, without a walk", () => {
    const r = Runner.of(strict, { iommu: "vtd", iommuLevels: 4, cachingMode: true });
    const g = r.sys.g;
    const s = r.step({ t: "dma", dev: 0, write: false, page: 2, offset: 0, len: 4 });
    expect([s.fault, s.segSource.length]).toEqual([FAULT_NOT_PRESENT, 0]);
    const slot = iotlbSlot(g, 0, g.winBase + 2);
    expect([r.state[IOTLB][slot], r.state[IOTLB][slot + 1]]).toEqual([IOTLB_NEGATIVE, 0]);
    const again = r.step({ t: "dma", dev: 0, write: false, page: 2, offset: 0, len: 4 });
    expect([again.fault, again.nseg, again.counters[C.iotlbHits], again.counters[C.walkRefs]]).toEqual([FAULT_NOT_PRESENT, 0, 1, 0]);
    expect(r.obs.segSource[0]).toBe(SRC_IOTLB);
    expect(again.post[IOTLB]).toBe(again.pre[IOTLB]); // already cached: not rewritten
    // Without caching mode nothing is cached.
    const plain = Runner.of(strict, { iommu: "vtd", iommuLevels: 4 });
    plain.step({ t: "dma", dev: 0, write: false, page: 2, offset: 0, len: 4 });
    expect(plain.state[IOTLB].every((w) => w === 0)).toBe(true);
  });

  it("VT-d passthrough reaches frames directly, up to memory's end", () => {
    const sys = makeSystem(config({ iommu: "vtd", iommuLevels: 4 }), { ...strict, name: "pt-test", attach: () => "passthrough" });
    const { tx } = txOn(sys);
    expect([deviceMode(tx.c[DTE], 0, true), isPassthrough(tx.c[DTE], 0, true)]).toEqual(["passthrough", true]);
    const obs = new Observation();
    deviceAccess(tx, 0, true, 7 * PAGE, 4, obs);
    expect([obs.fault, obs.segFrame[0], obs.segSource[0]]).toEqual([FAULT_NONE, 7, SRC_PASSTHROUGH]);
    deviceAccess(tx, 0, true, sys.cfg.frames * PAGE, 4, obs);
    expect([obs.fault, obs.nseg]).toEqual([FAULT_NO_MEMORY, 0]);
    obs.reset();
    deviceAccess(tx, 0, true, (sys.cfg.frames - 1) * PAGE, 4, obs);
    expect(obs.fault).toBe(FAULT_NONE);
  });
});

// Translation details: where the IOTLB and directory cache are consulted and
// filled (slot 0, pages outside the window, which cached level), frame 0, AMD
// mode-0 permissions, VT-d translation end to end, and the ATC side of
// INVALIDATE_IOTLB_PAGES.
describe("IOTLB and directory cache slots", () => {
  const fresh = (over = {}) => {
    const sys = makeSystem(config(over), strict);
    return { sys, g: sys.g, tx: txOn(sys).tx };
  };

  it("an IOTLB entry in slot 0 (device 0, the window's first page) is a hit, even naming frame 2", () => {
    const { g, tx } = fresh();
    expect(iotlbSlot(g, 0, g.winBase)).toBe(0);
    iotlbFill(tx, 0, 2, true, true);
    const obs = new Observation();
    deviceAccess(tx, 0, true, g.winBase * PAGE, 4, obs); // no page table maps it: only the IOTLB can answer
    expect([obs.fault, obs.nseg, obs.segFrame[0], obs.segSource[0], obs.counters[C.iotlbHits], obs.counters[C.walkRefs]]).toEqual([FAULT_NONE, 1, 2, SRC_IOTLB, 1, 0]);
  });

  it("a page mapped outside the window translates by a walk and is cached nowhere (no IOTLB or directory-cache slot)", () => {
    for (const over of [{}, { iommu: "vtd", iommuLevels: 4 } as const]) {
      const { g, tx } = fresh(over);
      const v = 2 ** (9 * (g.cfg.iommuLevels - 1)) + 3; // another root-table entry than the window's
      expect(iommuMapPage(tx, 0, v, 9, true, true, new Observation())).toBe(true);
      const iotlb = Object.entries(tx.c[IOTLB]), pdec = Object.entries(tx.c[PDEC]);
      const obs = new Observation();
      deviceAccess(tx, 0, false, v * PAGE, 4, obs);
      expect([obs.fault, obs.segFrame[0], obs.segSource[0]]).toEqual([FAULT_NONE, 9, SRC_WALK]);
      expect([Object.entries(tx.c[IOTLB]), Object.entries(tx.c[PDEC])]).toEqual([iotlb, pdec]);
      expect(g.winBase).toBeLessThan(v);
    }
  });

  it("VT-d caching mode: a not-present page outside the window is not cached; one inside leaves its neighbour's entry alone", () => {
    const { g, tx } = fresh({ iommu: "vtd", iommuLevels: 4, cachingMode: true });
    const iotlb = Object.entries(tx.c[IOTLB]);
    const obs = new Observation();
    deviceAccess(tx, 0, false, (g.winBase + g.winPages) * PAGE, 4, obs);
    expect(obs.fault).toBe(FAULT_NOT_PRESENT);
    expect(Object.entries(tx.c[IOTLB])).toEqual(iotlb);
    iotlbFill(tx, iotlbSlot(g, 0, g.winBase + 4), 9, true, true);
    obs.reset();
    deviceAccess(tx, 0, false, (g.winBase + 5) * PAGE, 4, obs);
    expect(obs.fault).toBe(FAULT_NOT_PRESENT);
    expect(tx.c[IOTLB][iotlbSlot(g, 0, g.winBase + 5)]).toBe(IOTLB_NEGATIVE);
    expect(tx.c[IOTLB][iotlbSlot(g, 0, g.winBase + 4) + 1]).toBe(9);
  });

  it("the walk starts at the deepest cached directory entry: level 2 in slot 0 (one reference), else the root's (two)", () => {
    const { g, tx } = fresh();
    const v = g.winBase;
    iommuMapPage(tx, 0, v, 9, true, true, new Observation());
    deviceAccess(tx, 0, false, v * PAGE, 4, new Observation()); // fills the IOTLB and both directory-cache levels
    expect(pdecSlot(g, 0, 2, v)).toBe(0);
    expect([tx.c[PDEC][pdecSlot(g, 0, 2, v)], tx.c[PDEC][pdecSlot(g, 0, 3, v)]].every((e) => e !== 0)).toBe(true);
    invalidateRange(tx, 0, v, 1, false); // the IOTLB entry only
    let obs = new Observation();
    deviceAccess(tx, 0, false, v * PAGE, 4, obs);
    expect([obs.segFrame[0], obs.segSource[0], obs.counters[C.walkRefs]]).toEqual([9, SRC_PDEC_WALK, 1]);
    invalidateRange(tx, 0, v, 1, false);
    tx.w(PDEC)[pdecSlot(g, 0, 2, v)] = 0; // only the root's entry stays cached
    obs = new Observation();
    deviceAccess(tx, 0, false, v * PAGE, 4, obs);
    expect([obs.segFrame[0], obs.segSource[0], obs.counters[C.walkRefs]]).toEqual([9, SRC_PDEC_WALK, 2]);
  });

  it("a leaf naming frame 0 translates to frame 0", () => {
    const { g, tx } = fresh();
    iommuMapPage(tx, 0, g.winBase + 1, 0, true, true, new Observation());
    const obs = new Observation();
    deviceAccess(tx, 0, false, (g.winBase + 1) * PAGE, 4, obs);
    expect([obs.fault, obs.nseg, obs.segFrame[0]]).toEqual([FAULT_NONE, 1, 0]);
  });
});

describe("AMD mode 0 (untranslated) permissions", () => {
  it("IR only: reads reach the frame, writes fault with nothing performed; the last frame of memory is reachable, the next not", () => {
    const sys = makeSystem(config(), strict);
    const { tx } = txOn(sys);
    const words = encodeDte({ valid: true, translationValid: true, mode: 0, rootPfn: 0, ir: true, iw: false, domainId: 1, iotlb: false });
    for (let i = 0; i < 4; i++) tx.w(DTE)[i] = words[i] | 0;
    expect(deviceMode(tx.c[DTE], 0)).toBe("passthrough");
    const frames = sys.cfg.frames;
    let obs = new Observation();
    deviceAccess(tx, 0, false, (frames - 1) * PAGE, 4, obs);
    expect([obs.fault, obs.nseg, obs.segFrame[0], obs.segSource[0]]).toEqual([FAULT_NONE, 1, frames - 1, SRC_PASSTHROUGH]);
    obs = new Observation();
    deviceAccess(tx, 0, true, 3 * PAGE, 4, obs);
    expect([obs.fault, obs.nseg]).toEqual([FAULT_PERMISSION, 0]);
    obs = new Observation();
    deviceAccess(tx, 0, false, frames * PAGE, 4, obs);
    expect([obs.fault, obs.nseg]).toEqual([FAULT_NO_MEMORY, 0]);
  });
});

describe("VT-d translation end to end", () => {
  const VTD = { iommu: "vtd", iommuLevels: 4 } as const;

  it("both devices' mappings translate through their own domains; the second access hits the IOTLB and the context cache", () => {
    const r = Runner.of(strict, VTD);
    for (const dev of [0, 1]) {
      r.step(dev === 0 ? map() : { t: "map", cpu: 0, dev, src: "pages", size: PAGE, dir: "to-device" });
      const k = dev; // mapping slot
      const f = mSegFrame(r.state[MAPS], k, 0);
      const first = r.step({ t: "dma", dev, write: false, page: TOP, offset: 0, len: 4 });
      expect([first.fault, first.segFrame[0], first.segSource[0]], `dev ${dev}`).toEqual([FAULT_NONE, f, SRC_WALK]);
      // The context entry (root and context table in memory, 2 references) the first time, then the 4-level walk.
      expect(first.counters[C.walkRefs], `dev ${dev}`).toBe(2 + 4);
      const again = r.step({ t: "dma", dev, write: false, page: TOP, offset: 0, len: 4 });
      expect([again.segFrame[0], again.segSource[0], again.counters[C.walkRefs], again.counters[C.iotlbHits]], `dev ${dev}`).toEqual([f, SRC_IOTLB, 0, 1]);
      expect(r.step({ t: "dma", dev, write: true, page: TOP, offset: 0, len: 4 }).fault).toBe(FAULT_PERMISSION);
    }
    expect(mSegFrame(r.state[MAPS], 0, 0)).not.toBe(mSegFrame(r.state[MAPS], 1, 0));
  });

  it("modes read from the context entry: translate, passthrough, blocked (every access faults)", () => {
    const translate = makeSystem(config(VTD), strict);
    expect([deviceMode(txOn(translate).tx.c[DTE], 0, true), isPassthrough(txOn(translate).tx.c[DTE], 0, true)]).toEqual(["translate", false]);
    const blocked = Runner.of({ ...strict, name: "blocked-test", attach: () => "blocked" }, VTD);
    expect([deviceMode(blocked.state[DTE], 1, true), isPassthrough(blocked.state[DTE], 1, true)]).toEqual(["blocked", false]);
    blocked.step(map());
    const s = blocked.step({ t: "dma", dev: 0, write: false, page: TOP, offset: 0, len: 4 });
    expect([s.fault, s.nseg, s.counters[C.iotlbMisses]]).toEqual([FAULT_BLOCKED, 0, 0]);
  });

  it("caching mode with ATS: a Translation Request for an unmapped page caches a not-present entry, the ATC nothing", () => {
    const r = Runner.of(strict, { ...VTD, cachingMode: true, ats: true });
    const s = r.step(ats(false, 3));
    expect([s.fault, s.nseg]).toEqual([FAULT_NOT_PRESENT, 0]);
    expect(r.state[IOTLB][iotlbSlot(r.sys.g, 0, r.sys.g.winBase + 3)]).toBe(IOTLB_NEGATIVE);
    expect(r.state[ATC].every((w) => w === 0)).toBe(true);
  });
});

describe("device 1 with ATS", () => {
  it("translates through its own domain's root (the device table entry with the ATS bit before it)", () => {
    const r = Runner.of(strict, { ats: true });
    r.step({ ...map(), dev: 1 });
    const s = r.step({ ...ats(false), dev: 1 });
    expect([s.fault, s.segFrame[0]]).toEqual([FAULT_NONE, mSegFrame(r.state[MAPS], 0, 0)]);
    const d = r.step({ t: "dma", dev: 1, write: false, page: TOP, offset: 0, len: 4 });
    expect([d.fault, d.segFrame[0]]).toEqual([FAULT_NONE, mSegFrame(r.state[MAPS], 0, 0)]);
  });
});

describe("invalidateAtc: the device's side of INVALIDATE_IOTLB_PAGES", () => {
  function withAtc(over = {}) {
    const sys = makeSystem(config({ ats: true, ...over }), strict);
    const { tx } = txOn(sys);
    const g = sys.g;
    for (const dev of [0, 1]) for (let v = g.winBase; v < g.winBase + g.winPages; v++) {
      tx.w(ATC)[iotlbSlot(g, dev, v)] = 3;
      tx.w(ATC)[iotlbSlot(g, dev, v) + 1] = 10 + (v - g.winBase);
    }
    const t = new Tx(g);
    t.begin(tx.commit());
    return { g, tx: t };
  }
  const live = (tx: Tx, g: { winBase: number; winPages: number } & Parameters<typeof iotlbSlot>[0], dev: number) => {
    const out: number[] = [];
    for (let v = g.winBase; v < g.winBase + g.winPages; v++) if (tx.c[ATC][iotlbSlot(g, dev, v)] !== 0) out.push(v - g.winBase);
    return out;
  };

  it("a trusted device drops exactly the range's entries, clipped to the window, and its neighbours' frames stay", () => {
    const { g, tx } = withAtc();
    invalidateAtc(tx, 0, g.winBase + 3, 2);
    expect(live(tx, g, 0)).toEqual([0, 1, 2, ...Array.from({ length: g.winPages - 5 }, (_, i) => i + 5)]);
    expect(tx.c[ATC][iotlbSlot(g, 0, g.winBase + 2) + 1]).toBe(12);
    expect(tx.c[ATC][iotlbSlot(g, 0, g.winBase + 5) + 1]).toBe(15);
    expect(live(tx, g, 1)).toHaveLength(g.winPages);
    const keys = Object.keys(tx.c[ATC]).length;
    invalidateAtc(tx, 1, g.winBase + g.winPages - 1, 4); // past the window's end
    expect(live(tx, g, 1)).toHaveLength(g.winPages - 1);
    expect(Object.keys(tx.c[ATC]).length).toBe(keys);
  });

  it("an entry already empty is not written", () => {
    const { g, tx } = withAtc();
    invalidateAtc(tx, 0, g.winBase, 1);
    const t = new Tx(g);
    t.begin(tx.commit());
    invalidateAtc(t, 0, g.winBase, 1);
    expect(t.wrote(ATC)).toBe(false);
  });

  it("an untrusted device keeps its entries; without ATS there is no ATC to touch", () => {
    const { g, tx } = withAtc({ untrusted: true });
    invalidateAtc(tx, 0, g.winBase, g.winPages);
    expect([live(tx, g, 0).length, tx.wrote(ATC)]).toEqual([g.winPages, false]);
    const plain = makeSystem(config(), strict);
    const t = txOn(plain).tx;
    invalidateAtc(t, 0, plain.g.winBase, plain.g.winPages);
    expect([Object.keys(t.c[ATC]).length, t.c[ATC].length]).toEqual([0, 0]);
  });
});

// Tests for IOMMU page tables, translation and caches:
// model/iommu-page-table.ts, model/iommu.ts, model/iotlb.ts.
import { describe, expect, it } from "vitest";
import { queueInvalidatePages, executeNextCommand } from "../../model/command-queue.ts";
import { C } from "../../model/counters.ts";
import {
  amdLargeLeafHi, amdLargeLeafLo, amdPdeHi, amdPdeLo, amdPteHi, amdPteLo,
} from "../../model/formats/amd-v1-pte.ts";
import { DTE, FRAMES, FRAME_W, IOTLB, MAPS, PDEC, PTMEM } from "../../model/geometry.ts";
import { mIova, mSegFrame } from "../../model/dma-mapping.ts";
import {
  domainRoot, freeDetachedTables, iommuMapPage, iommuUnmapPages, tableIndex, tableKey, walkFrom,
  walkMemory, WalkResult,
} from "../../model/iommu-page-table.ts";
import { deviceAccess, deviceMode } from "../../model/iommu.ts";
import { invalidateRange, iotlbSlot, pdecFrame, pdecIr, pdecIw, pdecNextLevel, pdecSlot } from "../../model/iotlb.ts";
import {
  FAULT_BLOCKED, FAULT_NO_MEMORY, FAULT_NOT_PRESENT, FAULT_NONE, FAULT_PERMISSION, Observation, SRC_IOTLB, SRC_PASSTHROUGH,
  SRC_PDEC_WALK, SRC_WALK,
} from "../../model/observation.ts";
import { ptCount, ptWrite } from "../../model/page-table-memory.ts";
import {
  allocFrames, F_DETACHED, F_RELEASED, frameAux, frameData, frameFlags, frameRole, ROLE_FREE, ROLE_IOMMU_PT, ROLE_KERNEL,
} from "../../model/physical-memory.ts";
import { passthrough } from "../../model/policies/passthrough.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Policy } from "../../model/policy.ts";
import { emptyState, Tx } from "../../model/state.ts";
import { makeSystem } from "../../model/system.ts";
import { makeGeometry } from "../../model/geometry.ts";
import { config, Runner, txOn } from "./helpers.ts";

const MAP64 = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" } as const;
// IOVAs are allocated top-down (iova-allocator.ts): the first one-page mapping gets the window's top page, 519 = page 15.
const TOP = 15;
const READ0 = { t: "dma", dev: 0, write: false, page: TOP, offset: 0, len: 64 } as const;
const WRITE0 = { t: "dma", dev: 0, write: true, page: TOP, offset: 0, len: 64 } as const;

/** The frame of the first segment of mapping slot 0 (the driver's buffer). */
function bufferFrame(r: Runner): number {
  return mSegFrame(r.state[MAPS], 0, 0);
}

describe("translation through the IOMMU", () => {
  it("walks 3 levels on a miss and fills the IOTLB and both directory-cache levels", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    const g = r.sys.g;
    const v = g.winBase + TOP; // the highest IOVA page: the first mapping gets it
    const slot = iotlbSlot(g, 0, v);
    expect(r.state[IOTLB][slot]).toBe(0);
    const s = r.step(READ0);
    expect(s.fault).toBe(FAULT_NONE);
    expect(s.segFrame).toEqual([bufferFrame(r)]);
    expect(s.segSource).toEqual([SRC_WALK]);
    expect(s.counters[C.walkRefs]).toBe(3);
    expect(s.counters[C.iotlbMisses]).toBe(1);
    expect(s.counters[C.iotlbHits]).toBe(0);
    // IOTLB: valid | IR (to-device: no IW), frame.
    expect(r.state[IOTLB][slot]).toBe(1 | 2);
    expect(r.state[IOTLB][slot + 1]).toBe(bufferFrame(r));
    // Directory cache: root entry -> level-2 table, level-2 entry -> level-1 table, with IR|IW accumulated.
    const e3 = r.state[PDEC][pdecSlot(g, 0, 3, v)];
    const e2 = r.state[PDEC][pdecSlot(g, 0, 2, v)];
    expect(pdecNextLevel(e3)).toBe(2);
    expect(pdecNextLevel(e2)).toBe(1);
    expect(pdecIr(e2) && pdecIw(e2)).toBe(true);
    const fr = r.state[FRAMES];
    expect(frameRole(fr, pdecFrame(e3))).toBe(ROLE_IOMMU_PT);
    expect(frameData(fr, pdecFrame(e3))).toBe(tableKey(2, v));
    expect(frameData(fr, pdecFrame(e2))).toBe(tableKey(1, v));
  });

  it("walks 4 references with a 4-level table", () => {
    const r = Runner.of(strict, { iommuLevels: 4 });
    r.step(MAP64);
    expect(r.step(READ0).counters[C.walkRefs]).toBe(4);
  });

  it("hits the IOTLB on the second access, with no walk", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    r.step(READ0);
    const s = r.step(READ0);
    expect(s.segSource).toEqual([SRC_IOTLB]);
    expect(s.counters[C.iotlbHits]).toBe(1);
    expect(s.counters[C.iotlbMisses]).toBe(0);
    expect(s.counters[C.walkRefs]).toBe(0);
    expect(s.segFrame).toEqual([bufferFrame(r)]);
    expect(s.post[IOTLB]).toBe(s.pre[IOTLB]); // nothing to fill: not even copied
  });

  it("walks from the cached directory entry (1 reference) once only the IOTLB entry is gone", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    r.step(READ0);
    const { tx } = txOn(r.sys, r.state);
    invalidateRange(tx, 0, r.sys.g.winBase + TOP, 1, false);
    r.state = tx.commit();
    const s = r.step(READ0);
    expect(s.segSource).toEqual([SRC_PDEC_WALK]);
    expect(s.counters[C.walkRefs]).toBe(1);
    expect(s.segFrame).toEqual([bufferFrame(r)]);
  });

  it("grants read only for to-device: a device write faults with FAULT_PERMISSION (walk and IOTLB)", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    const w1 = r.step(WRITE0);
    expect(w1.fault).toBe(FAULT_PERMISSION);
    expect(w1.nseg).toBe(0);
    expect(w1.counters[C.dmaBytes]).toBe(0);
    const w2 = r.step(WRITE0); // the walk filled the IOTLB with IR only
    expect(w2.fault).toBe(FAULT_PERMISSION);
    expect(w2.counters[C.iotlbHits]).toBe(1);
    expect(r.step(READ0).fault).toBe(FAULT_NONE);
  });

  it("grants write only for from-device, and both for bidirectional", () => {
    const r = Runner.of(strict);
    r.step({ ...MAP64, dir: "from-device" });
    expect(r.step(READ0).fault).toBe(FAULT_PERMISSION);
    expect(r.step(WRITE0).fault).toBe(FAULT_NONE);
    const r2 = Runner.of(strict);
    r2.step({ ...MAP64, dir: "bidirectional" });
    expect(r2.step(READ0).fault).toBe(FAULT_NONE);
    expect(r2.step(WRITE0).fault).toBe(FAULT_NONE);
  });

  it("faults (not present) on an IOVA page that was never mapped, and stops a multi-page access at the first fault", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    r.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" }); // 518
    r.step({ t: "unmap", cpu: 0, k: 0, free: false }); // 519 unmapped, 518 stays
    r.steps([{ t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }]);
    const s = r.step({ t: "dma", dev: 0, write: false, page: TOP - 1, offset: 4000, len: 200 });
    expect(s.nseg).toBe(1); // 96 bytes of page 518, then page 519 faults
    expect(s.fault).toBe(FAULT_NOT_PRESENT);
    expect(r.obs.faultIovaPfn).toBe(r.sys.g.winBase + TOP);
    expect(s.counters[C.dmaBytes]).toBe(96);
    expect(r.step({ t: "dma", dev: 1, write: false, page: 0, offset: 0, len: 1 }).fault).toBe(FAULT_NOT_PRESENT);
  });
});

describe("unmap and invalidation", () => {
  it("cached entries keep translating after unmap clears the leaves, until INVALIDATE_IOMMU_PAGES executes", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    const frame = bufferFrame(r);
    r.step(READ0);
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    const w = new WalkResult();
    walkMemory(r.sys, r.state[PTMEM], r.state[DTE], 0, r.sys.g.winBase + TOP, w);
    expect(w.frame).toBe(-1); // the tables no longer map it
    const stale = r.step(READ0);
    expect(stale.fault).toBe(FAULT_NONE);
    expect(stale.segSource).toEqual([SRC_IOTLB]);
    expect(stale.segFrame).toEqual([frame]);
    r.step({ t: "iommu" }); // INVALIDATE_IOMMU_PAGES
    const after = r.step(READ0);
    expect(after.fault).toBe(FAULT_NOT_PRESENT);
    expect(after.counters[C.walkRefs]).toBe(1); // the root entry is gone too
  });

  it("an invalidation without PDE leaves directory-cache entries; with PDE it removes those its range touches", () => {
    const r = Runner.of(strict);
    const g = r.sys.g;
    r.step(MAP64); // IOVA page 519 (level-2 prefix 1)
    r.step({ t: "map", cpu: 0, dev: 0, src: "pages", size: 8 * 4096, dir: "bidirectional" }); // pages 504..511 (prefix 0)
    expect(mIova(r.state[MAPS], 1)).toBe(504);
    r.step(READ0);
    r.step({ t: "dma", dev: 0, write: false, page: 0, offset: 0, len: 1 });
    const s0 = pdecSlot(g, 0, 2, 504), s1 = pdecSlot(g, 0, 2, 519), s3 = pdecSlot(g, 0, 3, 519);
    for (const s of [s0, s1, s3]) expect(r.state[PDEC][s]).not.toBe(0);

    const { tx, obs } = txOn(r.sys, r.state);
    expect(queueInvalidatePages(tx, 0, 519, 1, false, obs)).toBe(true);
    executeNextCommand(tx, obs);
    expect(tx.c[IOTLB][iotlbSlot(g, 0, 519)]).toBe(0);
    expect(tx.c[IOTLB][iotlbSlot(g, 0, 504)]).not.toBe(0);
    for (const s of [s0, s1, s3]) expect(tx.c[PDEC][s]).not.toBe(0);

    expect(queueInvalidatePages(tx, 0, 519, 1, true, obs)).toBe(true);
    executeNextCommand(tx, obs);
    expect(tx.c[PDEC][s1]).toBe(0);
    expect(tx.c[PDEC][s3]).toBe(0); // the root entry's span contains page 519
    expect(tx.c[PDEC][s0]).not.toBe(0); // the level-2 entry for 0..511 does not
    expect(tx.c[IOTLB][iotlbSlot(g, 0, 504)]).not.toBe(0);
  });

  it("invalidateRange only touches its own domain", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    r.step({ ...MAP64, dev: 1 });
    r.step(READ0);
    r.step({ ...READ0, dev: 1 });
    const { tx } = txOn(r.sys, r.state);
    const g = r.sys.g;
    expect(invalidateRange(tx, 1, 0, 2 ** 52, true)).toBe(3); // one IOTLB entry + two directory entries
    expect(tx.c[IOTLB][iotlbSlot(g, 0, 519)]).not.toBe(0);
    expect(tx.c[PDEC][pdecSlot(g, 0, 2, 519)]).not.toBe(0);
    expect(tx.c[IOTLB][iotlbSlot(g, 1, 519)]).toBe(0);
    expect(tx.c[PDEC][pdecSlot(g, 1, 2, 519)]).toBe(0);
  });

  it("detaches an emptied table (F_DETACHED) and frees it only in freeDetachedTables, for the right tag", () => {
    const sys = makeSystem(config(), strict);
    const { tx, obs } = txOn(sys);
    const root = domainRoot(tx.c[DTE], 0);
    expect(iommuMapPage(tx, 0, 504, 20, true, false, obs)).toBe(true);
    expect(iommuMapPage(tx, 0, 505, 21, true, false, obs)).toBe(true);
    expect(obs.counters[C.ptFramesAllocated]).toBe(2);
    const pt = () => tx.c[PTMEM];
    const tables: number[] = [];
    walkFrom(pt(), root, 3, 504, true, true, new WalkResult(), (_lvl, next) => tables.push(next));
    const [t2, t1] = tables;
    expect(ptCount(pt(), t1)).toBe(2);
    // Clearing one of two leaves keeps the table.
    expect(iommuUnmapPages(tx, 0, 504, 1, 3, obs)).toBe(1);
    expect(frameFlags(tx.c[FRAMES], t1) & F_DETACHED).toBe(0);
    // Clearing the other empties it and its parent: both unlinked and detached with tag 3.
    expect(iommuUnmapPages(tx, 0, 505, 1, 3, obs)).toBe(1);
    for (const t of [t1, t2]) {
      expect(frameRole(tx.c[FRAMES], t)).toBe(ROLE_IOMMU_PT);
      expect(frameFlags(tx.c[FRAMES], t) & F_DETACHED).toBe(F_DETACHED);
      expect(frameAux(tx.c[FRAMES], t)).toBe(0 | (3 << 8));
    }
    expect(ptCount(pt(), root)).toBe(0);
    // Clearing an unmapped page clears nothing.
    expect(iommuUnmapPages(tx, 0, 506, 4, 3, obs)).toBe(0);
    const freed0 = obs.counters[C.ptFramesFreed];
    expect(freeDetachedTables(tx, 2, false, obs)).toBe(0);
    expect(freeDetachedTables(tx, 3, true, obs)).toBe(0); // no flush has released them
    tx.w(FRAMES)[t1 * FRAME_W] |= F_RELEASED; // as a completed flush-queue flush marks it
    expect(freeDetachedTables(tx, 3, true, obs)).toBe(1);
    expect(frameRole(tx.c[FRAMES], t1)).toBe(ROLE_FREE);
    expect(frameRole(tx.c[FRAMES], t2)).toBe(ROLE_IOMMU_PT);
    expect(freeDetachedTables(tx, 3, false, obs)).toBe(1);
    expect(obs.counters[C.ptFramesFreed] - freed0).toBe(2);
    for (const t of [t1, t2]) expect(frameRole(tx.c[FRAMES], t)).toBe(ROLE_FREE);
  });

  it("keeps emptied tables linked when reclaimEmptyTables is off", () => {
    const sys = makeSystem(config({ reclaimEmptyTables: false }), strict);
    const { tx, obs } = txOn(sys);
    iommuMapPage(tx, 0, 504, 20, true, true, obs);
    expect(iommuUnmapPages(tx, 0, 504, 1, 0, obs)).toBe(1);
    const w = new WalkResult();
    const tables: number[] = [];
    walkFrom(tx.c[PTMEM], domainRoot(tx.c[DTE], 0), 3, 504, true, true, w, (_l, next) => tables.push(next));
    expect(w.frame).toBe(-1);
    expect(tables.length).toBe(2);
    for (const t of tables) expect(frameFlags(tx.c[FRAMES], t) & F_DETACHED).toBe(0);
  });

  it("detached tables are freed at the end of a strict unmap, not before", () => {
    const r = Runner.of(strict);
    r.step(MAP64);
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    const detached = () => {
      const out: number[] = [];
      for (let f = 0; f < r.sys.cfg.frames; f++) if (frameRole(r.state[FRAMES], f) === ROLE_IOMMU_PT && (frameFlags(r.state[FRAMES], f) & F_DETACHED) !== 0) out.push(f);
      return out;
    };
    const d = detached();
    expect(d.length).toBe(2);
    r.step({ t: "iommu" });
    r.step({ t: "iommu" });
    expect(detached()).toEqual(d);
    const done = r.step({ t: "resume", cpu: 0 });
    expect(done.counters[C.ptFramesFreed]).toBe(2);
    expect(detached()).toEqual([]);
    for (const f of d) expect(frameRole(r.state[FRAMES], f)).toBe(ROLE_FREE);
  });
});

describe("walkFrom on hand-written entries", () => {
  function ptTx() {
    const g = makeGeometry(config());
    const tx = new Tx(g);
    tx.begin(emptyState(g));
    return tx;
  }

  it("translates a level-skipping PDE (root level 3 -> level-1 table)", () => {
    const tx = ptTx();
    const root = 100, t1 = 101;
    const v = 504; // level-2 index bits are 0
    ptWrite(tx, root, tableIndex(v, 3), amdPdeLo(t1, 1), amdPdeHi(t1));
    ptWrite(tx, t1, tableIndex(v, 1), amdPteLo(7), amdPteHi(7, true, false, true));
    const seen: number[][] = [];
    const w = walkFrom(tx.c[PTMEM], root, 3, v, true, true, new WalkResult(), (l, next, nl) => seen.push([l, next, nl]));
    expect(w.frame).toBe(7);
    expect(w.refs).toBe(2);
    expect(w.level).toBe(1);
    expect(w.pageLog2).toBe(12);
    expect([w.ir, w.iw]).toEqual([true, false]);
    expect(seen).toEqual([[3, t1, 1]]);
  });

  // AMD IOMMU spec: when a PDE skips levels, the IOVA bits that would index the
  // skipped levels must be zero, else the access faults. Regression: walkFrom
  // used to translate page 517 (level-2 index 1) through a level-3 -> level-1
  // PDE as if it were page 5.
  it("faults a level-skipping walk whose skipped index bits are not zero", () => {
    const tx = ptTx();
    const root = 100, t1 = 101;
    const v = 512 + 5; // level-3 index 0, level-2 index 1 (skipped, non-zero), level-1 index 5
    ptWrite(tx, root, tableIndex(v, 3), amdPdeLo(t1, 1), amdPdeHi(t1));
    ptWrite(tx, t1, tableIndex(v, 1), amdPteLo(7), amdPteHi(7, true, true, true));
    const w = walkFrom(tx.c[PTMEM], root, 3, v, true, true, new WalkResult());
    expect(w.frame).toBe(-1);
  });

  it("translates a NextLevel-7 32 KiB leaf replicated 8 times in a level-1 table", () => {
    const tx = ptTx();
    const t1 = 101;
    const base = 16; // 32 KiB aligned
    const lo = amdLargeLeafLo(base, 15), hi = amdLargeLeafHi(base, 15, true, true);
    for (let i = 0; i < 8; i++) ptWrite(tx, t1, 504 + i, lo, hi);
    for (let i = 0; i < 8; i++) {
      const w = walkFrom(tx.c[PTMEM], t1, 1, 504 + i, true, true, new WalkResult());
      expect(w.frame).toBe(base + i);
      expect(w.pageLog2).toBe(15);
      expect(w.level).toBe(1);
      expect(w.refs).toBe(1);
    }
  });

  it("translates a NextLevel-7 4 MiB leaf (2 copies in a level-2 table) and a default 2 MiB leaf (NextLevel 0)", () => {
    const tx = ptTx();
    const root = 100, t2 = 102;
    ptWrite(tx, root, 0, amdPdeLo(t2, 2), amdPdeHi(t2));
    const lo = amdLargeLeafLo(1024, 22), hi = amdLargeLeafHi(1024, 22, true, false);
    ptWrite(tx, t2, 2, lo, hi);
    ptWrite(tx, t2, 3, lo, hi);
    // Default-size leaf at level 2: 2 MiB at frame 4096.
    ptWrite(tx, t2, 5, amdPteLo(4096), amdPteHi(4096, false, true, true));
    const w = new WalkResult();
    walkFrom(tx.c[PTMEM], root, 3, 2 * 512 + 7, true, true, w);
    expect([w.frame, w.level, w.pageLog2, w.refs, w.ir, w.iw]).toEqual([1024 + 7, 2, 22, 2, true, false]);
    walkFrom(tx.c[PTMEM], root, 3, 3 * 512 + 300, true, true, w);
    expect(w.frame).toBe(1024 + 512 + 300);
    walkFrom(tx.c[PTMEM], root, 3, 5 * 512 + 9, true, true, w);
    expect([w.frame, w.level, w.pageLog2, w.ir, w.iw]).toEqual([4096 + 9, 2, 21, false, true]);
  });

  it("ANDs IR/IW down the walk and rejects a PDE that does not go down", () => {
    const tx = ptTx();
    const root = 100, t2 = 102, t1 = 103;
    ptWrite(tx, root, 0, amdPdeLo(t2, 2), amdPdeHi(t2) & ~(1 << 30)); // PDE without IW
    ptWrite(tx, t2, 0, amdPdeLo(t1, 1), amdPdeHi(t1));
    ptWrite(tx, t1, 8, amdPteLo(9), amdPteHi(9, true, true, true));
    const w = walkFrom(tx.c[PTMEM], root, 3, 8, true, true, new WalkResult());
    expect([w.frame, w.ir, w.iw]).toEqual([9, true, false]);
    // A level-2 entry claiming NextLevel 3 is malformed: fault.
    ptWrite(tx, t2, 1, amdPdeLo(t1, 3), amdPdeHi(t1));
    expect(walkFrom(tx.c[PTMEM], root, 3, 512 + 0, true, true, new WalkResult()).frame).toBe(-1);
    // A not-present entry (PR clear) faults even with other bits set.
    ptWrite(tx, t1, 9, amdPteLo(9) & ~1, amdPteHi(9, true, true, true));
    expect(walkFrom(tx.c[PTMEM], root, 3, 9, true, true, new WalkResult()).frame).toBe(-1);
  });

  it("a device access translates through a hand-written NextLevel-7 leaf in its domain and caches it", () => {
    const sys = makeSystem(config(), strict);
    const { tx, obs } = txOn(sys);
    const root = domainRoot(tx.c[DTE], 0);
    const t2 = allocFrames(tx, 0, ROLE_IOMMU_PT, 0, obs);
    const t1 = allocFrames(tx, 0, ROLE_IOMMU_PT, 0, obs);
    ptWrite(tx, root, 0, amdPdeLo(t2, 2), amdPdeHi(t2));
    ptWrite(tx, t2, 0, amdPdeLo(t1, 1), amdPdeHi(t1));
    const base = 16;
    for (let i = 0; i < 8; i++) ptWrite(tx, t1, 504 + i, amdLargeLeafLo(base, 15), amdLargeLeafHi(base, 15, true, false));
    const r = new Runner(sys);
    r.state = tx.commit();
    const s = r.step({ t: "dma", dev: 0, write: false, page: 3, offset: 0, len: 8 });
    expect(s.segFrame).toEqual([base + 3]);
    expect(s.counters[C.walkRefs]).toBe(3);
    expect(r.state[IOTLB][iotlbSlot(sys.g, 0, 507) + 1]).toBe(base + 3);
    expect(r.step({ t: "dma", dev: 0, write: true, page: 3, offset: 0, len: 8 }).fault).toBe(FAULT_PERMISSION);
  });
});

describe("device table modes", () => {
  it("passthrough devices reach physical frames directly", () => {
    const r = Runner.of(passthrough);
    expect(deviceMode(r.state[DTE], 0)).toBe("passthrough");
    const s = r.step({ t: "dma", dev: 1, write: true, page: 5, offset: 16, len: 32 });
    expect(s.fault).toBe(FAULT_NONE);
    expect(s.segFrame).toEqual([5]);
    expect(s.segSource).toEqual([SRC_PASSTHROUGH]);
    expect(s.counters[C.walkRefs]).toBe(0);
    expect(s.post[IOTLB]).toBe(s.pre[IOTLB]);
    // Beyond physical memory: a master abort.
    const { tx } = txOn(r.sys);
    const obs = new Observation();
    deviceAccess(tx, 0, false, 40 * 4096, 4, obs);
    expect(obs.fault).toBe(FAULT_NO_MEMORY);
  });

  it("a blocked device faults on every access", () => {
    const blocked: Policy = { ...strict, name: "blocked-test", attach: () => "blocked" };
    const r = Runner.of(blocked);
    expect(deviceMode(r.state[DTE], 0)).toBe("blocked");
    r.step(MAP64); // map still runs (IOVA bookkeeping), but the device is blocked
    for (const write of [false, true]) {
      const s = r.step({ ...READ0, write });
      expect(s.fault).toBe(FAULT_BLOCKED);
      expect(s.nseg).toBe(0);
    }
  });

  it("a kernel frame is unreachable from a translated domain unless mapped", () => {
    const sys = makeSystem(config(), strict);
    const { tx, obs } = txOn(sys);
    const f = allocFrames(tx, 0, ROLE_KERNEL, 0, obs);
    const o = new Observation();
    for (let p = 0; p < sys.g.winPages; p++) {
      deviceAccess(tx, 0, false, (sys.g.winBase + p) * 4096, 1, o);
      expect(o.fault).toBe(FAULT_NOT_PRESENT);
    }
    expect(f).toBeGreaterThanOrEqual(0);
  });
});

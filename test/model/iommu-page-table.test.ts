// model/iommu-page-table.ts beyond what test/model/iommu.test.ts covers:
// large IOMMU pages (map, the walk through them, unmap of every copy), the
// page sizes offered, the IOVA pages held back under an unlinked table until
// it is freed, which frames are a domain's table frames, and the walker's
// malformed entries. Added for issue 15 part 7 (Stryker survivors of `npm run
// mutation:model -- --mutate model/iommu-page-table.ts`).
import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { amdNextLevel, amdPdeHi, amdPdeLo, amdPteHi, amdPteLo } from "../../model/formats/amd-v1-pte.ts";
import { slPs } from "../../model/formats/vtd-sl-pte.ts";
import { DTE, FRAMES, FRAME_W, PT_W, PTMEM } from "../../model/geometry.ts";
import {
  domainRoot, freeDetachedTables, iommuMapLarge, iommuMapPage, iommuPageSizeOffered, iommuUnmapPages, isDetachedWithTag, isTableFrameOf, tableIndex,
  tableKey, tableKeyLevel, walkFrom, walkMemory, WalkResult,
} from "../../model/iommu-page-table.ts";
import { allocIova } from "../../model/iova-allocator.ts";
import { Observation } from "../../model/observation.ts";
import { ptCount, ptFind, ptWrite } from "../../model/page-table-memory.ts";
import {
  allocFrames, F_DETACHED, frameRole, ROLE_FREE, ROLE_IOMMU_PT, ROLE_KERNEL, ROLE_MORSEL_PT, ROLE_MORSEL_VIEW, setFrame, setFrameData,
} from "../../model/physical-memory.ts";
import { strict } from "../../model/policies/strict.ts";
import { Tx } from "../../model/state.ts";
import { makeSystem } from "../../model/system.ts";
import { config, txOn } from "./helpers.ts";

const VTD = { iommu: "vtd", iommuLevels: 4 } as const;

function sysTx(over = {}) {
  const sys = makeSystem(config(over), strict);
  const { tx } = txOn(sys);
  return { sys, tx, g: sys.g, obs: new Observation() };
}
type T = ReturnType<typeof sysTx>["tx"];

/** The raw entry (lo, hi) at `index` of table frame `table`, or null. */
function entry(tx: T, table: number, index: number): [number, number] | null {
  const p = ptFind(tx.c[PTMEM], table, index);
  return p < 0 ? null : [tx.c[PTMEM][2 + p * PT_W] >>> 0, tx.c[PTMEM][3 + p * PT_W] >>> 0];
}
/** The table frames on the walk of `v` in domain `dom`, by level (the root at iommuLevels). */
function path(tx: T, dom: number, v: number): Record<number, number> {
  const out: Record<number, number> = { [tx.g.cfg.iommuLevels]: domainRoot(tx.c[DTE], dom) };
  walkMemory(tx, tx.c[PTMEM], tx.c[DTE], dom, v, new WalkResult());
  const walk = (l: number, next: number) => (out[l - 1] = next);
  if (tx.g.vtd) return out; // not needed for VT-d here
  walkFrom(tx.c[PTMEM], out[tx.g.cfg.iommuLevels], tx.g.cfg.iommuLevels, v, true, true, new WalkResult(), (l, next) => walk(l, next));
  return out;
}
const frameOf = (tx: T, dom: number, v: number) => walkMemory(tx, tx.c[PTMEM], tx.c[DTE], dom, v, new WalkResult());

describe("large IOMMU pages", () => {
  it("AMD: a 32 KiB page is 8 NextLevel-7 copies in the level-1 table; each 4 KiB page translates; a taken slot refuses it whole", () => {
    const { tx, obs } = sysTx();
    expect(iommuMapLarge(tx, 0, 1024, 64, 15, true, false, obs)).toBe(true);
    expect(obs.counters[C.iommuPteWrites] - obs.counters[C.ptFramesAllocated]).toBe(8);
    const l1 = path(tx, 0, 1024)[1];
    for (let i = 0; i < 8; i++) expect(amdNextLevel(entry(tx, l1, i)![0]), `copy ${i}`).toBe(7);
    expect(entry(tx, l1, 8)).toBeNull();
    for (let i = 0; i < 8; i++) {
      const w = frameOf(tx, 0, 1024 + i);
      expect([w.frame, w.ir, w.iw, w.pageLog2]).toEqual([64 + i, true, false, 15]);
    }
    // A 4 KiB leaf at the third page of the next 32 KiB: that page is refused, nothing written.
    expect(iommuMapPage(tx, 0, 1034, 9, true, true, obs)).toBe(true);
    const before = tx.c[PTMEM].slice();
    const o2 = new Observation();
    expect(iommuMapLarge(tx, 0, 1032, 80, 15, true, true, o2)).toBe(false);
    expect(Array.from(tx.c[PTMEM])).toEqual(Array.from(before));
    expect(o2.counters[C.iommuPteWrites]).toBe(0);
    // The first slot taken refuses it too.
    expect(iommuMapPage(tx, 0, 1040, 9, true, true, obs)).toBe(true);
    expect(iommuMapLarge(tx, 0, 1040, 80, 15, true, true, new Observation())).toBe(false);
    // 4 KiB through iommuMapLarge is iommuMapPage: it rewrites a taken slot.
    expect(iommuMapLarge(tx, 0, 1034, 11, 12, true, true, obs)).toBe(true);
    expect(frameOf(tx, 0, 1034).frame).toBe(11);
  });

  it("AMD: 2 MiB is one NextLevel-0 leaf at level 2, 4 MiB two NextLevel-7 copies; a large leaf in the way refuses a 4 KiB map below it", () => {
    const { tx, obs } = sysTx();
    expect(iommuMapLarge(tx, 0, 512, 512, 21, true, true, obs)).toBe(true);
    const l2 = path(tx, 0, 512)[2];
    expect(amdNextLevel(entry(tx, l2, 1)![0])).toBe(0);
    expect(entry(tx, l2, 2)).toBeNull();
    expect([frameOf(tx, 0, 512 + 77).frame, frameOf(tx, 0, 512 + 77).level]).toEqual([512 + 77, 2]);
    expect(iommuMapLarge(tx, 0, 2048, 1024, 22, true, true, obs)).toBe(true);
    expect([amdNextLevel(entry(tx, l2, 4)![0]), amdNextLevel(entry(tx, l2, 5)![0])]).toEqual([7, 7]);
    expect(entry(tx, l2, 6)).toBeNull();
    expect(frameOf(tx, 0, 2048 + 700).frame).toBe(1024 + 700);
    const pt = tx.c[PTMEM].slice(), fr = tx.c[FRAMES].slice();
    expect(iommuMapPage(tx, 0, 513, 9, true, true, obs)).toBe(false);
    expect(iommuMapPage(tx, 0, 2048 + 600, 9, true, true, obs)).toBe(false);
    expect([Array.from(tx.c[PTMEM]), Array.from(tx.c[FRAMES])]).toEqual([Array.from(pt), Array.from(fr)]);
  });

  it("AMD 4 levels: a 1 GiB leaf at level 3 refuses a 4 KiB map below it without allocating a table", () => {
    const { tx, obs } = sysTx({ iommuLevels: 4 });
    expect(iommuMapLarge(tx, 0, 0, 0, 30, true, true, obs)).toBe(true);
    const fr = tx.c[FRAMES].slice(), pt = tx.c[PTMEM].slice();
    const o = new Observation();
    expect(iommuMapPage(tx, 0, 5, 9, true, true, o)).toBe(false);
    expect(iommuMapLarge(tx, 0, 512, 9, 21, true, true, o)).toBe(false);
    expect(o.counters[C.ptFramesAllocated]).toBe(0);
    expect([Array.from(tx.c[FRAMES]), Array.from(tx.c[PTMEM])]).toEqual([Array.from(fr), Array.from(pt)]);
    expect(frameOf(tx, 0, 5).frame).toBe(5);
  });

  it("VT-d: a 2 MiB page is one PS leaf at level 2; a 4 KiB one has no PS; a PS leaf in the way refuses a 4 KiB map", () => {
    const { tx, obs } = sysTx(VTD);
    expect(iommuMapLarge(tx, 0, 512, 512, 21, true, false, obs)).toBe(true);
    const w = frameOf(tx, 0, 512 + 3);
    expect([w.frame, w.ir, w.iw]).toEqual([515, true, false]);
    expect(iommuMapLarge(tx, 0, 1024 + 3, 7, 12, true, true, obs)).toBe(true);
    expect(frameOf(tx, 0, 1027).frame).toBe(7);
    // Find the leaves: the PS one at level 2, the plain one at level 1.
    const pt = tx.c[PTMEM];
    let ps = 0, plain = 0;
    for (let p = 0; p < pt[0]; p++) {
      const lo = pt[2 + p * PT_W] >>> 0;
      if ((pt[1 + p * PT_W] % 512) === tableIndex(512, 2) && slPs(lo)) ps++;
      if ((pt[1 + p * PT_W] % 512) === tableIndex(1027, 1) && (lo >>> 12) === 7) plain += slPs(lo) ? 10 : 1;
    }
    expect([ps, plain]).toEqual([1, 1]);
    const before = tx.c[PTMEM].slice();
    expect(iommuMapPage(tx, 0, 513, 9, true, true, new Observation())).toBe(false);
    expect(Array.from(tx.c[PTMEM])).toEqual(Array.from(before));
  });

  it("unmap clears a large leaf with every copy, counts one leaf per page, and reclaims the tables it empties", () => {
    for (const [name, over, log2] of [["amd 4 MiB", {}, 22], ["amd 2 MiB", {}, 21], ["vtd 2 MiB", VTD, 21]] as const) {
      const { tx, obs, g } = sysTx(over);
      const v = 2048;
      expect(iommuMapLarge(tx, 0, v, 1024, log2, true, true, obs), name).toBe(true);
      const pages = 2 ** (log2 - 12);
      const ptBefore = tx.c[PTMEM][0];
      const o = new Observation();
      // A page near the end: in the 4 MiB page's second copy, whose first copy must go too.
      expect(iommuUnmapPages(tx, 0, v + pages - 3, 1, 1, o), name).toBe(1);
      expect(frameOf(tx, 0, v).frame, name).toBe(-1);
      expect(frameOf(tx, 0, v + pages - 1).frame, name).toBe(-1);
      const copies = name === "amd 4 MiB" ? 2 : 1;
      // The leaf copies, then the entry of each table the unmap empties (the level-2 table;
      // with 4 levels the level-3 table above it too): every table below the root goes.
      const emptied = g.cfg.iommuLevels - 2;
      expect(o.counters[C.iommuPteWrites], name).toBe(copies + emptied);
      expect(ptBefore - tx.c[PTMEM][0], name).toBe(copies + emptied);
      let detached = 0;
      for (let f = 0; f < g.cfg.frames; f++) if (isDetachedWithTag(tx.c[FRAMES], f, 1)) detached++;
      expect(detached, name).toBe(emptied);
      // Unmapping the rest of it finds nothing more to clear.
      expect(iommuUnmapPages(tx, 0, v, 3, 1, new Observation()), name).toBe(0);
    }
  });

  it("without reclamation, unmapping a large leaf keeps the emptied table linked", () => {
    const { tx, g } = sysTx({ reclaimEmptyTables: false });
    iommuMapLarge(tx, 0, 2048, 1024, 21, true, true, new Observation());
    const o = new Observation();
    expect(iommuUnmapPages(tx, 0, 2048, 2, 1, o)).toBe(1); // two pages of the same leaf: the second finds it gone
    expect(o.counters[C.iommuPteWrites]).toBe(1);
    expect(frameOf(tx, 0, 2048 + 9).frame).toBe(-1);
    let detached = 0;
    for (let f = 0; f < g.cfg.frames; f++) if (isDetachedWithTag(tx.c[FRAMES], f, 1)) detached++;
    expect(detached).toBe(0);
  });

  it("unmapping pages with no leaf clears and counts nothing", () => {
    const { tx } = sysTx();
    iommuMapPage(tx, 0, 505, 9, true, true, new Observation());
    const o = new Observation();
    expect(iommuUnmapPages(tx, 0, 506, 3, 1, o)).toBe(0);
    expect(o.counters[C.iommuPteWrites]).toBe(0);
    expect(frameOf(tx, 0, 505).frame).toBe(9);
    expect(iommuUnmapPages(tx, 0, 505, 1, 1, o)).toBe(1);
    // Leaf, then the level-1 and level-2 tables' entries: three writes.
    expect(o.counters[C.iommuPteWrites]).toBe(3);
  });

  it("page sizes offered: below the root table's span; AMD all but 512 GiB, VT-d 4 KiB, 2 MiB and 1 GiB", () => {
    expect([iommuPageSizeOffered(false, 4, 47), iommuPageSizeOffered(false, 4, 48)]).toEqual([true, false]);
    expect([iommuPageSizeOffered(false, 3, 38), iommuPageSizeOffered(false, 3, 39)]).toEqual([true, false]);
    expect([12, 21, 30, 13, 22].map((l) => iommuPageSizeOffered(true, 4, l))).toEqual([true, true, true, false, false]);
    expect([iommuPageSizeOffered(true, 3, 30), iommuPageSizeOffered(true, 2, 30), iommuPageSizeOffered(true, 2, 21)]).toEqual([true, false, true]);
  });
});

describe("notes, out of memory, a full page-table pool", () => {
  it("with detail, each new table frame and each unlinked one is noted with its domain and level", () => {
    const { tx, g } = sysTx();
    const o = new Observation();
    o.detail = true;
    o.reset();
    iommuMapPage(tx, 1, 505, 9, true, true, o);
    const p = path(tx, 1, 505);
    expect(o.frameNotes).toEqual([
      { frame: p[2], text: "held an IOMMU page table (dom 1, level 2)" },
      { frame: p[1], text: "held an IOMMU page table (dom 1, level 1)" },
    ]);
    o.reset();
    iommuUnmapPages(tx, 1, 505, 1, 1, o);
    expect(o.notes).toEqual([
      `table frame ${p[1]} (dom 1, level 1) is empty: unlinked, to be freed`,
      `table frame ${p[2]} (dom 1, level 2) is empty: unlinked, to be freed`,
    ]);
    expect(g.cfg.iommuLevels).toBe(3);
  });

  it("no free frame for a table: the map fails, linking nothing", () => {
    const { tx } = sysTx();
    const o = new Observation();
    while (allocFrames(tx, 0, ROLE_KERNEL, 0, o) >= 0);
    const pt = Object.entries(tx.c[PTMEM]), fr = Object.entries(tx.c[FRAMES]);
    expect(iommuMapPage(tx, 0, 505, 9, true, true, o)).toBe(false);
    expect(iommuMapLarge(tx, 0, 512, 512, 21, true, true, o)).toBe(false);
    expect([Object.entries(tx.c[PTMEM]), Object.entries(tx.c[FRAMES])]).toEqual([pt, fr]);
  });

  it("a full page-table pool: the leaf cannot be written, the map fails and counts no write", () => {
    const { tx, g } = sysTx();
    const o = new Observation();
    iommuMapPage(tx, 0, 505, 9, true, true, o); // the tables for 504..511 exist
    let i = 0;
    while (ptWrite(tx, g.cfg.frames - 1, i % 512, 1, 0)) i++; // fill the pool with entries of a spare frame
    expect(tx.c[PTMEM][0]).toBe(g.ptCapacity);
    const o2 = new Observation();
    expect(iommuMapPage(tx, 0, 506, 9, true, true, o2)).toBe(false);
    expect(iommuMapLarge(tx, 0, 504, 16, 13, true, true, o2)).toBe(false); // 8 KiB: two copies at level 1
    expect(o2.counters[C.iommuPteWrites]).toBe(0);
    // A page that needs a new table: one frame allocated, its link refused, no further level tried.
    expect(iommuMapPage(tx, 0, 1030, 9, true, true, o2)).toBe(false);
    expect([o2.counters[C.ptFramesAllocated], o2.counters[C.iommuPteWrites]]).toEqual([1, 0]);
    expect(frameOf(tx, 0, 506).frame).toBe(-1);
  });
});

describe("IOVA pages held back under an unlinked table", () => {
  /** The pages allocIova hands out one at a time on a copy of the state. */
  function allocatable(tx: T, dom = 0): number[] {
    const t = new Tx(tx.g);
    t.begin(tx.commit());
    const out: number[] = [];
    for (let v = allocIova(t, dom, 1); v >= 0; v = allocIova(t, dom, 1)) out.push(v);
    return out.sort((a, b) => a - b);
  }
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

  it("a freed table returns its pages unless another unlinked table of the domain still covers them", () => {
    // The window 504..519 straddles two level-1 tables (0..511, 512..1023) under one level-2 table.
    const { tx, g } = sysTx();
    const o = new Observation();
    for (const v of [505, 513, 1030]) iommuMapPage(tx, 0, v, 9, true, true, o);
    expect(allocatable(tx)).toEqual(range(504, 520));
    iommuUnmapPages(tx, 0, 505, 1, 1, o); // level-1 table 0..511 detached, tag 1
    expect(allocatable(tx)).toEqual([505, ...range(512, 520)]);
    iommuUnmapPages(tx, 0, 513, 1, 2, o); // level-1 table 512..1023, tag 2; the level-2 table keeps 1030
    expect(allocatable(tx)).toEqual([505, 513]);
    expect(freeDetachedTables(tx, 1, false, o)).toBe(1);
    // Table 512..1023 is still unlinked, but it does not cover 504..511.
    expect(allocatable(tx)).toEqual([...range(504, 512), 513]);
    expect(freeDetachedTables(tx, 2, false, o)).toBe(1);
    expect(allocatable(tx)).toEqual(range(504, 520));
    expect(g.winBase).toBe(504);
  });

  it("pages under an unlinked level-2 table stay held when a level-1 table below it is freed; another domain's tables do not count", () => {
    const { tx } = sysTx();
    const o = new Observation();
    for (const v of [505, 513]) iommuMapPage(tx, 0, v, 9, true, true, o);
    iommuMapPage(tx, 1, 505, 9, true, true, o);
    iommuUnmapPages(tx, 0, 505, 1, 1, o); // level-1 table 0..511, tag 1
    iommuUnmapPages(tx, 0, 513, 1, 2, o); // level-1 table 512..1023 and the level-2 table, tag 2
    iommuUnmapPages(tx, 1, 505, 1, 3, o); // domain 1's tables, tag 3
    expect(allocatable(tx)).toEqual([513]); // the level-2 table's unmap (513) holds 505 too
    freeDetachedTables(tx, 1, false, o);
    expect(allocatable(tx)).toEqual([513]); // the level-2 table still covers 504..511
    freeDetachedTables(tx, 2, false, o);
    expect(allocatable(tx)).toEqual(range(504, 520)); // domain 1's unlinked tables hold nothing of domain 0
    expect(allocatable(tx, 1)).toEqual([505]);
  });

  it("an unlinked table frame records its level and span (the key), role, tag and domain", () => {
    const { tx } = sysTx();
    const o = new Observation();
    iommuMapPage(tx, 1, 1030, 9, true, true, o);
    iommuMapPage(tx, 1, 2000, 9, true, true, o);
    const l1 = path(tx, 1, 1030)[1];
    expect(tx.c[FRAMES][l1 * FRAME_W + 2]).toBe(tableKey(1, 1030));
    expect(tableKey(1, 1030)).toBe(1 | (2 << 4));
    expect(tableKey(2, 1030)).toBe(2);
    expect(tableKeyLevel(tableKey(2, 600000))).toBe(2);
    expect(tableKey(2, 600000)).toBe(2 | (2 << 4));
    iommuUnmapPages(tx, 1, 1030, 1, 7, o);
    expect([frameRole(tx.c[FRAMES], l1), isDetachedWithTag(tx.c[FRAMES], l1, 7), isDetachedWithTag(tx.c[FRAMES], l1, 6)]).toEqual([ROLE_IOMMU_PT, true, false]);
    expect(tx.c[FRAMES][l1 * FRAME_W + 2]).toBe(tableKey(1, 1030));
    expect((tx.c[FRAMES][l1 * FRAME_W] >>> 16) & 0xff).toBe(1);
    // A frame of another role with the detached flag and the tag is not a detached table.
    const k = allocFrames(tx, 0, ROLE_KERNEL, 0, o);
    setFrame(tx.w(FRAMES), k, ROLE_KERNEL, 0, F_DETACHED, 7 << 8);
    expect(isDetachedWithTag(tx.c[FRAMES], k, 7)).toBe(false);
    expect(freeDetachedTables(tx, 7, false, o)).toBe(1);
    expect(frameRole(tx.c[FRAMES], l1)).toBe(ROLE_FREE);
    expect(frameRole(tx.c[FRAMES], k)).toBe(ROLE_KERNEL);
  });
});

describe("isTableFrameOf", () => {
  it("an IOMMU table of the domain at that level and prefix; a morsel's table or view for any domain", () => {
    const { tx } = sysTx();
    const o = new Observation();
    iommuMapPage(tx, 1, 1030, 9, true, true, o);
    const p = path(tx, 1, 1030);
    const fr = tx.c[FRAMES];
    expect(isTableFrameOf(fr, p[1], 1, 1, 1030)).toBe(true);
    expect(isTableFrameOf(fr, p[1], 1, 1, 1023)).toBe(false); // another prefix
    expect(isTableFrameOf(fr, p[1], 1, 2, 1030)).toBe(false); // another level
    expect(isTableFrameOf(fr, p[1], 0, 1, 1030)).toBe(false); // another domain
    expect(isTableFrameOf(fr, p[2], 1, 2, 1030)).toBe(true);
    for (const role of [ROLE_MORSEL_PT, ROLE_MORSEL_VIEW]) {
      const f = allocFrames(tx, 0, role, 5, o);
      setFrameData(tx.w(FRAMES), f, tableKey(1, 1030));
      expect([isTableFrameOf(tx.c[FRAMES], f, 0, 1, 1030), isTableFrameOf(tx.c[FRAMES], f, 1, 1, 1030)], `role ${role}`).toEqual([true, true]);
      expect(isTableFrameOf(tx.c[FRAMES], f, 0, 1, 1023), `role ${role}`).toBe(false);
    }
    const k = allocFrames(tx, 0, ROLE_KERNEL, 1, o);
    setFrameData(tx.w(FRAMES), k, tableKey(1, 1030));
    expect(isTableFrameOf(tx.c[FRAMES], k, 1, 1, 1030)).toBe(false);
  });
});

describe("walks", () => {
  it("a fresh WalkResult reads as no translation", () => {
    const w = new WalkResult();
    expect([w.frame, w.ir, w.iw, w.refs]).toEqual([-1, false, false, 0]);
  });

  it("a directory entry whose NextLevel is not below its own level faults, even when what it points to would translate", () => {
    const { tx } = sysTx();
    const root = domainRoot(tx.c[DTE], 0);
    const o = new Observation();
    const t2 = allocFrames(tx, 0, ROLE_IOMMU_PT, 0, o), t2b = allocFrames(tx, 0, ROLE_IOMMU_PT, 0, o);
    const v = 512 + 3;
    ptWrite(tx, root, tableIndex(v, 3), amdPdeLo(t2, 2), amdPdeHi(t2));
    ptWrite(tx, t2, tableIndex(v, 2), amdPdeLo(t2b, 2), amdPdeHi(t2b)); // NextLevel 2 in a level-2 table
    ptWrite(tx, t2b, tableIndex(v, 2), amdPteLo(512), amdPteHi(512, true, true, true)); // a 2 MiB leaf
    expect(walkFrom(tx.c[PTMEM], root, 3, v, true, true, new WalkResult()).frame).toBe(-1);
    ptWrite(tx, t2, tableIndex(v, 2), amdPdeLo(t2b, 3), amdPdeHi(t2b)); // NextLevel 3: up
    expect(walkFrom(tx.c[PTMEM], root, 3, v, true, true, new WalkResult()).frame).toBe(-1);
  });

  it("VT-d: walkMemory follows the second-level format and reports the leaf's permissions", () => {
    const { tx } = sysTx(VTD);
    iommuMapPage(tx, 1, 1030, 9, true, false, new Observation());
    iommuMapPage(tx, 1, 1031, 10, false, true, new Observation());
    const a = frameOf(tx, 1, 1030), b = frameOf(tx, 1, 1031);
    expect([a.frame, a.ir, a.iw, b.frame, b.ir, b.iw]).toEqual([9, true, false, 10, false, true]);
    expect(ptCount(tx.c[PTMEM], domainRoot(tx.c[DTE], 1))).toBe(1);
  });

  it("the domain root comes from the domain's own device table entry, ATS bit and all", () => {
    for (const over of [{}, { ats: true }, { devices: 3 }]) {
      const { tx, g } = sysTx(over);
      const roots = Array.from({ length: g.cfg.devices }, (_, d) => domainRoot(tx.c[DTE], d));
      expect(new Set(roots).size).toBe(g.cfg.devices);
      for (const r of roots) expect([frameRole(tx.c[FRAMES], r), tx.c[FRAMES][r * FRAME_W + 2] & 0xf]).toEqual([ROLE_IOMMU_PT, g.cfg.iommuLevels]);
      for (let d = 0; d < g.cfg.devices; d++) expect((tx.c[FRAMES][roots[d] * FRAME_W] >>> 16) & 0xff).toBe(d);
    }
  });
});

import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { DTE, FRAMES, PTMEM } from "../../model/geometry.ts";
import { frameRole, ROLE_FREE, ROLE_MORSEL_VIEW } from "../../model/physical-memory.ts";
import { walkMemory, WalkResult } from "../../model/iommu-page-table.ts";
import { linkIntoDomain, morselCreate, morselFault, morselRoot, morselZap, unlinkFromDomain } from "../../model/morsel.ts";
import { VIEW_AMD_V1, VIEW_EPT, viewDrop, viewFill, viewInvalidatePage, viewTable } from "../../model/morsel-view.ts";
import { ptFind, ptLo, ptHi } from "../../model/page-table-memory.ts";
import { eptExecutable, eptLeafPfn, eptReadable, eptWritable } from "../../model/formats/ept-pte.ts";
import { ptWrite } from "../../model/page-table-memory.ts";
import { morselViews } from "../../model/policies/morsel-views.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { Observation } from "../../model/observation.ts";
import { config, txOn } from "./helpers.ts";

const refinement = findProperty("view-refinement")!;
const walk = new WalkResult();

describe("secondary morsel views", () => {
  const sys = makeSystem(config(), morselViews);

  /** A level-1 morsel at span 1 (pages 512..1023) with pages 0..2 entered: 0 and 1 read-only, 2 writable. */
  function setup() {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, 1, 1, 0, obs, false);
    morselFault(tx, 0, 0, 0, 20, false, true, false, "native", obs);
    morselFault(tx, 0, 0, 1, 21, false, true, false, "native", obs);
    morselFault(tx, 0, 0, 2, 22, true, true, true, "native", obs);
    return { tx, obs, primary: morselRoot(tx, 0, 0) };
  }

  it("an AMD view is built lazily, page by page, with no more rights than the primary, and linked by one entry", () => {
    const { tx, obs, primary } = setup();
    const view = viewTable(tx, primary, VIEW_AMD_V1, 1, 512, obs);
    expect(frameRole(tx.c[FRAMES], view)).toBe(ROLE_MORSEL_VIEW);
    expect(linkIntoDomain(tx, 0, 1, 512, view, obs)).toBe(true);
    expect(walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 0, 513, walk).frame).toBe(-1); // not yet filled
    const w = obs.counters[C.iommuPteWrites];
    expect(viewFill(tx, view, 1, 513, obs)).toBe(true);
    expect(viewFill(tx, view, 1, 514, obs)).toBe(true);
    expect(viewFill(tx, view, 1, 515, obs)).toBe(false); // the primary has no page there
    expect(obs.counters[C.iommuPteWrites] - w).toBe(2);
    expect(walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 0, 513, walk)).toMatchObject({ frame: 21, ir: true, iw: false });
    expect(walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 0, 514, walk)).toMatchObject({ frame: 22, ir: true, iw: true });
    expect(refinement.check(sys, sys.init, { t: "iommu" }, obs, tx.commit())).toBeNull();
  });

  it("an EPT view mirrors the same primary: R, W only where writable, X never (the primary is NX)", () => {
    const { tx, obs, primary } = setup();
    const view = viewTable(tx, primary, VIEW_EPT, 1, 512, obs);
    for (const v of [512, 513, 514]) expect(viewFill(tx, view, 1, v, obs)).toBe(true);
    const lo = (i: number) => ptLo(tx.c[PTMEM], view, i) >>> 0;
    expect([eptReadable(lo(0)), eptWritable(lo(0)), eptExecutable(lo(0))]).toEqual([true, false, false]);
    expect([eptReadable(lo(2)), eptWritable(lo(2))]).toEqual([true, true]);
    expect(eptLeafPfn(lo(2), ptHi(tx.c[PTMEM], view, 2) >>> 0, 1)).toBe(22);
    expect(refinement.check(sys, sys.init, { t: "iommu" }, obs, tx.commit())).toBeNull();
  });

  it("view-refinement catches a view entry the primary no longer has, one that grants more, and one that maps elsewhere", () => {
    for (const fmt of [VIEW_AMD_V1, VIEW_EPT] as const) {
      const { tx, obs, primary } = setup();
      const view = viewTable(tx, primary, fmt, 1, 512, obs);
      for (const v of [512, 513, 514]) viewFill(tx, view, 1, v, obs);
      const base = tx.commit();
      // The primary zaps page 1 but the view keeps it.
      const t1 = txOn(sys, base);
      morselZap(t1.tx, 0, 0, 1, t1.obs);
      expect(refinement.check(sys, base, { t: "iommu" }, t1.obs, t1.tx.commit())?.message).toMatch(/maps frame 21, but the primary \(x86-64\) maps nothing there/);
      // ... and with the view's entry invalidated too, all is well.
      const t2 = txOn(sys, base);
      morselZap(t2.tx, 0, 0, 1, t2.obs);
      viewInvalidatePage(t2.tx, view, 1, 513, t2.obs);
      expect(refinement.check(sys, base, { t: "iommu" }, t2.obs, t2.tx.commit())).toBeNull();
      // A view entry that lets a read-only page be written.
      const t3 = txOn(sys, base);
      const lo = ptLo(base[PTMEM], view, 0) >>> 0, hi = ptHi(base[PTMEM], view, 0) >>> 0;
      ptWrite(t3.tx, view, 0, fmt === VIEW_EPT ? lo | 2 : lo, fmt === VIEW_EPT ? hi : (hi | (1 << 30)) >>> 0);
      expect(refinement.check(sys, base, { t: "iommu" }, t3.obs, t3.tx.commit())?.message).toMatch(/lets frame 20 be written, the primary maps it read-only/);
      // A view entry that maps another frame.
      const t4 = txOn(sys, base);
      ptWrite(t4.tx, view, 0, ((lo & 0xfff) | (23 << 12)) >>> 0, hi);
      expect(refinement.check(sys, base, { t: "iommu" }, t4.obs, t4.tx.commit())?.message).toMatch(/maps frame 23, the primary frame 20/);
    }
  });

  it("a view may be dropped and rebuilt at any time: the rebuilt view has the same entries", () => {
    const { tx, obs, primary } = setup();
    const view = viewTable(tx, primary, VIEW_AMD_V1, 1, 512, obs);
    for (const v of [512, 513, 514]) viewFill(tx, view, 1, v, obs);
    const entries = [0, 1, 2].map((i) => [ptLo(tx.c[PTMEM], view, i), ptHi(tx.c[PTMEM], view, i)]);
    linkIntoDomain(tx, 0, 1, 512, view, obs);
    expect(unlinkFromDomain(tx, 0, 1, 512, obs)).toBe(true); // (the caller invalidates the IOTLB here)
    viewDrop(tx, view, 1, obs);
    expect(frameRole(tx.c[FRAMES], view)).toBe(ROLE_FREE);
    expect(ptFind(tx.c[PTMEM], view, 0)).toBeLessThan(0);
    const again = viewTable(tx, primary, VIEW_AMD_V1, 1, 512, new Observation());
    for (const v of [512, 513, 514]) viewFill(tx, again, 1, v, obs);
    const entries2 = [0, 1, 2].map((i) => [ptLo(tx.c[PTMEM], again, i), ptHi(tx.c[PTMEM], again, i)]);
    expect(entries2.map(([l, h]) => [l & ~0xfffff000, h])).toEqual(entries.map(([l, h]) => [l & ~0xfffff000, h]));
    expect(entries2.map(([l]) => l >>> 12)).toEqual(entries.map(([l]) => l >>> 12));
  });
});

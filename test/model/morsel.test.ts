import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { FRAMES, PTMEM } from "../../model/geometry.ts";
import { type Event } from "../../model/events.ts";
import { frameRole, ROLE_FREE, ROLE_MORSEL_PT } from "../../model/physical-memory.ts";
import { walkMemory, WalkResult } from "../../model/iommu-page-table.ts";
import {
  MORSEL_VPAGE_BASE, morselCreate, morselFault, morselMount, morselMountProcess, morselMounts, morselPut, morselRefs, morselRoot, morselSend,
  morselUnmount, morselUnmountProcess, MOUNT_PROCESS,
} from "../../model/morsel.ts";
import { mmuWalk, MmuWalk } from "../../model/mmu.ts";
import { HDR, H_USER_PML4, DTE } from "../../model/geometry.ts";
import { makeMorselPolicy, morsel } from "../../model/policies/morsel.ts";
import { morselNaiveSharing } from "../../model/policies/broken.ts";
import { makeSystem } from "../../model/system.ts";
import { Executor } from "../../checker/execute.ts";
import { findProperty, PROPERTIES } from "../../properties/index.ts";
import { config, txOn } from "./helpers.ts";

const walk = new WalkResult();

describe("morsel objects", () => {
  const sys = makeSystem(config(), morsel);

  it("created empty, populated by the fault path, mounted into a domain and the process by one entry each, shared by both walkers", () => {
    const { tx, obs } = txOn(sys);
    expect(morselCreate(tx, 0, 0, 1, 1, 0, obs)).toBe(true); // span 1: IOVA pages 512..1023
    const root = morselRoot(tx, 0, 0);
    expect(frameRole(tx.c[FRAMES], root)).toBe(ROLE_MORSEL_PT);
    expect(morselRefs(tx, 0, 0)).toBe(1);
    // Empty: mounted, the device finds nothing.
    expect(morselMount(tx, 0, 0, 0, obs)).toBe(true);
    expect(walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 0, 513, walk).frame).toBe(-1);
    // First touch of page 1 enters frame 20.
    const before = obs.counters[C.mmuPteWrites];
    expect(morselFault(tx, 0, 0, 1, 20, true, true, true, "safe", obs)).toBe(true);
    expect(obs.counters[C.mmuPteWrites]).toBe(before + 1);
    expect(walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 0, 513, walk).frame).toBe(20);
    expect(walk.ir && walk.iw).toBe(true);
    // The same entry through the CPU's tables once mounted into the process.
    expect(morselMountProcess(tx, 0, 0, obs)).toBe(true);
    const mw = mmuWalk(tx.c[PTMEM], tx.c[HDR][H_USER_PML4], MORSEL_VPAGE_BASE + 513, new MmuWalk());
    expect(mw.frame).toBe(20);
    expect(mw.writable).toBe(true);
    expect(morselMounts(tx, 0, 0)).toBe(MOUNT_PROCESS | 1);
    expect(morselRefs(tx, 0, 0)).toBe(3);
    // Unmounted from the process by clearing that one entry: the CPU no longer translates it.
    expect(morselUnmountProcess(tx, 0, 0, obs)).toBe(true);
    expect(mmuWalk(tx.c[PTMEM], tx.c[HDR][H_USER_PML4], MORSEL_VPAGE_BASE + 513, new MmuWalk()).frame).toBe(-1);
    expect(morselMounts(tx, 0, 0)).toBe(1);
  });

  it("a mount costs one entry whatever the morsel holds; sent to another domain; freed at the last reference only", () => {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, 1, 1, 0, obs);
    for (let i = 0; i < 8; i++) morselFault(tx, 0, 0, i, 20 + i, false, true, false, "safe", obs);
    morselMount(tx, 0, 0, 0, obs); // allocates dom 0's level-2 table on the way
    const w0 = obs.counters[C.iommuPteWrites];
    expect(morselSend(tx, 0, 0, 0, 1, obs)).toBe(true);
    expect(walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 0, 514, walk).frame).toBe(-1);
    expect(walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 1, 514, walk).frame).toBe(22);
    expect(obs.counters[C.iommuPteWrites] - w0).toBe(1 + 1 + 1); // dom 1's level-2 table linked, the mount, the unmount
    const root = morselRoot(tx, 0, 0);
    morselPut(tx, 0, 0, obs); // dom 0's mount reference, after the caller's invalidation
    expect(morselUnmount(tx, 0, 0, 1, obs)).toBe(true);
    morselPut(tx, 0, 0, obs);
    expect(frameRole(tx.c[FRAMES], root)).toBe(ROLE_MORSEL_PT); // the creator still holds it
    morselPut(tx, 0, 0, obs);
    expect(frameRole(tx.c[FRAMES], root)).toBe(ROLE_FREE);
    expect(morselRoot(tx, 0, 0)).toBe(-1);
  });

  it("a 1 GiB morsel (level 2) builds its level-1 tables on first touch and is mounted by one level-3 entry", () => {
    const s2 = makeSystem(config(), makeMorselPolicy({ name: "m2", summary: "", level: 2, encoding: "safe", pde: true }));
    const { tx, obs } = txOn(s2);
    expect(morselCreate(tx, 0, 0, 2, 0, 0, obs)).toBe(true);
    morselFault(tx, 0, 0, 504, 20, true, true, true, "safe", obs);
    morselFault(tx, 0, 0, 513, 21, true, true, true, "safe", obs);
    expect(obs.counters[C.ptFramesAllocated]).toBe(3); // root + two level-1 tables
    const w = obs.counters[C.iommuPteWrites];
    expect(morselMount(tx, 0, 0, 0, obs)).toBe(true);
    expect(obs.counters[C.iommuPteWrites] - w).toBe(1);
    expect(walkMemory(s2, tx.c[PTMEM], tx.c[DTE], 0, 504, walk).frame).toBe(20);
    expect(walkMemory(s2, tx.c[PTMEM], tx.c[DTE], 0, 513, walk).frame).toBe(21);
    const pa = findProperty("pte-agreement")!;
    const s = tx.commit();
    expect(pa.check(s2, s2.init, { t: "iommu" }, obs, s)).toBeNull();
  });
});

describe("the morsel policy", () => {
  const map: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4 * 4096, dir: "bidirectional" };
  const events: Event[] = [map, { t: "resume", cpu: 0 }, { t: "dma", dev: 0, write: true, page: 1, offset: 0, len: 1 }, { t: "unmap", cpu: 0, k: 0, free: true }];

  it("maps by one entry, unmaps by unlinking, invalidating leaves and directory entries, waiting; holds its claims", () => {
    const sys = makeSystem(config(), morsel);
    const exec = new Executor(sys, PROPERTIES.filter((p) => morsel.claims.includes(p.name)));
    exec.run([map]);
    expect(exec.totals[C.mmuPteWrites]).toBe(4); // the fault path
    expect(exec.totals[C.iommuPteWrites]).toBe(0);
    const mount = exec.run([map, { t: "resume", cpu: 0 }]);
    expect(exec.totals[C.iommuPteWrites]).toBe(2); // dom 0's level-2 table linked, then the one mount entry
    expect(mount.violation).toBeNull();
    const done = exec.run([...events, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }, { t: "resume", cpu: 0 }]);
    expect(done.violation).toBeNull();
    expect(exec.totals[C.iotlbInvCmds]).toBe(1);
    expect(exec.totals[C.completionWaits]).toBe(1);
    expect(exec.totals[C.ptFramesFreed]).toBe(1);
    expect([...Array(sys.cfg.frames).keys()].some((f) => frameRole(done.final[FRAMES], f) === ROLE_MORSEL_PT)).toBe(false);
  });

  it("naive sharing: the IOMMU grants write where the MMU maps read-only (a page the CPU has not written)", () => {
    const sys = makeSystem(config(), morselNaiveSharing);
    const run = new Executor(sys, [findProperty("pte-agreement")!]).run([{ t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "from-device" }]);
    expect(run.violation?.message).toMatch(/IOMMU grants write \(IW, bit 62, which the MMU reads as protection-key bit 3\) .* read-only/);
  });
});

// Tests for the CPU side in model/mmu.ts: kernel direct map, user page faults, TLB and shootdowns.
import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { FRAMES, HDR, H_KERNEL_PML4, H_USER_PML4, MMU, OBJECTS, PTMEM } from "../../model/geometry.ts";
import { KIND_USER, objCount, objFrame, objKind, objOwner, OWNER_USER } from "../../model/objects.ts";
import { frameRole, ROLE_FREE, ROLE_MMU_PT, ROLE_USER } from "../../model/physical-memory.ts";
import { strict } from "../../model/policies/strict.ts";
import { directMapFrame, mmuWalk, MmuWalk, PAGE_OFFSET_VPAGE, USER_VPAGE_BASE } from "../../model/mmu.ts";
import { makeSystem } from "../../model/system.ts";
import { config, Runner, txOn } from "./helpers.ts";

/** TLB word of (cpu, page): (frame + 1) | writable << 16, or 0. */
function tlb(r: Runner, cpu: number, page: number): number {
  return r.state[MMU][cpu * r.sys.cfg.userPages + page];
}
function userFrame(r: Runner, page: number): number {
  return mmuWalk(r.state[PTMEM], r.state[HDR][H_USER_PML4], USER_VPAGE_BASE + page, new MmuWalk()).frame;
}

describe("kernel direct map", () => {
  for (const frames of [32, 600]) {
    it(`maps every one of ${frames} frames at PAGE_OFFSET + pfn through 2 MiB PS entries`, () => {
      const sys = makeSystem(config({ frames }), strict);
      const { tx } = txOn(sys);
      for (let pfn = 0; pfn < frames; pfn++) if (directMapFrame(tx, pfn) !== pfn) throw new Error(`frame ${pfn} -> ${directMapFrame(tx, pfn)}`);
      const w = mmuWalk(tx.c[PTMEM], tx.c[HDR][H_KERNEL_PML4], PAGE_OFFSET_VPAGE + frames - 1, new MmuWalk());
      expect(w.frame).toBe(frames - 1);
      expect(w.refs).toBe(3); // PML4, PDPT, PD (PS leaf)
      expect(w.writable).toBe(true);
      expect(w.user).toBe(false);
      // Nothing beyond the last 2 MiB region is mapped.
      expect(directMapFrame(tx, Math.ceil(frames / 512) * 512)).toBe(-1);
    });
  }

  it("boots with four CPU page-table frames (kernel PML4, PDPT, PD, user PML4)", () => {
    const sys = makeSystem(config(), strict);
    const fr = sys.init[FRAMES];
    const mmuTables = [];
    for (let f = 0; f < sys.cfg.frames; f++) if (frameRole(fr, f) === ROLE_MMU_PT) mmuTables.push(f);
    expect(mmuTables.length).toBe(4);
    expect(mmuTables).toContain(sys.init[HDR][H_KERNEL_PML4]);
    expect(mmuTables).toContain(sys.init[HDR][H_USER_PML4]);
    // The user PML4 shares the kernel half: the direct map is reachable from it too.
    const w = mmuWalk(sys.init[PTMEM], sys.init[HDR][H_USER_PML4], PAGE_OFFSET_VPAGE + 3, new MmuWalk());
    expect(w.frame).toBe(3);
    expect(w.user).toBe(false);
  });
});

describe("user touch", () => {
  it("the first touch page-faults: builds three tables, allocates and maps a user page, fills the TLB", () => {
    const r = Runner.of(strict);
    const s = r.step({ t: "user-touch", cpu: 0, page: 1, write: true });
    expect(s.noop).toBe(false);
    expect(s.counters[C.walkRefs]).toBe(1); // the user PML4 entry is absent
    expect(s.counters[C.ptFramesAllocated]).toBe(3);
    expect(s.counters[C.mmuPteWrites]).toBe(4);
    const f = userFrame(r, 1);
    expect(f).toBeGreaterThanOrEqual(0);
    expect(frameRole(r.state[FRAMES], f)).toBe(ROLE_USER);
    expect(tlb(r, 0, 1)).toBe((f + 1) | (1 << 16));
    expect(tlb(r, 1, 1)).toBe(0);
    const ob = r.state[OBJECTS];
    const i = [...Array(objCount(ob)).keys()].find((k) => objFrame(ob, k) === f)!;
    expect(objKind(ob, i)).toBe(KIND_USER);
    expect(objOwner(ob, i)).toBe(OWNER_USER);
    const w = mmuWalk(r.state[PTMEM], r.state[HDR][H_USER_PML4], USER_VPAGE_BASE + 1, new MmuWalk());
    expect(w.user && w.writable).toBe(true);
  });

  it("a TLB miss on a mapped page walks 4 levels; a miss on an unmapped page in built tables walks 4 and faults", () => {
    const r = Runner.of(strict);
    r.step({ t: "user-touch", cpu: 0, page: 0, write: false });
    const f0 = userFrame(r, 0);
    const other = r.step({ t: "user-touch", cpu: 1, page: 0, write: false });
    expect(other.counters[C.walkRefs]).toBe(4);
    expect(other.counters[C.ptFramesAllocated]).toBe(0);
    expect(tlb(r, 1, 0)).toBe((f0 + 1) | (1 << 16));
    const fresh = r.step({ t: "user-touch", cpu: 0, page: 2, write: false });
    expect(fresh.counters[C.walkRefs]).toBe(4);
    expect(fresh.counters[C.ptFramesAllocated]).toBe(0); // tables exist already
    expect(fresh.counters[C.mmuPteWrites]).toBe(1);
    expect(userFrame(r, 2)).not.toBe(f0);
  });

  it("a second touch on the same CPU hits the TLB: no walk, same state", () => {
    const r = Runner.of(strict);
    r.step({ t: "user-touch", cpu: 0, page: 1, write: false });
    const s = r.step({ t: "user-touch", cpu: 0, page: 1, write: true });
    expect(s.noop).toBe(false);
    expect(s.counters[C.walkRefs]).toBe(0);
    expect(s.post).toBe(s.pre);
  });

  it("rolls back a page fault that runs out of memory", () => {
    const r = Runner.of(strict, { frames: 8, maxOrder: 3 }); // boot uses 6 of 8 frames; a fault needs 4
    const s = r.step({ t: "user-touch", cpu: 0, page: 0, write: true });
    expect(s.noop).toBe(true);
    expect(s.reason).toMatch(/out of memory/);
    expect(s.post).toBe(s.pre);
  });

  it("is a no-op in a model without user pages", () => {
    const r = Runner.of(strict, { userPages: 0 });
    for (const e of [{ t: "user-touch", cpu: 0, page: 0, write: true }, { t: "user-unmap", cpu: 0, page: 0 }] as const) {
      const s = r.step(e);
      expect(s.noop).toBe(true);
      expect(s.post).toBe(s.pre);
    }
  });
});

describe("user unmap", () => {
  it("clears the PTE, frees the frame, flushes every TLB and counts one shootdown per other CPU that ran the process", () => {
    const r = Runner.of(strict, { cpus: 4 });
    r.step({ t: "user-touch", cpu: 0, page: 3, write: true });
    r.step({ t: "user-touch", cpu: 2, page: 3, write: false });
    r.step({ t: "user-touch", cpu: 1, page: 0, write: false }); // cpu1 ran the process, no TLB entry for page 3
    const f = userFrame(r, 3);
    const objs = objCount(r.state[OBJECTS]);
    const s = r.step({ t: "user-unmap", cpu: 0, page: 3 });
    expect(s.noop).toBe(false);
    expect(s.counters[C.mmuPteWrites]).toBe(1);
    expect(s.counters[C.tlbShootdowns]).toBe(2); // cpus 1 and 2 (cpu 3 never ran it)
    expect(userFrame(r, 3)).toBe(-1);
    expect(frameRole(r.state[FRAMES], f)).toBe(ROLE_FREE);
    expect(objCount(r.state[OBJECTS])).toBe(objs - 1);
    for (let cpu = 0; cpu < 4; cpu++) expect(tlb(r, cpu, 3)).toBe(0);
    expect(tlb(r, 1, 0)).not.toBe(0); // other pages keep their entries
    // The next touch faults again and gets a page back (LIFO: the same frame).
    r.step({ t: "user-touch", cpu: 0, page: 3, write: true });
    expect(userFrame(r, 3)).toBe(f);
  });

  it("counts no shootdown when only the unmapping CPU ran the process", () => {
    const r = Runner.of(strict);
    r.step({ t: "user-touch", cpu: 1, page: 0, write: true });
    expect(r.step({ t: "user-unmap", cpu: 1, page: 0 }).counters[C.tlbShootdowns]).toBe(0);
  });

  it("is a no-op for a page that is not mapped", () => {
    const r = Runner.of(strict);
    r.step({ t: "user-touch", cpu: 0, page: 0, write: true });
    const s = r.step({ t: "user-unmap", cpu: 0, page: 1 });
    expect(s.noop).toBe(true);
    expect(s.reason).toMatch(/not mapped/);
    expect(s.post).toBe(s.pre);
  });
});

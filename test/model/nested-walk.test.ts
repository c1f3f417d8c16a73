// Two-dimensional walks (model/nested-walk.ts): the reference count of a walk
// that misses every cache is (n+1)(m+1)-1, and the walk reaches the frame the
// two stages compose to.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { C, emptyCounters } from "../../model/counters.ts";
import {
  AMD_V1_STAGE, EPT_STAGE, NestedSpace, TableMemory, X86_STAGE, nestedWalkRefs, walkStage,
} from "../../model/nested-walk.ts";
import { eptIsLeaf, eptMemType, eptReadable, eptWritable } from "../../model/formats/ept-pte.ts";

/** A guest with one data page: guest page `gva` -> gPA frame `gpa` -> host frame `hpa`. */
function space(guest = X86_STAGE, n = 4, host = EPT_STAGE, m = 4, gva = 0x12345, gpa = 0x80000, hpa = 0x90000): NestedSpace {
  const s = new NestedSpace(guest, n, host, m);
  s.mapHost(gpa, hpa);
  s.mapGuest(gva, gpa);
  return s;
}

describe("two-dimensional walk", () => {
  it("4-level guest over 4-level EPT: 24 references (Stojkovic et al.: 'up to twenty-four')", () => {
    const s = space();
    const counters = emptyCounters();
    const w = s.walk(0x12345, counters);
    expect(w).toEqual({ hpa: 0x90000, gpa: 0x80000, refs: 24, fault: "none" });
    expect(counters[C.walkRefs]).toBe(24);
    expect(nestedWalkRefs(4, 4)).toBe(24);
  });

  it("5-level guest over 5-level EPT: 35 references; 4x5 and 5x4: 29", () => {
    expect(space(X86_STAGE, 5, EPT_STAGE, 5).walk(0x12345).refs).toBe(35);
    expect(space(X86_STAGE, 4, EPT_STAGE, 5).walk(0x12345).refs).toBe(29);
    expect(space(X86_STAGE, 5, EPT_STAGE, 4).walk(0x12345).refs).toBe(29);
    expect([nestedWalkRefs(5, 5), nestedWalkRefs(4, 5), nestedWalkRefs(5, 4)]).toEqual([35, 29, 29]);
  });

  it("guest IOMMU (x86-64 format, AMD v2 / VT-d first stage) over a 4-level host AMD v1 table: 24", () => {
    const s = space(X86_STAGE, 4, AMD_V1_STAGE, 4);
    expect(s.walk(0x12345)).toEqual({ hpa: 0x90000, gpa: 0x80000, refs: 24, fault: "none" });
    expect(space(X86_STAGE, 5, AMD_V1_STAGE, 5).walk(0x12345).refs).toBe(35);
  });

  it("a one-stage walk makes one reference per level", () => {
    const s = space();
    expect(walkStage(s.mem, EPT_STAGE, s.hostRoot, 4, 0x80000)).toEqual({ pfn: 0x90000, refs: 4 });
  });

  it("host 2 MiB EPT leaves shorten every host walk by one reference: 4x3 + 3 = 19", () => {
    const s = new NestedSpace(X86_STAGE, 4, EPT_STAGE, 4);
    s.mapHost(0x80000, 0x90000, 2); // gPA 0x80000000.. 2 MiB -> hPA 0x90000000
    // Guest tables themselves are on 4 KiB EPT pages (their host walk stays 4): 4*(4+1) + 3 = 23.
    s.mapGuest(0x12345, 0x80007);
    const w = s.walk(0x12345);
    expect(w.hpa).toBe(0x90007);
    expect(w.refs).toBe(4 * 5 + 3);
    // The EPT leaf is bit-exact: a large leaf, RW, write-back.
    const i = EPT_STAGE.index(0x80000, 2);
    const walk1 = walkStage(s.mem, EPT_STAGE, s.hostRoot, 4, 0x80000);
    expect(walk1.refs).toBe(3);
    let t = s.hostRoot;
    for (let level = 4; level > 2; level--) t = EPT_STAGE.nextPfn(s.mem.lo(t, EPT_STAGE.index(0x80000, level)), s.mem.hi(t, EPT_STAGE.index(0x80000, level)));
    const lo = s.mem.lo(t, i);
    expect(eptIsLeaf(lo, 2) && eptReadable(lo) && eptWritable(lo) && eptMemType(lo) === 6).toBe(true);
  });

  it("faults name their stage, and references stop at the fault", () => {
    const s = space();
    const g = s.walk(0x999999); // no guest mapping: the guest root's entry is read, then the walk stops
    expect(g.fault).toBe("guest");
    expect(g.hpa).toBe(-1);
    const h = new NestedSpace(X86_STAGE, 4, EPT_STAGE, 4);
    h.mapGuest(0x1, 0x777); // gPA 0x777 never mapped in the second stage
    const w = h.walk(0x1);
    // 4 guest levels x (4 + 1), then the data's EPT walk stops at the absent level-2 entry: 20 + 3.
    expect(w).toEqual({ hpa: -1, gpa: 0x777, refs: 23, fault: "host" });
  });

  test.prop([
    fc.integer({ min: 4, max: 5 }),
    fc.integer({ min: 4, max: 5 }),
    fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 36 - 1 }), { minLength: 1, maxLength: 6 }),
  ])("every mapped page translates to its host frame in exactly (n+1)(m+1)-1 references", (n, m, gvas) => {
    const s = new NestedSpace(X86_STAGE, n, EPT_STAGE, m);
    gvas.forEach((gva, i) => {
      s.mapHost(0x40000 + i, 0x50000 + 3 * i);
      s.mapGuest(gva, 0x40000 + i);
    });
    gvas.forEach((gva, i) => {
      const w = s.walk(gva);
      expect(w.hpa).toBe(0x50000 + 3 * i);
      expect(w.refs).toBe(nestedWalkRefs(n, m));
    });
  });

  it("TableMemory reads zero where nothing was written", () => {
    const mem = new TableMemory(5);
    expect(mem.alloc()).toBe(5);
    expect(mem.lo(99, 3)).toBe(0);
    mem.write(99, 3, 0xffffffff, 1);
    expect([mem.lo(99, 3), mem.hi(99, 3), mem.size]).toEqual([0xffffffff, 1, 2]);
  });
});

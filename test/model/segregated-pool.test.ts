/**
 * The segregated pool allocator (model/allocators/segregated-pool.ts) that
 * DAMN builds on: compound pages mapped for good, page_frag carving, per-page
 * reference counts, and the segregation invariant.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, PAGE_SIZE } from "../../model/config.ts";
import { C } from "../../model/counters.ts";
import { FRAMES } from "../../model/geometry.ts";
import { Kernel } from "../../model/kernel.ts";
import { Observation } from "../../model/observation.ts";
import { frameAux, frameRole, ROLE_FREE, ROLE_IO_POOL } from "../../model/physical-memory.ts";
import { damn } from "../../model/policies/damn.ts";
import { makeSystem } from "../../model/system.ts";
import { Tx } from "../../model/state.ts";
import { walkMemory, WalkResult } from "../../model/iommu-page-table.ts";
import { PTMEM, DTE } from "../../model/geometry.ts";
import { type PoolLayout, poolAlloc, poolFrame, poolIova, poolPut, poolRefs } from "../../model/allocators/segregated-pool.ts";

const L: PoolLayout = { base: 0, order: 1, maxCompound: 2 };

function kernel() {
  const sys = makeSystem(DEFAULT_CONFIG, damn);
  const tx = new Tx(sys.g);
  tx.begin(sys.init);
  const obs = new Observation();
  return { sys, tx, obs, k: new Kernel(tx, obs) };
}

describe("segregated pool", () => {
  it("grows by a compound page from the page allocator, every page mapped for the device at consecutive IOVAs", () => {
    const { sys, tx, obs, k } = kernel();
    const a = poolAlloc(k, L, 1, 1000);
    expect(a).toBeGreaterThan(0);
    const f = Math.floor(a / PAGE_SIZE);
    const head = f - (f % 2);
    const w = new WalkResult();
    for (const p of [head, head + 1]) {
      expect(frameRole(tx.c[FRAMES], p)).toBe(ROLE_IO_POOL);
      expect(frameAux(tx.c[FRAMES], p)).toBe(1);
      expect(poolFrame(k, 1, p)).toBe(true);
      expect(poolFrame(k, 0, p)).toBe(false);
      // The page's own metadata gives its IOVA, and the IOMMU translates that IOVA to the page.
      walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 1, poolIova(k, p), w);
      expect(w.frame).toBe(p);
      expect([w.ir, w.iw]).toEqual([true, true]);
    }
    expect(poolIova(k, head + 1)).toBe(poolIova(k, head) + 1);
    expect(obs.counters[C.iommuPteWrites]).toBeGreaterThanOrEqual(2);
    expect(obs.counters[C.iotlbInvCmds]).toBe(0);
  });

  it("page_frag carves downward in one page, then takes the next free page of the pool", () => {
    const { k } = kernel();
    const got = [0, 1, 2, 3, 4].map(() => poolAlloc(k, L, 0, 1000));
    const f = Math.floor(got[0] / PAGE_SIZE);
    expect(got.slice(0, 4)).toEqual([1, 2, 3, 4].map((i) => f * PAGE_SIZE + PAGE_SIZE - 1000 * i));
    expect(poolRefs(k, f)).toBe(4);
    // 96 bytes are left below the fourth buffer: the fifth starts the pool's other page.
    expect(Math.floor(got[4] / PAGE_SIZE)).toBe(f ^ 1);
    expect(got[4] % PAGE_SIZE).toBe(PAGE_SIZE - 1000);
  });

  it("a put drops one reference per page; a page without references stays in the pool, mapped, and is reused", () => {
    const { k, tx } = kernel();
    const a = poolAlloc(k, L, 0, 2048);
    const f = Math.floor(a / PAGE_SIZE);
    const iova = poolIova(k, f);
    poolPut(k, L, 0, a, 2048, "keep-in-pool");
    expect(poolRefs(k, f)).toBe(0);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_IO_POOL);
    expect(poolIova(k, f)).toBe(iova);
    // Nothing live in the page: the next buffer starts again at its end.
    expect(poolAlloc(k, L, 0, 2048)).toBe(a);
  });

  it("buffers above a page take a whole free compound page; above a compound page, none", () => {
    const { k } = kernel();
    const big = poolAlloc(k, L, 0, 6000);
    expect(big % (2 * PAGE_SIZE)).toBe(0);
    const f = big / PAGE_SIZE;
    expect([poolRefs(k, f), poolRefs(k, f + 1)]).toEqual([1, 1]);
    expect(poolAlloc(k, L, 0, 2 * PAGE_SIZE + 1)).toBe(-1);
    // A small buffer cannot go into the busy compound page: the pool grows (maxCompound 2).
    const small = poolAlloc(k, L, 0, 64);
    expect(Math.floor(small / PAGE_SIZE) >> 1).not.toBe(f >> 1);
    // The pool is full: a second big buffer finds no free compound page and may not grow.
    expect(poolAlloc(k, L, 0, 6000)).toBe(-1);
    poolPut(k, L, 0, big, 6000, "keep-in-pool");
    expect(poolAlloc(k, L, 0, 6000)).toBe(big);
  });

  it("the broken put returns an emptied compound page to the page allocator while the IOMMU still maps it", () => {
    const { sys, k, tx } = kernel();
    const a = poolAlloc(k, L, 0, 64);
    const f = Math.floor(a / PAGE_SIZE);
    const iova = poolIova(k, f);
    poolPut(k, L, 0, a, 64, "free-to-buddy");
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_FREE);
    const w = new WalkResult();
    walkMemory(sys, tx.c[PTMEM], tx.c[DTE], 0, iova, w);
    expect(w.frame).toBe(f);
  });
});

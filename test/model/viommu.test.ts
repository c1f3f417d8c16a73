// viommu (model/policies/viommu.ts): a guest's strict policy through an
// emulated IOMMU in caching mode. Every map and every unmap exits to the VMM;
// the host table follows strict's order, so the state is strict's.

import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { Observation } from "../../model/observation.ts";
import { strict } from "../../model/policies/strict.ts";
import { viommu } from "../../model/policies/viommu.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { type State } from "../../model/state.ts";
import { FRAMES, FRAME_W } from "../../model/geometry.ts";
import { pinCount } from "../../model/pinning.ts";
import { costReport } from "../../checker/cost-report.ts";
import { COST_CONFIG, findWorkload } from "../../checker/workloads.ts";
import { defaultCosts } from "../../costs/cost-table.ts";

const EVENTS: Event[] = [
  { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 2048, dir: "from-device" },
  { t: "dma", dev: 0, write: true, page: 0, offset: 0, len: 64 },
  { t: "unmap", cpu: 0, k: 0, free: true },
  { t: "iommu" },
  { t: "iommu" },
  { t: "resume", cpu: 0 },
];

function run(policy = viommu): { exits: number[]; states: unknown[] } {
  const sys = makeSystem(DEFAULT_CONFIG, policy);
  const obs = new Observation();
  const st = new Stepper(sys, obs);
  let s = sys.init;
  const exits: number[] = [];
  const states: unknown[] = [];
  for (const e of EVENTS) {
    s = st.step(s, e);
    expect(obs.noop, `${e.t} applied`).toBe(false);
    exits.push(obs.counters[C.vmExits]);
    states.push(s);
  }
  return { exits, states };
}

describe("viommu", () => {
  it("one VM exit when the map starts and one when the unmap starts; none for DMA, the IOMMU or the resume", () => {
    expect(run().exits).toEqual([1, 0, 1, 0, 0, 0]);
  });

  it("the host state after every step is strict's but for the VMM's pins (the guest's table is the shadowed one)", () => {
    const v = run(viommu).states as State[];
    const s = run(strict).states as State[];
    const pins = (st: State) => Array.from({ length: DEFAULT_CONFIG.frames }, (_, f) => pinCount(st[FRAMES], f));
    const unpinned = (st: State) => st.map((c, i) => (i === FRAMES ? c.map((w, j) => (j % FRAME_W === 1 && j < DEFAULT_CONFIG.frames * FRAME_W ? w & ~0xffff : w)) : c));
    for (let i = 0; i < v.length; i++) expect(unpinned(v[i])).toEqual(unpinned(s[i]));
    // Pinned from the map until the unmap returns (after the host invalidation), then unpinned.
    expect(pins(v[0]).reduce((a, b) => a + b)).toBe(1);
    expect(pins(v[4]).reduce((a, b) => a + b)).toBe(1);
    expect(pins(v[5]).reduce((a, b) => a + b)).toBe(0);
    expect(pins(s[0]).reduce((a, b) => a + b)).toBe(0);
    expect(run(strict).exits).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("cost: at least one exit per map and per unmap, and net-rx is a large multiple of native strict", () => {
    const rows = costReport([strict, viommu], [findWorkload("net-rx")!], defaultCosts(), 50);
    const [st, vi] = rows;
    expect(vi.counters.vmExits).toBeGreaterThanOrEqual(2);
    expect(vi.counters.pins).toBe(1);
    expect(vi.counters.unpins).toBe(1);
    expect(vi.counters.containerLocks).toBe(2); // VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA, each under the container lock
    expect(st.counters.vmExits).toBe(0);
    // The VMM walks the guest's table for the map and for the unmap: one reference per level per page.
    expect(vi.counters.walkRefs - st.counters.walkRefs).toBe(2 * COST_CONFIG.iommuLevels);
    expect(vi.nsPerIo / st.nsPerIo).toBeGreaterThan(4);
  });
});

// Tests for the strict unmap state machine (model/policies/strict.ts) and how
// iotlb-coherence (properties/iotlb-coherence.ts) judges accesses around it.
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { cmdCount, completionDone } from "../../model/command-queue.ts";
import { C } from "../../model/counters.ts";
import { MS_FREE, MS_MAPPED, MS_UNMAPPING, mStatus } from "../../model/dma-mapping.ts";
import { type Event } from "../../model/events.ts";
import { CALLS, CALL_W, CMDQ, CMD_W, FRAMES, IOVA, MAPS } from "../../model/geometry.ts";
import { descGran, descType, GRAN_PAGE, iotlbIh, QI_IOTLB_TYPE } from "../../model/formats/vtd-descriptor.ts";
import { fqCount } from "../../model/flush-queue.ts";
import { Kernel } from "../../model/kernel.ts";
import { Observation } from "../../model/observation.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { iovaAllocated } from "../../model/iova-allocator.ts";
import { FAULT_NONE, FAULT_NOT_PRESENT, SRC_IOTLB } from "../../model/observation.ts";
import { frameRole, ROLE_FREE, ROLE_SLAB } from "../../model/physical-memory.ts";
import { strictWaitBeforeInvalidate } from "../../model/policies/broken.ts";
import { linuxPdeRule, MAP_NP_FLUSH, MAP_NP_WAIT, strict, UNMAP_START, UNMAP_WAIT, unmapStart } from "../../model/policies/strict.ts";
import { OP_IDLE, OP_MAP, OP_UNMAP } from "../../model/system.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { iotlbCoherence } from "../../properties/iotlb-coherence.ts";
import { Runner } from "./helpers.ts";

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "bidirectional" };
// The first one-page map gets the window's top page (top-down allocation): IOVA page 519, window page 15.
const READ: Event = { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 64 };
const UNMAP: Event = { t: "unmap", cpu: 0, k: 0, free: true };
const IOMMU: Event = { t: "iommu" };
const RESUME: Event = { t: "resume", cpu: 0 };

function call(r: Runner, ctx: number): [number, number] {
  return [r.state[CALLS][ctx * CALL_W], r.state[CALLS][ctx * CALL_W + 1]];
}
/** iotlb-coherence on the last step of the runner. */
function coherence(r: Runner) {
  const last = r.log[r.log.length - 1];
  return iotlbCoherence.check(r.sys, last.pre, last.event, r.obs, last.post);
}

describe("strict unmap", () => {
  it("blocks in MS_UNMAPPING until two iommu events and a resume complete it", () => {
    const r = Runner.of(strict);
    r.steps([MAP, READ]);
    const frame = r.log[1].segFrame[0];
    const u = r.step(UNMAP);
    expect(mStatus(r.state[MAPS], 0)).toBe(MS_UNMAPPING);
    expect(call(r, 0)).toEqual([OP_UNMAP, UNMAP_WAIT]);
    expect(u.counters[C.iotlbInvCmds]).toBe(1);
    expect(u.counters[C.completionWaits]).toBe(1);
    expect(cmdCount(r.state[CMDQ])).toBe(2);
    expect(iovaAllocated(r.sys, r.state[IOVA], 0, 519)).toBe(true);
    expect(frameRole(r.state[FRAMES], frame)).toBe(ROLE_SLAB); // the driver has not got its buffer back

    r.step(IOMMU); // INVALIDATE_IOMMU_PAGES
    const early = r.step(RESUME); // the wait has not executed: still blocked, nothing changes
    expect(early.post).toBe(early.pre);
    expect(call(r, 0)).toEqual([OP_UNMAP, UNMAP_WAIT]);
    r.step(IOMMU); // COMPLETION_WAIT
    expect(completionDone(r.tx(), 0)).toBe(true);
    const done = r.step(RESUME);
    expect(done.counters[C.ptFramesFreed]).toBe(2);
    expect(call(r, 0)).toEqual([OP_IDLE, 0]);
    expect(mStatus(r.state[MAPS], 0)).toBe(MS_FREE);
    expect(iovaAllocated(r.sys, r.state[IOVA], 0, 519)).toBe(false);
    expect(frameRole(r.state[FRAMES], frame)).toBe(ROLE_FREE); // freed by the driver once unmap returned
  });

  it("an access between the unmap and the invalidation translates through the IOTLB and is not an iotlb-coherence violation", () => {
    const r = Runner.of(strict);
    r.steps([MAP, READ, UNMAP]);
    const s = r.step(READ);
    expect(s.fault).toBe(FAULT_NONE);
    expect(s.segSource).toEqual([SRC_IOTLB]);
    expect(mStatus(s.post[MAPS], 0)).toBe(MS_UNMAPPING);
    expect(coherence(r)).toBeNull();
  });

  it("once the invalidation has executed, and after the unmap returned, the same access is an IO page fault", () => {
    const r = Runner.of(strict);
    r.steps([MAP, READ, UNMAP, IOMMU]);
    expect(r.step(READ).fault).toBe(FAULT_NOT_PRESENT);
    r.steps([IOMMU, RESUME]);
    const after = r.step(READ);
    expect(after.fault).toBe(FAULT_NOT_PRESENT);
    expect(after.nseg).toBe(0);
    expect(coherence(r)).toBeNull();
  });

  it("the whole scenario holds every property strict claims", () => {
    const r = Runner.of(strict);
    const evs: Event[] = [MAP, READ, UNMAP, READ, IOMMU, READ, IOMMU, RESUME, READ, MAP, READ];
    const claimed = PROPERTIES.filter((p) => strict.claims.includes(p.name));
    expect(claimed.map((p) => p.name)).toContain("iotlb-coherence");
    expect(new Executor(r.sys, claimed).run(evs).violation).toBeNull();
  });

  it("with the wait queued before the invalidation (broken), the access after unmap returned is a stale IOTLB hit", () => {
    const r = Runner.of(strictWaitBeforeInvalidate);
    r.steps([MAP, READ, UNMAP, IOMMU, RESUME]); // the COMPLETION_WAIT ran first: unmap returned
    expect(call(r, 0)[0]).toBe(OP_IDLE);
    const s = r.step(READ);
    expect(s.segSource).toEqual([SRC_IOTLB]);
    const v = coherence(r);
    expect(v?.property).toBe("iotlb-coherence");
    expect(v?.message).toMatch(/already returned/);
    const ex = new Executor(r.sys, [iotlbCoherence]).run([MAP, READ, UNMAP, IOMMU, RESUME, READ]);
    expect(ex.violation?.step).toBe(5);
  });

  it("waits at UNMAP_START, touching nothing, while the command buffer lacks room for its two commands", () => {
    const r = Runner.of(strict, { cpus: 3, cmdQueueEntries: 4 });
    r.steps([
      { ...MAP, cpu: 0 }, { ...MAP, cpu: 0 }, { ...MAP, cpu: 0 },
      READ,
      { t: "unmap", cpu: 0, k: 1, free: false },
      { t: "unmap", cpu: 1, k: 1, free: false },
    ]);
    expect(cmdCount(r.state[CMDQ])).toBe(4);
    const u = r.step({ t: "unmap", cpu: 2, k: 0, free: false }); // the only MS_MAPPED one: mapping #0 (IOVA 519)
    expect(u.noop).toBe(false);
    expect(call(r, 2)).toEqual([OP_UNMAP, UNMAP_START]);
    expect(mStatus(r.state[MAPS], 0)).toBe(MS_UNMAPPING);
    expect(u.counters[C.iommuPteWrites]).toBe(0); // leaves not cleared yet
    // The device still reaches it through memory and caches: not stale, the unmap has not returned.
    expect(r.step(READ).fault).toBe(FAULT_NONE);
    r.step(IOMMU);
    const wait = r.step({ t: "resume", cpu: 2 }); // one free slot: still waiting, nothing written
    expect(wait.post).toBe(wait.pre);
    expect(call(r, 2)).toEqual([OP_UNMAP, UNMAP_START]);
    r.step(IOMMU);
    const go = r.step({ t: "resume", cpu: 2 });
    expect(go.counters[C.iotlbInvCmds]).toBe(1);
    expect(call(r, 2)).toEqual([OP_UNMAP, UNMAP_WAIT]);
  });

  it("resume picks the first busy context at or after the one named, cyclically", () => {
    const r = Runner.of(strict, { cpus: 3 });
    r.steps([{ ...MAP, cpu: 0 }, { ...MAP, cpu: 0 }, { t: "unmap", cpu: 1, k: 0, free: false }, IOMMU, IOMMU]);
    expect(call(r, 1)[0]).toBe(OP_UNMAP);
    // ctx 2 and the timer context 3 are idle: the search wraps to ctx 1.
    r.step({ t: "resume", cpu: 2 });
    expect(call(r, 1)[0]).toBe(OP_IDLE);
    expect(mStatus(r.state[MAPS], 0)).toBe(MS_FREE);
    expect(mStatus(r.state[MAPS], 1)).toBe(MS_MAPPED);
  });
});

// What the AMD scenarios above leave open (issue 15/16, mutation testing):
// the PDE rule on VT-d (IH unless the unmap freed tables), VT-d caching mode's
// invalidation after a map, a map that finds no IOVA, lazy falling back to
// strict for an untrusted device, and what the two policies declare.
describe("strict on VT-d, and what strict and lazy declare", () => {
  /** The IOTLB descriptors queued now: [granularity, IH] each. */
  function iotlbDescs(r: Runner): [number, boolean][] {
    const q = r.state[CMDQ];
    const out: [number, boolean][] = [];
    for (let i = 0; i < q[1]; i++) {
      const d0 = q[2 + i * CMD_W] >>> 0, d2 = q[2 + i * CMD_W + 2] >>> 0;
      if (descType(d0) === QI_IOTLB_TYPE) out.push([descGran(d0), iotlbIh(d2)]);
    }
    return out;
  }
  const VTD = { iommu: "vtd", iommuLevels: 4 } as const;

  it("VT-d: an unmap that frees no table keeps the paging-structure caches (IH); one that frees tables does not", () => {
    const r = Runner.of(strict, VTD);
    r.steps([MAP, { ...MAP, size: 4096, src: "pages" }]); // two pages in one level-1 table
    r.step({ t: "unmap", cpu: 0, k: 1, free: false });
    expect(iotlbDescs(r)).toEqual([[GRAN_PAGE, true]]);
    expect(linuxPdeRule(new Kernel(r.tx(), new Observation()))).toBe("on-reclaim");
    r.steps([IOMMU, IOMMU, RESUME]);
    expect(mStatus(r.state[MAPS], 1)).toBe(MS_FREE);
    r.step({ t: "unmap", cpu: 0, k: 0, free: false }); // the last page: its tables go
    expect(iotlbDescs(r)).toEqual([[GRAN_PAGE, false]]);
    const amd = Runner.of(strict);
    expect(linuxPdeRule(new Kernel(amd.tx(), new Observation()))).toBe("always");
  });

  it("unmapStart with the rule 'never' keeps the directory entries even when tables are freed; 'always' drops them", () => {
    for (const [rule, ih] of [["never", true], ["always", false], ["on-reclaim", false]] as const) {
      const r = Runner.of(strict, VTD);
      r.step(MAP);
      const k = new Kernel(r.tx(), new Observation());
      expect(unmapStart(k, 0, rule)).toBe(UNMAP_WAIT);
      r.state = k.tx.commit();
      expect(iotlbDescs(r), rule).toEqual([[GRAN_PAGE, ih]]);
    }
  });

  it("VT-d caching mode: the map invalidates the range it filled and waits before it returns", () => {
    const r = Runner.of(strict, { ...VTD, cachingMode: true });
    const m = r.step(MAP);
    expect(m.counters[C.iotlbInvCmds]).toBe(1);
    expect(iotlbDescs(r)).toEqual([[GRAN_PAGE, false]]);
    expect(cmdCount(r.state[CMDQ])).toBe(2);
    expect(call(r, 0)).toEqual([OP_MAP, MAP_NP_WAIT]);
    expect(mStatus(r.state[MAPS], 0)).not.toBe(MS_MAPPED);
    r.step(IOMMU);
    const early = r.step(RESUME); // the wait has not executed
    expect(early.post).toBe(early.pre);
    r.steps([IOMMU, RESUME]);
    expect(call(r, 0)).toEqual([OP_IDLE, 0]);
    expect(mStatus(r.state[MAPS], 0)).toBe(MS_MAPPED);
    // Without caching mode the map returns at once, queueing nothing.
    const plain = Runner.of(strict, VTD);
    plain.step(MAP);
    expect([cmdCount(plain.state[CMDQ]), mStatus(plain.state[MAPS], 0)]).toEqual([0, MS_MAPPED]);
  });

  it("VT-d caching mode: with no room for the invalidation and the wait, the map waits, touching the queue not", () => {
    const r = Runner.of(strict, { ...VTD, cachingMode: true, cmdQueueEntries: 4, cpus: 3 });
    r.steps([MAP, { ...MAP, cpu: 1 }, { ...MAP, cpu: 2 }]); // two maps queued two commands each: the queue is full
    expect(cmdCount(r.state[CMDQ])).toBe(4);
    expect(call(r, 2)).toEqual([OP_MAP, MAP_NP_FLUSH]);
    r.step(IOMMU);
    const wait = r.step({ t: "resume", cpu: 2 }); // one free slot: not enough for two
    expect(wait.post).toBe(wait.pre);
    r.step(IOMMU);
    const go = r.step({ t: "resume", cpu: 2 });
    expect(go.counters[C.iotlbInvCmds]).toBe(1);
    expect(call(r, 2)).toEqual([OP_MAP, MAP_NP_WAIT]);
    expect(cmdCount(r.state[CMDQ])).toBe(4);
  });

  it("a map that finds no free IOVA range fails at once, leaving nothing behind", () => {
    const r = Runner.of(strict);
    const before = r.state;
    const m = r.step({ ...MAP, src: "pages", size: 17 * 4096 }); // more than the 16-page window
    expect(call(r, 0)).toEqual([OP_IDLE, 0]);
    for (let k = 0; k < r.sys.cfg.maxMappings; k++) expect(mStatus(r.state[MAPS], k)).toBe(MS_FREE);
    expect(cmdCount(r.state[CMDQ])).toBe(0);
    expect(m.counters[C.iommuPteWrites]).toBe(0);
    expect(r.state[IOVA]).toEqual(before[IOVA]);
  });

  it("lazy never queues an untrusted device's unmap: it unmaps as strict does", () => {
    const r = Runner.of(lazy, { untrusted: true });
    r.steps([MAP, READ]);
    const u = r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    expect(u.counters[C.iotlbInvCmds]).toBe(1);
    expect(call(r, 0)).toEqual([OP_UNMAP, UNMAP_WAIT]);
    expect(fqCount(r.tx(), 0)).toBe(0);
    const trusted = Runner.of(lazy);
    trusted.steps([MAP, READ, { t: "unmap", cpu: 0, k: 0, free: false }]);
    expect(fqCount(trusted.tx(), 0)).toBe(1);
    expect(cmdCount(trusted.state[CMDQ])).toBe(0);
  });

  it("the claims, names and stale bound the policies declare", () => {
    expect(strict.name).toBe("strict");
    expect(lazy.name).toBe("lazy");
    expect(strict.summary).toBe("unmap clears PTEs, invalidates IOTLB, waits, then frees the IOVA");
    expect(lazy.summary).toMatch(/^Linux flush queue: per-domain, per-CPU rings of 255, flush on full or after 10 ms/);
    expect([...strict.claims]).toEqual(["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability"]);
    expect([...lazy.claims]).toEqual(["pt-page-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability"]);
    expect(strict.staleBound).toBeUndefined();
    const cfg = Runner.of(lazy, { fqSize: 3 }).sys.cfg;
    expect((lazy.staleBound as (c: typeof cfg) => unknown)(cfg)).toEqual({ ms: cfg.fqTimeoutMs, unmaps: 3 });
    const attrs = { untrusted: false, ats: false, acsTb: false };
    expect([strict.attach(0, attrs), lazy.attach(1, attrs)]).toEqual(["translate", "translate"]);
  });
});

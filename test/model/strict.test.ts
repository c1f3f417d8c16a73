// Tests for the strict unmap state machine (model/policies/strict.ts) and how
// iotlb-coherence (properties/iotlb-coherence.ts) judges accesses around it.
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { cmdCount, completionDone } from "../../model/command-queue.ts";
import { C } from "../../model/counters.ts";
import { MS_FREE, MS_MAPPED, MS_UNMAPPING, mStatus } from "../../model/dma-mapping.ts";
import { type Event } from "../../model/events.ts";
import { CALLS, CALL_W, CMDQ, FRAMES, IOVA, MAPS } from "../../model/geometry.ts";
import { iovaAllocated } from "../../model/iova-allocator.ts";
import { FAULT_NONE, FAULT_NOT_PRESENT, SRC_IOTLB } from "../../model/observation.ts";
import { frameRole, ROLE_FREE, ROLE_SLAB } from "../../model/physical-memory.ts";
import { strictWaitBeforeInvalidate } from "../../model/policies/broken.ts";
import { strict, UNMAP_START, UNMAP_WAIT } from "../../model/policies/strict.ts";
import { OP_IDLE, OP_UNMAP } from "../../model/system.ts";
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

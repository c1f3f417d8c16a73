// Tests for the lazy policy and its flush queue: model/flush-queue.ts, model/policies/lazy.ts.
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { cmdCount } from "../../model/command-queue.ts";
import { C } from "../../model/counters.ts";
import { MS_UNMAPPING, mIova, mStatus } from "../../model/dma-mapping.ts";
import { type Event } from "../../model/events.ts";
import { fqCount } from "../../model/flush-queue.ts";
import { CMD_COMPL_WAIT, CMD_INV_IOMMU_PAGES, cmdDomainId, cmdOpcode, invRangeAll } from "../../model/formats/amd-command.ts";
import { CALLS, CALL_W, CMDQ, CMD_W, FRAMES, HDR, H_TIMER, IOVA, MAPS, PDEC } from "../../model/geometry.ts";
import { pdecFrame, pdecSlot } from "../../model/iotlb.ts";
import { F_DETACHED, frameFlags, frameRole, ROLE_FREE, ROLE_IOMMU_PT } from "../../model/physical-memory.ts";
import { iovaAllocated } from "../../model/iova-allocator.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { OP_IDLE, OP_TIMER, OP_UNMAP } from "../../model/system.ts";
import { iotlbCoherence } from "../../properties/iotlb-coherence.ts";
import { pageConfinement } from "../../properties/page-confinement.ts";
import { ptPageSafety } from "../../properties/pt-page-safety.ts";
import { Runner } from "./helpers.ts";

const map = (cpu = 0, dev = 0): Event => ({ t: "map", cpu, dev, src: "kmalloc", size: 64, dir: "to-device" });
const unmap = (cpu: number, k: number, free = false): Event => ({ t: "unmap", cpu, k, free });
const IOMMU: Event = { t: "iommu" };

function callOf(r: Runner, ctx: number): { op: number; phase: number } {
  return { op: r.state[CALLS][ctx * CALL_W], phase: r.state[CALLS][ctx * CALL_W + 1] };
}
function allocated(r: Runner, dom: number, v: number): boolean {
  return iovaAllocated(r.sys, r.state[IOVA], dom, v);
}

describe("lazy unmap with a flush queue of 2", () => {
  it("the third unmap on one CPU flushes synchronously and blocks until the IOMMU has run the flush", () => {
    const r = Runner.of(lazy, { fqSize: 2 });
    r.steps([map(), map(), map()]); // IOVA pages 504, 505, 506
    const g = r.sys.g;
    const u1 = r.step(unmap(0, 0));
    const u2 = r.step(unmap(0, 0));
    for (const u of [u1, u2]) {
      expect(u.counters[C.iotlbInvCmds]).toBe(0);
      expect(u.counters[C.completionWaits]).toBe(0);
    }
    expect(fqCount(r.tx(), 0)).toBe(2);
    expect(callOf(r, 0).op).toBe(OP_IDLE); // both returned at once
    expect(allocated(r, 0, 504) && allocated(r, 0, 505)).toBe(true); // but their IOVAs are not free

    const u3 = r.step(unmap(0, 0));
    expect(u3.counters[C.iotlbInvCmds]).toBe(g.cfg.devices); // one all-pages invalidation per domain
    expect(u3.counters[C.iotlbInvPages]).toBe(g.cfg.devices * g.winPages);
    expect(u3.counters[C.completionWaits]).toBe(1);
    expect(cmdCount(r.state[CMDQ])).toBe(g.cfg.devices + 1);
    // The ring holds one all-pages INVALIDATE_IOMMU_PAGES (with PDE) per domain, then the wait.
    const q = r.state[CMDQ];
    const cmd = (i: number) => q.slice(2 + i * CMD_W, 2 + (i + 1) * CMD_W).map((w) => w >>> 0);
    for (let d = 0; d < g.cfg.devices; d++) {
      const [, d1, d2, d3] = cmd(d);
      expect(cmdOpcode(d1)).toBe(CMD_INV_IOMMU_PAGES);
      expect(cmdDomainId(d1)).toBe(d + 1);
      expect(invRangeAll(d2, d3)).toBe(true);
      expect(d2 & 2).toBe(2); // PDE
    }
    expect(cmdOpcode(cmd(g.cfg.devices)[1])).toBe(CMD_COMPL_WAIT);
    expect(callOf(r, 0)).toEqual({ op: OP_UNMAP, phase: 1 });
    const m = r.state[CALLS][2];
    expect(mStatus(r.state[MAPS], m)).toBe(MS_UNMAPPING);
    expect(mIova(r.state[MAPS], m)).toBe(506);

    // Resuming before the IOMMU ran the commands changes nothing.
    const early = r.step({ t: "resume", cpu: 0 });
    expect(early.post).toBe(early.pre);
    r.steps([IOMMU, IOMMU]);
    expect(r.step({ t: "resume", cpu: 0 }).post).toBe(r.state); // the wait has not executed yet
    expect(callOf(r, 0).op).toBe(OP_UNMAP);
    r.step(IOMMU); // COMPLETION_WAIT
    r.step({ t: "resume", cpu: 0 });
    expect(callOf(r, 0).op).toBe(OP_IDLE);
    expect(fqCount(r.tx(), 0)).toBe(1); // only the third unmap's entry is left
    expect(allocated(r, 0, 504) || allocated(r, 0, 505)).toBe(false);
    expect(allocated(r, 0, 506)).toBe(true);
  });

  it("the timer fires 10 ms after the first unmap and flushes on the timer context", () => {
    const r = Runner.of(lazy, { fqSize: 2 });
    const g = r.sys.g;
    r.steps([map(), unmap(0, 0)]);
    expect(r.state[HDR][H_TIMER]).toBe(10);
    const t1 = r.step({ t: "tick", ms: 4 });
    expect(t1.post[HDR][H_TIMER]).toBe(6);
    expect(t1.counters[C.iotlbInvCmds]).toBe(0);
    const t2 = r.step({ t: "tick", ms: 6 });
    expect(r.state[HDR][H_TIMER]).toBe(0);
    expect(t2.counters[C.iotlbInvCmds]).toBe(g.cfg.devices);
    expect(t2.counters[C.completionWaits]).toBe(1);
    expect(callOf(r, g.timerCtx)).toEqual({ op: OP_TIMER, phase: 1 });
    r.steps([IOMMU, IOMMU, IOMMU]);
    expect(allocated(r, 0, 504)).toBe(true);
    r.step({ t: "resume", cpu: g.timerCtx });
    expect(callOf(r, g.timerCtx).op).toBe(OP_IDLE);
    expect(fqCount(r.tx(), 0)).toBe(0);
    expect(allocated(r, 0, 504)).toBe(false);
  });

  it("a tick with no timer armed is a no-op, and a timer that expires while the timer context is busy stays pending", () => {
    const r = Runner.of(lazy, { fqSize: 2 });
    const g = r.sys.g;
    const idle = r.step({ t: "tick", ms: 50 });
    expect(idle.post).toBe(idle.pre);
    r.steps([map(), map(), unmap(0, 0), { t: "tick", ms: 10 }]); // flush 1 in progress on the timer context
    r.step(unmap(0, 0)); // re-arms the timer (the first one fired)
    expect(r.state[HDR][H_TIMER]).toBe(10);
    r.step({ t: "tick", ms: 10 });
    expect(r.state[HDR][H_TIMER]).toBe(-1); // expired, pending: the timer context is still busy
    r.steps([IOMMU, IOMMU, IOMMU, { t: "resume", cpu: g.timerCtx }]);
    expect(callOf(r, g.timerCtx).op).toBe(OP_IDLE);
    const fire = r.step({ t: "tick", ms: 1 });
    expect(fire.counters[C.completionWaits]).toBe(1);
    expect(callOf(r, g.timerCtx).op).toBe(OP_TIMER);
  });
});

describe("IOVA reuse under lazy", () => {
  it("a lazily unmapped IOVA is not handed out again until the flush completes, and is afterwards", () => {
    const r = Runner.of(lazy, { fqSize: 2, reclaimEmptyTables: false }); // no table teardown: the pages under it would be held back (reserveUnderTable)
    const g = r.sys.g;
    r.steps([map(), unmap(0, 0)]);
    r.step(map(1));
    expect(mIova(r.state[MAPS], 0)).toBe(505); // 504 is still in the flush queue
    r.steps([{ t: "tick", ms: 10 }, IOMMU, IOMMU, IOMMU, { t: "resume", cpu: g.timerCtx }]);
    r.step(map(1));
    expect(mIova(r.state[MAPS], 1)).toBe(504);
  });

  it("entries queued after a flush started are not released by it", () => {
    const r = Runner.of(lazy, { fqSize: 2, reclaimEmptyTables: false }); // no table teardown: the pages under it would be held back (reserveUnderTable)
    const g = r.sys.g;
    r.steps([map(0), map(1), unmap(0, 0), { t: "tick", ms: 10 }]); // flush covers 504
    r.step(unmap(1, 0)); // 505 queued on cpu1 after the flush started
    r.steps([IOMMU, IOMMU, IOMMU, { t: "resume", cpu: g.timerCtx }]);
    expect(allocated(r, 0, 504)).toBe(false);
    expect(allocated(r, 0, 505)).toBe(true);
    expect(fqCount(r.tx(), 1)).toBe(1);
  });

  it("the data page returns at once: a device read through the IOTLB after unmap+free is caught (expected lazy verdicts)", () => {
    const r = Runner.of(lazy);
    const events: Event[] = [
      map(),
      { t: "dma", dev: 0, write: false, page: 0, offset: 0, len: 8 },
      unmap(0, 0, true),
      { t: "dma", dev: 0, write: false, page: 0, offset: 0, len: 8 },
    ];
    for (const prop of [iotlbCoherence, pageConfinement]) {
      const ex = new Executor(r.sys, [prop]).run(events);
      expect(ex.violation?.property).toBe(prop.name);
      expect(ex.violation?.step).toBe(3);
    }
  });
});

describe("overlapping flushes", () => {
  // Regression: with one "covered" bit shared by every flush in flight (the
  // model before 277b7c2), an earlier flush that completed released what only
  // a later flush covered. Here: timer flush A starts and its two
  // INVALIDATEs execute; the device re-fills the directory cache for a new
  // mapping; that mapping is unmapped (tables detached) and a full ring starts
  // flush B; A's COMPLETION_WAIT executes and the timer context resumes. The
  // tables must survive until B completes (Linux fq_flush_start_cnt /
  // fq_flush_finish_cnt), else the cached directory entry points at a free
  // frame: a pt-page-safety violation, which lazy claims.
  it("a completing flush releases only what it covered, not what a later flush covered", () => {
    // Table reclamation on: Y's tables are detached by Y's own unmap, under flush B only.
    // (Y is mapped before X's unmap: a map under a table being torn down gets no IOVA there,
    // iova-allocator.ts reserveUnderTable.)
    const r = Runner.of(lazy, { fqSize: 2 });
    const events: Event[] = [
      map(0, 0), // X: dom 0, IOVA 504, new tables
      map(0, 0), // Y: dom 0, IOVA 505, the same tables
      map(0, 1), // Z: dom 1
      unmap(0, 0), // X queued on cpu0, timer armed; the tables still hold Y
      { t: "tick", ms: 10 }, // flush A on the timer context
      IOMMU, IOMMU, // A's invalidations execute
      { t: "dma", dev: 0, write: false, page: 1, offset: 0, len: 8 }, // caches Y's directory entries
      unmap(0, 1), // Z queued (cpu0 ring now full)
      unmap(0, 0), // Y: its tables empty, detached; ring full -> flush B starts, covers them; cpu0 blocks
      IOMMU, // A's COMPLETION_WAIT
      { t: "resume", cpu: 2 }, // A completes on the timer context
    ];
    const ex = new Executor(r.sys, [ptPageSafety]).run(events);
    expect(ex.violation).toBeNull();
    // The scenario is live: the directory cache still points at Y's (detached) level-1 table.
    r.steps(events);
    const e2 = r.state[PDEC][pdecSlot(r.sys.g, 0, 2, 505)];
    expect(e2).not.toBe(0);
    const t1 = pdecFrame(e2);
    expect(frameRole(r.state[FRAMES], t1)).toBe(ROLE_IOMMU_PT);
    expect(frameFlags(r.state[FRAMES], t1) & F_DETACHED).toBe(F_DETACHED);
    // Flush B completes: its invalidation dropped the cached entry. Y's own
    // entry is queued only after B (as Linux queue_iova does after a full-ring
    // flush), so Y's tables wait for the next flush, here the timer's.
    const rest: Event[] = [IOMMU, IOMMU, IOMMU, { t: "resume", cpu: 0 }];
    r.steps(rest);
    expect(r.state[PDEC][pdecSlot(r.sys.g, 0, 2, 505)]).toBe(0);
    expect(frameFlags(r.state[FRAMES], t1) & F_DETACHED).toBe(F_DETACHED);
    const next: Event[] = [{ t: "tick", ms: 10 }, IOMMU, IOMMU, IOMMU, { t: "resume", cpu: 2 }];
    r.steps(next);
    expect(frameRole(r.state[FRAMES], t1)).toBe(ROLE_FREE);
    expect(new Executor(r.sys, [ptPageSafety]).run([...events, ...rest, ...next]).violation).toBeNull();
  });

  // Same for IOVAs: Z (dom 1, IOVA 504) is queued after flush A started, so
  // only flush B covers it; A's completion must not free its IOVA.
  it("an IOVA covered only by a later flush stays allocated until that flush completes", () => {
    const r = Runner.of(lazy, { fqSize: 2, reclaimEmptyTables: false }); // no table teardown: the pages under it would be held back (reserveUnderTable)
    r.steps([
      map(0, 0), map(0, 1), unmap(0, 0), map(0, 0),
      { t: "tick", ms: 10 }, IOMMU, IOMMU,
      unmap(0, 1), // Z queued after A started: not covered by A
      unmap(0, 0), // flush B starts and covers Z
      IOMMU, { t: "resume", cpu: 2 }, // A completes
    ]);
    expect(cmdCount(r.state[CMDQ])).toBe(3); // B's commands have not executed
    expect(allocated(r, 1, 504)).toBe(true);
    r.steps([IOMMU, IOMMU, IOMMU, { t: "resume", cpu: 0 }]); // B completes
    expect(allocated(r, 1, 504)).toBe(false);
  });
});

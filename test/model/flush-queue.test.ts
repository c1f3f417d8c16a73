// Tests for the lazy policy and its flush queue: model/flush-queue.ts, model/policies/lazy.ts.
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { cmdCount } from "../../model/command-queue.ts";
import { C } from "../../model/counters.ts";
import { MS_UNMAPPING, mIova, mStatus } from "../../model/dma-mapping.ts";
import { type Event } from "../../model/events.ts";
import { anyFqTimer, armFqTimer, fqCount, fqDomBase, fqFinishFlush, fqFull, fqPush, fqRingBase, fqRingFree, fqStartFlush, fqTimer } from "../../model/flush-queue.ts";
import { isDetachedWithTag, TAG_FQ } from "../../model/iommu-page-table.ts";
import { CMD_COMPL_WAIT, CMD_INV_IOMMU_PAGES, cmdDomainId, cmdOpcode, invRangeAll } from "../../model/formats/amd-command.ts";
import { CALLS, CALL_W, CMDQ, CMD_W, FQ, FQD_FINISHED, FQD_STARTED, FQ_W, FRAMES, FRAME_W, HDR, H_TIMER, IOVA, MAPS, PDEC } from "../../model/geometry.ts";
import { pdecFrame, pdecSlot } from "../../model/iotlb.ts";
import { F_DETACHED, frameAux, frameFlags, frameRole, ROLE_FREE, ROLE_IOMMU_PT } from "../../model/physical-memory.ts";
import { iovaAllocated } from "../../model/iova-allocator.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { OP_IDLE, OP_TIMER, OP_UNMAP } from "../../model/system.ts";
import { iotlbCoherence } from "../../properties/iotlb-coherence.ts";
import { pageConfinement } from "../../properties/page-confinement.ts";
import { ptPageSafety } from "../../properties/pt-page-safety.ts";
import { framesOnFreeLists, Runner, txOn } from "./helpers.ts";

const map = (cpu = 0, dev = 0): Event => ({ t: "map", cpu, dev, src: "kmalloc", size: 64, dir: "to-device" });
const unmap = (cpu: number, k: number, free = false): Event => ({ t: "unmap", cpu, k, free });
const IOMMU: Event = { t: "iommu" };

function callOf(r: Runner, ctx: number): { op: number; phase: number } {
  return { op: r.state[CALLS][ctx * CALL_W], phase: r.state[CALLS][ctx * CALL_W + 1] };
}
function allocated(r: Runner, dom: number, v: number): boolean {
  return iovaAllocated(r.sys, r.state[IOVA], dom, v);
}
function timerOf(r: Runner, dom: number): number {
  return fqTimer(r.state[FQ], r.sys.g, dom);
}
/** The queued commands, as 32-bit words. */
function cmd(r: Runner, i: number): number[] {
  return Array.from(r.state[CMDQ].slice(2 + i * CMD_W, 2 + (i + 1) * CMD_W)).map((w) => w >>> 0);
}

// Linux drivers/iommu/dma-iommu.c: struct iommu_dma_cookie holds, per domain, a
// per-CPU ring (fq), fq_flush_start_cnt / fq_flush_finish_cnt and fq_timer.
// IOVAs are allocated top-down (iova-allocator.ts): in the default window
// 504..519, a domain's one-page maps get 519, 518, 517...
describe("lazy unmap with a flush queue of 2 (per domain and CPU)", () => {
  it("the third unmap of a domain on one CPU flushes that domain only and blocks until the IOMMU has run the flush", () => {
    const r = Runner.of(lazy, { fqSize: 2 });
    r.steps([map(), map(), map()]); // IOVA pages 519, 518, 517
    const g = r.sys.g;
    const u1 = r.step(unmap(0, 0));
    const u2 = r.step(unmap(0, 0));
    for (const u of [u1, u2]) {
      expect(u.counters[C.iotlbInvCmds]).toBe(0);
      expect(u.counters[C.completionWaits]).toBe(0);
    }
    expect(fqCount(r.tx(), 0, 0)).toBe(2);
    expect(callOf(r, 0).op).toBe(OP_IDLE); // both returned at once
    expect(allocated(r, 0, 519) && allocated(r, 0, 518)).toBe(true); // but their IOVAs are not free

    const u3 = r.step(unmap(0, 0));
    // fq_flush_iotlb -> flush_iotlb_all of this domain: one all-pages invalidation, not one per domain.
    expect(u3.counters[C.iotlbInvCmds]).toBe(1);
    expect(u3.counters[C.iotlbInvPages]).toBe(g.winPages);
    expect(u3.counters[C.completionWaits]).toBe(1);
    expect(cmdCount(r.state[CMDQ])).toBe(2);
    const [, d1, d2, d3] = cmd(r, 0);
    expect(cmdOpcode(d1)).toBe(CMD_INV_IOMMU_PAGES);
    expect(cmdDomainId(d1)).toBe(1); // domain 0's DomainID
    expect(invRangeAll(d2, d3)).toBe(true);
    expect(d2 & 2).toBe(2); // PDE
    expect(cmdOpcode(cmd(r, 1)[1])).toBe(CMD_COMPL_WAIT);
    expect(callOf(r, 0)).toEqual({ op: OP_UNMAP, phase: 1 });
    const m = r.state[CALLS][2];
    expect(mStatus(r.state[MAPS], m)).toBe(MS_UNMAPPING);
    expect(mIova(r.state[MAPS], m)).toBe(517);

    // Resuming before the IOMMU ran the commands changes nothing.
    const early = r.step({ t: "resume", cpu: 0 });
    expect(early.post).toBe(early.pre);
    r.step(IOMMU);
    expect(r.step({ t: "resume", cpu: 0 }).post).toBe(r.state); // the wait has not executed yet
    expect(callOf(r, 0).op).toBe(OP_UNMAP);
    r.step(IOMMU); // COMPLETION_WAIT
    r.step({ t: "resume", cpu: 0 });
    expect(callOf(r, 0).op).toBe(OP_IDLE);
    expect(fqCount(r.tx(), 0, 0)).toBe(1); // only the third unmap's entry is left
    expect(allocated(r, 0, 519) || allocated(r, 0, 518)).toBe(false);
    expect(allocated(r, 0, 517)).toBe(true);
  });

  it("rings are per domain: another domain's entries do not fill this domain's ring", () => {
    const r = Runner.of(lazy, { fqSize: 2 });
    r.steps([map(0, 0), map(0, 0), map(0, 1)]);
    r.steps([unmap(0, 0), unmap(0, 0)]); // dom 0's ring on cpu0 is full
    const u = r.step(unmap(0, 0)); // dom 1's ring is empty: queued, no flush
    expect(u.counters[C.iotlbInvCmds]).toBe(0);
    expect(fqCount(r.tx(), 0, 0)).toBe(2);
    expect(fqCount(r.tx(), 0, 1)).toBe(1);
    expect(fqCount(r.tx(), 0)).toBe(3); // all of cpu0's rings
  });

  // Linux queue_iova: a ring-full flush is followed by fq_ring_free of this CPU's ring only.
  it("a ring-full flush frees only its own CPU's ring; the covered entries of another CPU's ring wait", () => {
    const r = Runner.of(lazy, { fqSize: 1, reclaimEmptyTables: false });
    r.steps([map(1, 0), unmap(1, 0)]); // A (519) on cpu1's ring
    r.steps([map(0, 0), map(0, 0), unmap(0, 0)]); // B (518) on cpu0's ring; C (517) stays mapped
    const a = 519, b = 518;
    expect(allocated(r, 0, a) && allocated(r, 0, b)).toBe(true);
    r.step(unmap(0, 0)); // C: cpu0's ring is full: flush of dom 0
    r.steps([IOMMU, IOMMU, { t: "resume", cpu: 0 }]);
    expect(allocated(r, 0, b)).toBe(false); // freed with cpu0's ring
    expect(allocated(r, 0, a)).toBe(true); // covered by the flush, but on cpu1's ring
    expect(fqCount(r.tx(), 1, 0)).toBe(1);
    // queue_iova first frees what finished flushes cover on its own ring (fq_ring_free before
    // fq_full): cpu1's next unmap releases A and queues without a flush.
    r.step(map(1, 0));
    const u = r.step(unmap(1, 0));
    expect(u.counters[C.iotlbInvCmds]).toBe(0);
    expect(allocated(r, 0, a)).toBe(false);
    expect(fqCount(r.tx(), 1, 0)).toBe(1);
  });
});

describe("the flush timer, one per domain (Linux fq_timer)", () => {
  it("fires 10 ms after the first unmap of its domain and flushes that domain on the timer context", () => {
    const r = Runner.of(lazy, { fqSize: 2 });
    const g = r.sys.g;
    r.steps([map(0, 0), unmap(0, 0)]);
    expect(timerOf(r, 0)).toBe(10);
    expect(timerOf(r, 1)).toBe(0);
    expect(r.state[HDR][H_TIMER]).toBe(0); // the policy timer is not used
    r.step({ t: "tick", ms: 5 });
    r.steps([map(0, 1), unmap(0, 0)]);
    expect(timerOf(r, 1)).toBe(10);
    const t = r.step({ t: "tick", ms: 5 });
    expect(timerOf(r, 0)).toBe(0);
    expect(timerOf(r, 1)).toBe(5);
    expect(t.counters[C.iotlbInvCmds]).toBe(1); // dom 0 only
    expect(cmdDomainId(cmd(r, 0)[1])).toBe(1);
    expect(callOf(r, g.timerCtx)).toEqual({ op: OP_TIMER, phase: 1 });
    r.steps([IOMMU, IOMMU]);
    expect(allocated(r, 0, 519)).toBe(true);
    r.step({ t: "resume", cpu: g.timerCtx });
    expect(callOf(r, g.timerCtx).op).toBe(OP_IDLE);
    expect(fqCount(r.tx(), 0, 0)).toBe(0);
    expect(allocated(r, 0, 519)).toBe(false);
    expect(allocated(r, 1, 519)).toBe(true); // dom 1's timer has not fired
    const t2 = r.step({ t: "tick", ms: 5 });
    expect(cmdDomainId(cmd(r, 0)[1])).toBe(2);
    expect(t2.counters[C.iotlbInvCmds]).toBe(1);
  });

  it("a tick with no timer armed is a no-op, and a timer that expires while the timer context is busy stays pending", () => {
    const r = Runner.of(lazy, { fqSize: 2 });
    const g = r.sys.g;
    const idle = r.step({ t: "tick", ms: 50 });
    expect(idle.post).toBe(idle.pre);
    r.steps([map(0, 0), map(0, 1), unmap(0, 0), unmap(0, 0)]);
    r.step({ t: "tick", ms: 10 }); // dom 0's fires; dom 1's finds the timer context busy
    expect(timerOf(r, 0)).toBe(0);
    expect(timerOf(r, 1)).toBe(-1);
    r.steps([IOMMU, IOMMU, { t: "resume", cpu: g.timerCtx }]);
    expect(callOf(r, g.timerCtx).op).toBe(OP_IDLE);
    const fire = r.step({ t: "tick", ms: 1 });
    expect(fire.counters[C.completionWaits]).toBe(1);
    expect(cmdDomainId(cmd(r, 0)[1])).toBe(2);
    expect(callOf(r, g.timerCtx).op).toBe(OP_TIMER);
  });
});

describe("IOVA reuse under lazy", () => {
  it("a lazily unmapped IOVA is not handed out again until the flush completes, and is afterwards", () => {
    const r = Runner.of(lazy, { fqSize: 2, reclaimEmptyTables: false }); // no table teardown: the pages under it would be held back (reserveUnderTable)
    const g = r.sys.g;
    r.steps([map(), unmap(0, 0)]);
    r.step(map(1));
    expect(mIova(r.state[MAPS], 0)).toBe(518); // 519 is still in the flush queue
    r.steps([{ t: "tick", ms: 10 }, IOMMU, IOMMU, { t: "resume", cpu: g.timerCtx }]);
    r.step(map(1));
    expect(mIova(r.state[MAPS], 1)).toBe(519);
  });

  it("entries queued after a flush started are not released by it", () => {
    const r = Runner.of(lazy, { fqSize: 2, reclaimEmptyTables: false }); // no table teardown: the pages under it would be held back (reserveUnderTable)
    const g = r.sys.g;
    r.steps([map(0), map(1), unmap(0, 0), { t: "tick", ms: 10 }]); // flush covers 519
    r.step(unmap(1, 0)); // 518 queued on cpu1 after the flush started
    r.steps([IOMMU, IOMMU, { t: "resume", cpu: g.timerCtx }]);
    expect(allocated(r, 0, 519)).toBe(false);
    expect(allocated(r, 0, 518)).toBe(true);
    expect(fqCount(r.tx(), 1)).toBe(1);
  });

  it("the data page returns at once: a device read through the IOTLB after unmap+free is caught (expected lazy verdicts)", () => {
    const r = Runner.of(lazy);
    const events: Event[] = [
      map(),
      { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 8 }, // IOVA page 519
      unmap(0, 0, true),
      { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 8 },
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
  // a later flush covered. Here (one domain, rings of 1): timer flush A starts
  // and its INVALIDATE executes; the device re-fills the directory cache for a
  // new mapping; that mapping is unmapped (tables detached) and the full ring
  // starts flush B; A's COMPLETION_WAIT executes and the timer context
  // resumes. The tables must survive until B completes (Linux
  // fq_flush_start_cnt / fq_flush_finish_cnt), else the cached directory
  // entry points at a free frame: a pt-page-safety violation, which lazy claims.
  it("a completing flush releases only what it covered, not what a later flush covered", () => {
    // Table reclamation on: Y's tables are detached by Y's own unmap, under flush B only.
    // (Y is mapped before X's unmap: a map under a table being torn down gets no IOVA there,
    // iova-allocator.ts reserveUnderTable.)
    const r = Runner.of(lazy, { fqSize: 1 });
    const events: Event[] = [
      map(0, 0), // X: dom 0, IOVA 519, new tables
      map(0, 0), // Y: dom 0, IOVA 518, the same tables
      unmap(0, 0), // X queued on cpu0 (its ring is full), timer armed; the tables still hold Y
      { t: "tick", ms: 10 }, // flush A on the timer context
      IOMMU, // A's invalidation executes
      { t: "dma", dev: 0, write: false, page: 14, offset: 0, len: 8 }, // caches Y's directory entries (518)
      unmap(0, 0), // Y: its tables empty, detached; ring full -> flush B starts; cpu0 blocks
      IOMMU, // A's COMPLETION_WAIT
      { t: "resume", cpu: 2 }, // A completes on the timer context: X released
    ];
    const ex = new Executor(r.sys, [ptPageSafety]).run(events);
    expect(ex.violation).toBeNull();
    // The scenario is live: the directory cache still points at Y's (detached) level-1 table.
    r.steps(events);
    expect(allocated(r, 0, 519)).toBe(false);
    const e2 = r.state[PDEC][pdecSlot(r.sys.g, 0, 2, 518)];
    expect(e2).not.toBe(0);
    const t1 = pdecFrame(e2);
    expect(frameRole(r.state[FRAMES], t1)).toBe(ROLE_IOMMU_PT);
    expect(frameFlags(r.state[FRAMES], t1) & F_DETACHED).toBe(F_DETACHED);
    // Flush B completes: its invalidation dropped the cached entry. Y's own
    // entry is queued only after B (as Linux queue_iova does after a full-ring
    // flush), so Y's tables wait for the next flush, here the timer's.
    const rest: Event[] = [IOMMU, IOMMU, { t: "resume", cpu: 0 }];
    r.steps(rest);
    expect(r.state[PDEC][pdecSlot(r.sys.g, 0, 2, 518)]).toBe(0);
    expect(frameFlags(r.state[FRAMES], t1) & F_DETACHED).toBe(F_DETACHED);
    const next: Event[] = [{ t: "tick", ms: 10 }, IOMMU, IOMMU, { t: "resume", cpu: 2 }];
    r.steps(next);
    expect(frameRole(r.state[FRAMES], t1)).toBe(ROLE_FREE);
    expect(new Executor(r.sys, [ptPageSafety]).run([...events, ...rest, ...next]).violation).toBeNull();
  });

  // Same for IOVAs: Z (IOVA 518) is queued after flush A started, so only
  // flush B covers it; A's completion must not free its IOVA.
  it("an IOVA covered only by a later flush stays allocated until that flush completes", () => {
    const r = Runner.of(lazy, { fqSize: 2, reclaimEmptyTables: false }); // no table teardown: the pages under it would be held back (reserveUnderTable)
    r.steps([
      map(0, 0), map(0, 0), map(0, 0), unmap(0, 0), // 519 queued
      { t: "tick", ms: 10 }, IOMMU, // flush A started, its invalidation ran
      unmap(0, 0), // Z = 518 queued after A started: not covered by A
      unmap(0, 0), // 517: the ring is full -> flush B starts and covers Z
      IOMMU, { t: "resume", cpu: 2 }, // A completes
    ]);
    expect(cmdCount(r.state[CMDQ])).toBe(2); // B's commands have not executed
    expect(allocated(r, 0, 519)).toBe(false);
    expect(allocated(r, 0, 518)).toBe(true);
    r.steps([IOMMU, IOMMU, { t: "resume", cpu: 0 }]); // B completes
    expect(allocated(r, 0, 518)).toBe(false);
  });
});

// Linux queue_iova: after the ring-full flush, fq_ring_free releases the
// entries with counter < fq_flush_finish_cnt; fq_ring_add then adds without
// checking. If another flush of the domain started before the ring's entries
// were queued and has not finished (here the timer's), this flush's finish
// leaves the finished count at or below their counters: nothing is released,
// the ring is still full, and fq_ring_add moves the tail onto the head, so
// the ring reads as empty. The model does what Linux does: the lost entries'
// IOVAs leak (never freed); the new entry is queued. (Before: fqPush refused
// and lazy dropped the new entry, leaking its IOVA instead.)
describe("a ring still full after its own flush (another flush of the domain in flight)", () => {
  it("wraps as Linux's fq_ring_add does: the ring's entries are lost and leak, the new one is queued", () => {
    const r = Runner.of(lazy, { fqSize: 1, reclaimEmptyTables: false });
    const g = r.sys.g;
    r.steps([map(0, 0), map(0, 0), map(0, 0)]); // 519, 518, 517
    r.step(unmap(0, 0)); // C = 519 queued (counter 0), timer armed
    r.step({ t: "tick", ms: 10 }); // the timer's flush T starts (started 1) on the timer context
    r.step(unmap(0, 0)); // A = 518: ring full -> flush F1 (started 2)
    r.steps([IOMMU, IOMMU, IOMMU, IOMMU, { t: "resume", cpu: 0 }]); // F1 finishes first: releases C; A queued (counter 2 - 1)
    expect(allocated(r, 0, 519)).toBe(false);
    expect(fqCount(r.tx(), 0, 0)).toBe(1);
    r.step(unmap(0, 0)); // B = 517: ring full (A) -> flush F2
    r.steps([IOMMU, IOMMU, { t: "resume", cpu: 0 }]); // F2 finishes; T still has not: A not released
    expect(callOf(r, 0).op).toBe(OP_IDLE); // the unmap returned
    expect(fqCount(r.tx(), 0, 0)).toBe(1); // the ring wrapped: A lost, B queued
    r.step({ t: "resume", cpu: g.timerCtx }); // T finishes
    r.steps([{ t: "tick", ms: 10 }, IOMMU, IOMMU, { t: "resume", cpu: g.timerCtx }]); // the re-armed timer flushes
    expect(fqCount(r.tx(), 0, 0)).toBe(0);
    expect(allocated(r, 0, 517)).toBe(false); // B, queued, was released
    expect(allocated(r, 0, 518)).toBe(true); // A leaked, as in Linux
  });
});

// The flush queue's primitives called directly (issue 15/16, mutation
// testing): counts and fullness per ring, per CPU over every domain, and for
// a CPU the machine does not have; a push refused by a full ring unless it
// wraps; the timer armed once; a flush started on every domain; a finish
// that frees one CPU's ring or every ring.
describe("flush-queue primitives", () => {
  const sys = Runner.of(lazy, { fqSize: 2, cpus: 2 }).sys;
  const fresh = () => txOn(sys);
  const started = (tx: ReturnType<typeof fresh>["tx"], dom: number) => tx.c[FQ][fqDomBase(sys.g, dom) + FQD_STARTED];
  const finished = (tx: ReturnType<typeof fresh>["tx"], dom: number) => tx.c[FQ][fqDomBase(sys.g, dom) + FQD_FINISHED];

  it("counts and fullness: per domain and CPU, over every domain of a CPU, and none for a CPU that does not exist", () => {
    const { tx } = fresh();
    expect(sys.g.fqCapacity).toBe(2);
    expect(fqPush(tx, 0, 0, 519, 1)).toBe(true);
    expect(fqPush(tx, 0, 1, 519, 1)).toBe(true);
    expect(fqPush(tx, 1, 1, 518, 1)).toBe(true);
    expect([fqCount(tx, 0, 0), fqCount(tx, 0, 1), fqCount(tx, 1, 0), fqCount(tx, 1, 1)]).toEqual([1, 1, 0, 1]);
    expect([fqCount(tx, 0), fqCount(tx, 1)]).toEqual([2, 1]);
    expect(fqCount(tx, 2)).toBe(0);
    expect(fqCount(tx, 2, 0)).toBe(0);
    expect([fqFull(tx, 0, 0), fqFull(tx, 0), fqFull(tx, 1)]).toEqual([false, false, false]);
    expect(fqFull(tx, 2)).toBe(true); // no such CPU: no room
    expect(fqFull(tx, 2, 0)).toBe(true);
    expect(fqPush(tx, 2, 0, 517, 1)).toBe(false);
    expect(fqPush(tx, 0, 1, 517, 1)).toBe(true);
    expect([fqFull(tx, 0, 1), fqFull(tx, 0, 0), fqFull(tx, 0), fqFull(tx, 1)]).toEqual([true, false, true, false]);
  });

  it("a full ring refuses a push, changing nothing, unless the push wraps it (its entries lost)", () => {
    const { tx } = fresh();
    fqPush(tx, 0, 0, 519, 1);
    fqPush(tx, 0, 0, 518, 1);
    const before = tx.c[FQ].slice();
    expect(fqPush(tx, 0, 0, 517, 1)).toBe(false);
    expect(Array.from(tx.c[FQ])).toEqual(Array.from(before));
    expect(fqPush(tx, 0, 0, 517, 1, true)).toBe(true);
    expect(fqCount(tx, 0, 0)).toBe(1);
    const base = fqRingBase(sys.g, 0, 0);
    expect(Array.from(tx.c[FQ].slice(base, base + 1 + 2 * FQ_W))).toEqual([1, 517, 1, 0, 0, 0, 0]);
  });

  it("an entry records the IOVA range, its domain and the domain's started count", () => {
    const { tx } = fresh();
    fqStartFlush(tx, 1);
    fqStartFlush(tx, 1);
    fqPush(tx, 1, 1, 516, 3);
    const base = fqRingBase(sys.g, 1, 1);
    expect(Array.from(tx.c[FQ].slice(base, base + 1 + FQ_W))).toEqual([1, 516, 3 | (1 << 16), 2]);
  });

  it("the timer is armed only when off; any armed timer is seen", () => {
    const { tx } = fresh();
    expect(anyFqTimer(tx.c, sys.g)).toBe(false);
    armFqTimer(tx, 1, 10);
    expect([fqTimer(tx.c[FQ], sys.g, 0), fqTimer(tx.c[FQ], sys.g, 1)]).toEqual([0, 10]);
    armFqTimer(tx, 1, 7);
    expect(fqTimer(tx.c[FQ], sys.g, 1)).toBe(10);
    expect(anyFqTimer(tx.c, sys.g)).toBe(true);
  });

  it("a flush started without a domain starts one on every domain", () => {
    const { tx } = fresh();
    fqStartFlush(tx);
    expect([started(tx, 0), started(tx, 1)]).toEqual([1, 1]);
    fqStartFlush(tx, 0);
    expect([started(tx, 0), started(tx, 1)]).toEqual([2, 1]);
  });

  it("a finish for one CPU frees that CPU's covered entries only; without a CPU, every CPU's; for a CPU that does not exist, none", () => {
    for (const [cpu, left] of [[0, [0, 1]], [1, [1, 0]], [-1, [0, 0]], [5, [1, 1]]] as const) {
      const { tx, obs } = fresh();
      fqPush(tx, 0, 0, 519, 1);
      fqPush(tx, 1, 0, 518, 1);
      fqStartFlush(tx, 0);
      fqFinishFlush(tx, obs, 0, cpu);
      expect([fqCount(tx, 0, 0), fqCount(tx, 1, 0)], `cpu ${cpu}`).toEqual(left);
      expect([started(tx, 0), finished(tx, 0)], `cpu ${cpu}`).toEqual([0, 0]); // normalised
    }
    // Without a domain: every domain finishes a flush.
    const { tx, obs } = fresh();
    fqPush(tx, 0, 0, 519, 1);
    fqPush(tx, 0, 1, 519, 1);
    fqStartFlush(tx);
    fqFinishFlush(tx, obs);
    expect([fqCount(tx, 0, 0), fqCount(tx, 0, 1)]).toEqual([0, 0]);
  });
});

// The table frames a lazy unmap detaches travel with its flush-queue entry
// (Linux queue_iova's freelist): stamped with the ring's CPU and the
// domain's started count when queued, released only by a finished flush that
// covers them on that CPU's ring, and never when the ring wrapped over them.
describe("flush-queue: the detached table frames of an entry", () => {
  /** lazy, fqSize 2, two CPUs: dev0's one-page map unmapped on cpu0; the detached table frames. */
  function unmapped() {
    const r = Runner.of(lazy, { fqSize: 2, cpus: 2 });
    r.steps([map(0, 0), map(1, 1), unmap(0, 0)]);
    const fr = r.state[FRAMES];
    const detached = Array.from({ length: r.sys.cfg.frames }, (_, f) => f).filter((f) => isDetachedWithTag(fr, f, TAG_FQ));
    return { r, detached };
  }
  const stamp = (tx: ReturnType<typeof txOn>["tx"], f: number) => tx.c[FRAMES][f * FRAME_W + 1] >>> 16;

  it("queued on cpu0 with the domain's started count 0: stamped cpu 0, counter 0", () => {
    const { r, detached } = unmapped();
    expect(detached.length).toBeGreaterThan(0);
    const { tx } = txOn(r.sys, r.state);
    for (const f of detached) expect(stamp(tx, f), `frame ${f}`).toBe((0 << 8) | 2);
  });

  it("a finished flush on that CPU's ring releases and frees them; on another CPU's ring, or another domain, not", () => {
    const { r, detached } = unmapped();
    const { tx, obs } = txOn(r.sys, r.state);
    fqStartFlush(tx, 1);
    fqFinishFlush(tx, obs, 1, 0); // another domain's flush
    for (const f of detached) expect([isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ), stamp(tx, f)]).toEqual([true, 2]);
    fqStartFlush(tx, 0);
    fqFinishFlush(tx, obs, 0, 1); // dom 0's flush, but cpu1's ring only
    for (const f of detached) {
      expect(isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ)).toBe(true);
      expect(stamp(tx, f)).toBe((0 << 8) | 1); // normalised: counter -1, covered by the finished flush
    }
    fqRingFree(tx, 0, 0, obs); // cpu0's ring: the entry and its frames go
    expect(fqCount(tx, 0, 0)).toBe(0);
    for (const f of detached) expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_FREE);
  });

  it("released by a flush started before they were queued; not by one started after", () => {
    const { r, detached } = unmapped();
    const { tx, obs } = txOn(r.sys, r.state);
    fqStartFlush(tx, 0);
    fqFinishFlush(tx, obs, 0, 0);
    for (const f of detached) expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_FREE);
    // Queued after a flush started: not covered by it.
    const r2 = Runner.of(lazy, { fqSize: 2, cpus: 2 });
    r2.steps([map(0, 0), map(1, 1)]);
    const t2 = txOn(r2.sys, r2.state);
    fqStartFlush(t2.tx, 0);
    r2.state = t2.tx.commit();
    r2.step(unmap(0, 0));
    const fr2 = r2.state[FRAMES];
    const d2 = Array.from({ length: r2.sys.cfg.frames }, (_, f) => f).filter((f) => isDetachedWithTag(fr2, f, TAG_FQ));
    expect(d2.length).toBeGreaterThan(0);
    const t3 = txOn(r2.sys, r2.state);
    for (const f of d2) expect(stamp(t3.tx, f)).toBe((0 << 8) | 3);
    fqFinishFlush(t3.tx, t3.obs, 0, 0);
    for (const f of d2) {
      expect(isDetachedWithTag(t3.tx.c[FRAMES], f, TAG_FQ)).toBe(true);
      expect(stamp(t3.tx, f)).toBe((0 << 8) | 2); // counter 1 - 1 = 0
    }
  });

  it("a ring that wraps loses its entries' frames for good (STAMP_LOST): no flush releases them", () => {
    const { r, detached } = unmapped();
    const { tx, obs } = txOn(r.sys, r.state);
    fqPush(tx, 0, 0, 510, 1); // the ring (capacity 2) is full now
    expect(fqFull(tx, 0, 0)).toBe(true);
    expect(fqPush(tx, 0, 0, 509, 1, true, obs)).toBe(true);
    for (const f of detached) expect(stamp(tx, f)).toBe((0 << 8) | 0xff);
    fqStartFlush(tx, 0);
    fqFinishFlush(tx, obs, 0);
    for (const f of detached) {
      expect(isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ)).toBe(true);
      expect(stamp(tx, f)).toBe((0 << 8) | 0xff);
    }
  });
});

describe("flush-queue: what a release, a wrap and a normalisation leave", () => {
  /** lazy, two CPUs: dev0's map unmapped on cpu0 and dev1's on cpu1; each domain's detached table frames. */
  function both(fqSize = 2) {
    const r = Runner.of(lazy, { fqSize, cpus: 2 });
    r.steps([map(0, 0), map(1, 1), unmap(0, 0), unmap(1, 1)]);
    const fr = r.state[FRAMES];
    const of = (dom: number) => Array.from({ length: r.sys.cfg.frames }, (_, f) => f).filter((f) => isDetachedWithTag(fr, f, TAG_FQ) && (frameAux(fr, f) & 0xff) === dom);
    return { r, d0: of(0), d1: of(1) };
  }
  const stamp = (tx: ReturnType<typeof txOn>["tx"], f: number) => tx.c[FRAMES][f * FRAME_W + 1] >>> 16;

  it("released frames go back to the page allocator's free lists; another domain's detached frames stay", () => {
    const { r, d0, d1 } = both();
    expect([d0.length > 0, d1.length > 0]).toEqual([true, true]);
    const { tx, obs } = txOn(r.sys, r.state);
    obs.detail = true;
    fqStartFlush(tx, 0);
    fqFinishFlush(tx, obs, 0);
    const free = framesOnFreeLists(r.sys.cfg, tx.c[FRAMES]);
    for (const f of d0) expect(free.has(f), `frame ${f}`).toBe(true);
    for (const f of d1) {
      expect(free.has(f)).toBe(false);
      expect([isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ), stamp(tx, f)]).toEqual([true, (1 << 8) | 2]);
    }
    expect(obs.notes).toContain("flush queue: IOVA pages 0x207+1 (dom 0) released");
  });

  it("a wrap loses only its own ring's frames, and keeps the domain's timer; a push stamps only its domain's unqueued frames", () => {
    const { r, d0, d1 } = both();
    const { tx, obs } = txOn(r.sys, r.state);
    obs.detail = true;
    expect(fqTimer(tx.c[FQ], r.sys.g, 0)).toBeGreaterThan(0);
    const timer = fqTimer(tx.c[FQ], r.sys.g, 0);
    for (const f of d1) tx.w(FRAMES)[f * FRAME_W + 1] &= 0xffff; // dom 1's frames: detached, not queued yet
    fqPush(tx, 0, 0, 510, 1);
    for (const f of d1) expect(stamp(tx, f)).toBe(0); // dom 0's push leaves them alone
    expect(fqPush(tx, 0, 0, 509, 1, true, obs)).toBe(true); // full: wraps
    expect(fqTimer(tx.c[FQ], r.sys.g, 0)).toBe(timer);
    for (const f of d0) expect(stamp(tx, f)).toBe(0xff);
    for (const f of d1) expect(stamp(tx, f)).toBe(0);
    expect(obs.notes.some((n) => n.startsWith("flush queue of cpu0, dom 0: full after its own flush; the ring wraps"))).toBe(true);
  });

  it("a ring keeps the entries a flush did not cover, packed from its start, with their counts normalised", () => {
    const sys = Runner.of(lazy, { fqSize: 3, cpus: 2 }).sys;
    const { tx, obs } = txOn(sys);
    fqPush(tx, 0, 0, 519, 1);
    fqStartFlush(tx, 0);
    fqPush(tx, 0, 0, 518, 2);
    fqPush(tx, 0, 0, 515, 3);
    fqFinishFlush(tx, obs, 0, 0);
    const base = fqRingBase(sys.g, 0, 0);
    expect(Array.from(tx.c[FQ].slice(base, base + 1 + 3 * FQ_W))).toEqual([2, 518, 2, 0, 515, 3, 0, 0, 0, 0]);
    expect(Array.from(tx.c[FQ].slice(fqDomBase(sys.g, 0), fqDomBase(sys.g, 0) + 2))).toEqual([0, 0]);
  });
});

// Tests for the IOMMU command buffer in model/command-queue.ts.
import { describe, expect, it } from "vitest";
import {
  cmdCount, cmdSpace, completionDone, executeNextCommand, queueCompletionWait, queueInvalidateAll, queueInvalidatePages,
} from "../../model/command-queue.ts";
import { C } from "../../model/counters.ts";
import { CMDQ, CMD_W, IOTLB } from "../../model/geometry.ts";
import { CMD_COMPL_WAIT, CMD_INV_IOMMU_PAGES, cmdOpcode } from "../../model/formats/amd-command.ts";
import { iotlbFill, iotlbSlot } from "../../model/iotlb.ts";
import { Observation } from "../../model/observation.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { type Words } from "../../model/state.ts";
import { config, Runner, txOn } from "./helpers.ts";

function setup(over = {}) {
  const sys = makeSystem(config(over), strict);
  const { tx, obs } = txOn(sys);
  return { sys, tx, obs, g: sys.g };
}

/** Opcodes of the queued commands, head first. */
function queuedOps(q: Words, entries: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < q[1]; i++) out.push(cmdOpcode(q[2 + ((q[0] + i) % entries) * CMD_W + 1] >>> 0));
  return out;
}

/** Opcode of the i-th pending command (data[1] bits 31..28). */
function cmdOpcodeAt(q: readonly number[], i: number): number {
  return (q[2 + i * 4 + 1] >>> 28) & 0xf;
}

describe("command queue", () => {
  it("executes commands in FIFO order, one per call", () => {
    const { tx, obs, g } = setup();
    // Fill IOTLB slots of dom 0 and dom 1 so each invalidation has a visible effect.
    iotlbFill(tx, iotlbSlot(g, 0, 504), 9, true, true);
    iotlbFill(tx, iotlbSlot(g, 1, 504), 9, true, true);
    expect(queueInvalidatePages(tx, 0, 504, 1, true, obs)).toBe(true);
    expect(queueCompletionWait(tx, 0, obs)).toBe(true);
    expect(queueInvalidatePages(tx, 1, 504, 1, true, obs)).toBe(true);
    expect(queueCompletionWait(tx, 1, obs)).toBe(true);
    expect(cmdCount(tx.c[CMDQ])).toBe(4);
    expect(queuedOps(tx.c[CMDQ], g.cfg.cmdQueueEntries)).toEqual([CMD_INV_IOMMU_PAGES, CMD_COMPL_WAIT, CMD_INV_IOMMU_PAGES, CMD_COMPL_WAIT]);
    expect(obs.counters[C.iotlbInvCmds]).toBe(2);
    expect(obs.counters[C.completionWaits]).toBe(2);

    const o = new Observation();
    executeNextCommand(tx, o);
    expect(o.counters[C.iommuCmdsExecuted]).toBe(1);
    expect(tx.c[IOTLB][iotlbSlot(g, 0, 504)]).toBe(0);
    expect(tx.c[IOTLB][iotlbSlot(g, 1, 504)]).not.toBe(0);
    expect(completionDone(tx, 0)).toBe(false);
    executeNextCommand(tx, o);
    expect(completionDone(tx, 0)).toBe(true);
    expect(completionDone(tx, 1)).toBe(false);
    executeNextCommand(tx, o);
    expect(tx.c[IOTLB][iotlbSlot(g, 1, 504)]).toBe(0);
    expect(completionDone(tx, 1)).toBe(false);
    executeNextCommand(tx, o);
    expect(completionDone(tx, 1)).toBe(true);
    expect(cmdCount(tx.c[CMDQ])).toBe(0);
  });

  it("COMPLETION_WAIT sets only its own context's semaphore, and queueing one clears it", () => {
    const { tx, obs, g } = setup();
    for (let ctx = 0; ctx < g.contexts; ctx++) expect(completionDone(tx, ctx)).toBe(false);
    queueCompletionWait(tx, g.timerCtx, obs);
    executeNextCommand(tx, obs);
    for (let ctx = 0; ctx < g.contexts; ctx++) expect(completionDone(tx, ctx)).toBe(ctx === g.timerCtx);
    queueCompletionWait(tx, g.timerCtx, obs);
    expect(completionDone(tx, g.timerCtx)).toBe(false);
    queueCompletionWait(tx, 1, obs);
    executeNextCommand(tx, obs);
    expect(completionDone(tx, g.timerCtx)).toBe(true);
    expect(completionDone(tx, 1)).toBe(false);
  });

  it("an iommu event on an empty queue is a no-op returning the same state", () => {
    const r = Runner.of(strict);
    const s = r.step({ t: "iommu" });
    expect(s.noop).toBe(true);
    expect(s.reason).toMatch(/empty/);
    expect(s.post).toBe(s.pre);
    expect(s.counters[C.iommuCmdsExecuted]).toBe(0);
  });

  it("keeps the queue canonical: pending commands packed from the start, an emptied queue all zero", () => {
    const { tx, obs } = setup({ cmdQueueEntries: 4 });
    const entries = 4;
    const init = tx.c[CMDQ].slice();
    for (let i = 0; i < 3; i++) queueInvalidatePages(tx, 0, 504 + i, 1, true, obs);
    executeNextCommand(tx, obs);
    executeNextCommand(tx, obs);
    expect(tx.c[CMDQ][0]).toBe(0); // no head position: the remaining command moved to the front
    expect(cmdOpcodeAt(tx.c[CMDQ], 0)).toBe(3);
    for (let i = 0; i < 3; i++) expect(queueInvalidatePages(tx, 0, 510 + i, 1, false, obs)).toBe(true);
    expect(cmdCount(tx.c[CMDQ])).toBe(4);
    expect(cmdSpace(tx)).toBe(0);
    expect(queuedOps(tx.c[CMDQ], entries)).toEqual([3, 3, 3, 3]);
    while (cmdCount(tx.c[CMDQ]) > 0) executeNextCommand(tx, obs);
    expect(tx.c[CMDQ][0]).toBe(0);
    expect(Array.from(tx.c[CMDQ])).toEqual(Array.from(init));
  });

  it("refuses to queue when full, without counting; a refused wait clears the semaphore (no stale done)", () => {
    const { tx, g } = setup({ cmdQueueEntries: 4 });
    const obs = new Observation();
    queueCompletionWait(tx, 0, obs);
    executeNextCommand(tx, obs); // semaphore of ctx 0 set
    obs.reset();
    for (let i = 0; i < 4; i++) expect(queueInvalidateAll(tx, 0, obs)).toBe(true);
    expect(obs.counters[C.iotlbInvPages]).toBe(4 * g.winPages);
    const snap = tx.c[CMDQ].slice();
    const before = obs.counters.slice();
    expect(queueInvalidatePages(tx, 0, 504, 1, true, obs)).toBe(false);
    expect(queueInvalidateAll(tx, 1, obs)).toBe(false);
    expect(Array.from(tx.c[CMDQ])).toEqual(Array.from(snap));
    expect(completionDone(tx, 0)).toBe(true);
    expect(queueCompletionWait(tx, 0, obs)).toBe(false);
    expect(Array.from(obs.counters)).toEqual(Array.from(before));
    // Nothing queued, but the earlier wait's "done" is gone: a policy that ignores the failure keeps waiting.
    expect(tx.c[CMDQ][1]).toBe(snap[1]);
    expect(completionDone(tx, 0)).toBe(false);
  });

  it("a range invalidation covers the naturally aligned power-of-two range around it (Linux build_inv_address)", () => {
    const { tx, obs, g } = setup();
    for (let v = 503; v <= 509; v++) if (iotlbSlot(g, 0, v) >= 0) iotlbFill(tx, iotlbSlot(g, 0, v), 9, true, true);
    queueInvalidatePages(tx, 0, 505, 2, false, obs); // pages 505..506 -> 504..507 invalidated
    expect(obs.counters[C.iotlbInvPages]).toBe(4);
    executeNextCommand(tx, obs);
    const live = [];
    for (let v = 504; v <= 509; v++) if (tx.c[IOTLB][iotlbSlot(g, 0, v)] !== 0) live.push(v);
    expect(live).toEqual([508, 509]);
  });

  it("ignores an invalidation for a domain that does not exist", () => {
    const { tx, obs, g } = setup();
    iotlbFill(tx, iotlbSlot(g, 0, 504), 9, true, true);
    queueInvalidatePages(tx, 7, 504, 1, true, obs);
    const iotlb = tx.c[IOTLB].slice();
    executeNextCommand(tx, obs);
    expect(Array.from(tx.c[IOTLB])).toEqual(Array.from(iotlb));
    expect(tx.c[IOTLB][iotlbSlot(g, 0, 504)]).not.toBe(0);
    expect(cmdCount(tx.c[CMDQ])).toBe(0);
  });
});

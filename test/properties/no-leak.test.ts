/**
 * no-leak: quiescent states after DMA are reached (the antecedent), and in
 * them every built-in that claims no-leak has given everything back; a
 * policy that keeps a bounce slot marked in use is caught through
 * Policy.held.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, withIommu } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { findAnyPolicy, POLICIES } from "../../model/policies/index.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { DONE, FAIL, type Policy } from "../../model/policy.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";
import { findProperty } from "../../properties/index.ts";
import { leak, quiescent } from "../../properties/no-leak.ts";
import { Executor } from "../../checker/execute.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { CALLS, CALL_W, CMDQ, FQ, FRAMES, HDR, H_TIMER, IOVA, POL, PTMEM } from "../../model/geometry.ts";
import { armFqTimer, fqRingBase } from "../../model/flush-queue.ts";
import { pinFrame } from "../../model/pinning.ts";
import { ROLE_MORSEL_PT, ROLE_MORSEL_VIEW, setFrame } from "../../model/physical-memory.ts";
import { type State } from "../../model/state.ts";
import { copyState, txOn } from "../model/helpers.ts";

const noLeak = findProperty("no-leak")!;

/** A map and unmap driven to the end: strict-like unmaps need the IOMMU to run the invalidation and the wait, lazy a timer and a flush. */
const ROUND: Event[] = [
  { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 100, dir: "to-device" },
  { t: "dma", dev: 0, write: false, page: 0, offset: 0, len: 1 },
  { t: "unmap", cpu: 0, k: 0, free: true },
  { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 },
  { t: "tick", ms: 10 }, { t: "iommu" }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 2 },
];

describe("no-leak", () => {
  for (const name of ["strict", "lazy", "bounce", "shadow", "damn", "fns", "vfio", "viommu"]) {
    it(`${name}: a full map/unmap round reaches a quiescent state after a mapping existed, and nothing is held`, () => {
      const policy = POLICIES.find((p) => p.name === name)!;
      const sys = makeSystem(DEFAULT_CONFIG, policy);
      const st = new Stepper(sys, new Observation());
      let s = sys.init;
      let mapped = false;
      for (const e of ROUND) {
        s = st.step(s, e);
        mapped ||= !quiescent(sys, s);
      }
      expect(mapped).toBe(true);
      expect(quiescent(sys, s)).toBe(true);
      expect(leak(sys, s)).toBeNull();
      expect(new Executor(sys, [noLeak]).run(ROUND).violation).toBeNull();
    });
  }

  it("a bounce that never releases its slot is caught through Policy.held", () => {
    const keepSlot: Policy = {
      ...bounce,
      name: "test-bounce-keep-slot",
      unmap(k, m, phase) {
        if (phase === 0) return bounce.unmap(k, m, phase);
        if (!k.completionDone()) return phase;
        k.freeDetachedTables();
        k.freeIova(k.dev(m), k.iova(m), k.pages(m));
        return DONE;
      },
    };
    const r = new Executor(makeSystem(DEFAULT_CONFIG, keepSlot), [noLeak]).run(ROUND);
    expect(r.violation?.step).toBe(5);
    expect(r.violation?.message).toMatch(/bounce slot frame \d+ is still marked in use/);
    // Without Policy.held, the slot's frames still name the mapping (Kernel.setSegBounce) and no-leak sees it.
    const noHeld: Policy = { ...keepSlot, name: "test-bounce-keep-slot-no-held", held: undefined };
    const r2 = new Executor(makeSystem(DEFAULT_CONFIG, noHeld), [noLeak]).run(ROUND);
    expect(r2.violation?.step).toBe(5);
    expect(r2.violation?.message).toMatch(/frame \d+, mapping #0's bounce slot, was never released/);
  });

  it("a bounce pool block a handler took and never gave back is a leak", () => {
    const poolPerMap: Policy = {
      ...strict,
      name: "test-bounce-pool-per-map",
      map(k, m, phase) {
        if (phase === 0 && k.allocBouncePool(0) < 0) return FAIL; // the leak: never freeBouncePool
        return strict.map(k, m, phase);
      },
    };
    const r = new Executor(makeSystem(DEFAULT_CONFIG, poolPerMap), [noLeak]).run(ROUND);
    expect(r.violation?.step).toBe(5);
    expect(r.violation?.message).toMatch(/a bounce-pool frame taken after boot, was never given back/);
  });

  it("a map that fails for lack of a table frame gives back the tables it linked (AMD and VT-d; strict, vfio-stepwise)", () => {
    // 8 or 9 frames: the map of a 2-page buffer links its upper table(s), then finds no frame for the next
    // one. The undo (clear, invalidate, wait) unlinks the empty tables on the failing page's path, and
    // they are freed after the wait: nothing is left linked and empty (a leak with reclaimEmptyTables).
    const MAP2: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" };
    const drain: Event[] = [{ t: "iommu" }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }];
    for (const policy of [strict, findAnyPolicy("vfio-stepwise")!]) {
      for (const iommu of ["amd-v1", "vtd"] as const) {
        for (const [frames, iommuLevels] of [[8, 3], [8, 4], [9, 4]]) {
          const cfg = withIommu({ ...DEFAULT_CONFIG, frames, iommuLevels, cpus: 1, devices: 1 }, iommu);
          const sys = makeSystem(cfg, policy);
          const obs = new Observation();
          obs.detail = true;
          const st = new Stepper(sys, obs);
          let s = sys.init;
          let failed = false;
          for (const e of [MAP2, ...drain, { t: "resume", cpu: 0 } as Event, ...drain]) {
            s = st.step(s, e);
            failed ||= obs.notes.some((n) => /map failed/.test(n));
          }
          const where = `${policy.name} ${iommu} frames ${frames} levels ${iommuLevels}`;
          expect(failed, where).toBe(true);
          expect(quiescent(sys, s), where).toBe(true);
          expect(leak(sys, s), where).toBeNull();
        }
      }
    }
  });
});

describe("no-leak: when DMA is over, and what it reports", () => {
  const sys = makeSystem(DEFAULT_CONFIG, lazy);
  /** The initial state with one thing changed by `edit`. */
  const edited = (edit: (s: State) => void) => {
    const s = copyState(sys.init);
    edit(s);
    return s;
  };
  const TICK: Event = { t: "tick", ms: 1 };

  it("quiescent: not with the policy timer armed, a command queued, a call in progress, a flush timer armed or a deferred unmap queued", () => {
    expect(quiescent(sys, sys.init)).toBe(true);
    const busy = [
      edited((s) => (s[HDR][H_TIMER] = 5)),
      edited((s) => (s[CMDQ][1] = 2)),
      edited((s) => (s[CALLS][0] = 1)), // cpu0's context
      edited((s) => (s[CALLS][sys.g.timerCtx * CALL_W] = 1)), // the timer context, the last one
      edited((s) => (s[FQ][fqRingBase(sys.g, 1, 1)] = 1)), // one entry on device 1's ring of cpu 1
    ];
    for (const s of busy) expect(quiescent(sys, s)).toBe(false);
    const { tx } = txOn(sys);
    armFqTimer(tx, 1, 10);
    expect(quiescent(sys, tx.commit())).toBe(false);
  });

  it("lazy: after the unmap returned, its deferred unmap and its timer keep DMA in progress until the flush", () => {
    const st = new Stepper(sys, new Observation());
    let s = sys.init;
    const seen: boolean[] = [];
    for (const e of ROUND) {
      s = st.step(s, e);
      seen.push(quiescent(sys, s));
    }
    // map, dma, unmap (returns: the mapping slot is free, the IOVA waits on the ring), ..., tick 10 (flush), iommu x3, resume
    expect(seen[2]).toBe(false);
    expect(seen.at(-1)).toBe(true);
  });

  it("a frame pinned twice, or once, is reported with its count", () => {
    const { tx, obs } = txOn(sys);
    expect(pinFrame(tx, 3, obs)).toBe(true); // an MMU table frame from boot
    const once = tx.commit();
    expect(leak(sys, once)).toBe("frame 3 is still pinned (1 pin)");
    const t2 = txOn(sys, once);
    expect(pinFrame(t2.tx, 3, t2.obs)).toBe(true);
    expect(leak(sys, t2.tx.commit())).toBe("frame 3 is still pinned (2 pins)");
  });

  it("a morsel page table or view table left after boot is a leak", () => {
    const pt = edited((s) => setFrame(s[FRAMES], 20, ROLE_MORSEL_PT, 0, 0, 0));
    expect(leak(sys, pt)).toBe("frame 20 still holds a morsel page table");
    const view = edited((s) => setFrame(s[FRAMES], 20, ROLE_MORSEL_VIEW, 0, 0, 0));
    expect(leak(sys, view)).toBe("frame 20 still holds a morsel view table");
  });

  it("checked (and counted) on a transition into a quiescent state, or one that changed what it accounts; not on an idle step", () => {
    // A quiescent state holding a pinned frame (3): an idle step over it reports nothing again.
    const { tx, obs } = txOn(sys);
    expect(pinFrame(tx, 3, obs)).toBe(true); // an MMU table frame from boot
    const s = tx.commit();
    const ob = new Observation();
    const count = (pre: State, post: State) => {
      const c = new Float64Array(3);
      noLeak.antecedent!.count(sys, pre, TICK, ob, post, c, 1);
      return Array.from(c);
    };
    expect(noLeak.check(sys, s, TICK, ob, s)).toBeNull();
    expect(count(s, s)).toEqual([0, 0, 0]);
    // The same words in a new array: a transition that rewrote one component is checked.
    for (const k of [FRAMES, IOVA, PTMEM, POL]) {
      const post = s.slice() as unknown as State;
      (post as unknown as unknown[])[k] = s[k].slice();
      expect(noLeak.check(sys, s, TICK, ob, post)?.message, `component ${k}`).toBe("nothing is mapped, in progress or queued, yet frame 3 is still pinned (1 pin)");
      expect(count(s, post), `component ${k}`).toEqual([0, 1, 0]);
    }
    // From a busy state into the quiescent one: checked; into a busy one: not.
    const busy = copyState(s);
    busy[HDR][H_TIMER] = 5;
    expect(noLeak.check(sys, busy, TICK, ob, s)?.message).toMatch(/frame 3 is still pinned/);
    expect(count(busy, s)).toEqual([0, 1, 0]);
    expect(noLeak.check(sys, s, TICK, ob, busy)).toBeNull();
    expect(count(s, busy)).toEqual([0, 0, 0]);
  });
});

describe("no-leak: lazy's flush-queue ring wrapping while another flush is in flight", () => {
  // Found by exhausting lazy's device race scope (npm run prove; 24 events, 11,914,205 states): the
  // timer's flush starts and blocks; cpu0 fills its ring (fqSize 2), flushes it itself and finishes
  // first, so the finished count stays below its entries' counters and the ring is still full;
  // Linux's fq_ring_add does not check, the ring wraps, and the unlinked table frame 6 on it is lost.
  const map: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device", offset: 32, len: 16 };
  const unmap = (k: number): Event => ({ t: "unmap", cpu: 0, k, free: true });
  const iommu: Event = { t: "iommu" };
  const tick: Event = { t: "tick", ms: 10 };
  const resume: Event = { t: "resume", cpu: 0 };
  const WRAP: Event[] = [
    map, map, unmap(0), map, unmap(1), map, unmap(0), iommu, iommu, tick, iommu, iommu, resume,
    map, unmap(0), unmap(0), iommu, iommu, resume, resume, tick, iommu, iommu, resume,
  ];
  const config = { ...DEFAULT_CONFIG, cpus: 1, devices: 2, frames: 10, maxMappings: 2, iovaPages: 4, iovaBasePfn: 510, fqSize: 2, fqTimeoutMs: 10 };

  it("leaks the table frame the lost entry held, at the last step", () => {
    const r = new Executor(makeSystem(config, lazy), [noLeak]).run(WRAP);
    expect(r.violation?.step).toBe(23);
    expect(r.violation?.message).toBe("nothing is mapped, in progress or queued, yet frame 6, an IOMMU page table of device 0's domain, was unlinked but never freed");
  });

  it("does not leak when the timer's flush finishes before cpu0's ring fills (the same events, the timer resumed first)", () => {
    // Move the timer context's resume (step 20) before cpu0's own flush completes (step 19): its
    // flush finishes first, the finished count covers the ring, and nothing wraps.
    const reordered = [...WRAP.slice(0, 16), iommu, iommu, { t: "resume", cpu: 1 } as Event, resume, tick, iommu, iommu, resume];
    const r = new Executor(makeSystem(config, lazy), [noLeak]).run(reordered);
    expect(r.violation).toBeNull();
  });
});

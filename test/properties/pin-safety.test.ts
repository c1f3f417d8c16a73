/**
 * pin-safety can fail, and holds where it should: a policy that returns a
 * frame while the IOTLB still maps it, or that drops its pins before the
 * invalidation completes, is caught with a short counterexample; strict
 * frees only unreachable frames (and does free frames devices had touched,
 * so the check is not vacuous).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { FRAMES } from "../../model/geometry.ts";
import { frameRole, ROLE_FREE, ROLE_USER } from "../../model/physical-memory.ts";
import { userTouch, userUnmap } from "../../model/mmu.ts";
import { iommuMapPage } from "../../model/iommu-page-table.ts";
import { pinFrame } from "../../model/pinning.ts";
import { Runner, txOn } from "../model/helpers.ts";
import { antecedentCounts } from "./helpers.ts";
import { DONE, type Policy } from "../../model/policy.ts";
import { strict, UNMAP_START, UNMAP_WAIT } from "../../model/policies/strict.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { strictFreeBeforeWait } from "../../model/policies/broken.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { randomCheck } from "../../checker/random.ts";
import { traceEvents } from "../../checker/trace.ts";
import { Executor } from "../../checker/execute.ts";
import { type Event } from "../../model/events.ts";

const pinSafety = findProperty("pin-safety")!;

/** Strict that pins the buffer at map and unpins it at unmap: correctly (after the wait) or too early. */
function pinningStrict(early: boolean): Policy {
  return {
    ...strict,
    name: early ? "test-pin-unpin-early" : "test-pin",
    map(k, m, phase) {
      const r = strict.map(k, m, phase);
      if (r === DONE && !k.pinMapping(m)) return DONE;
      return r;
    },
    unmap(k, m, phase) {
      const r = strict.unmap(k, m, phase);
      if (early ? phase === UNMAP_START && r === UNMAP_WAIT : r === DONE) k.unpinMapping(m);
      return r;
    },
  };
}

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "bidirectional" };
const DMA: Event = { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };

describe("pin-safety", () => {
  it("is violated by a frame returned while the IOTLB still maps it (strict-free-before-wait, lazy)", () => {
    for (const p of [strictFreeBeforeWait, lazy]) {
      const sys = makeSystem(DEFAULT_CONFIG, p);
      const r = randomCheck(sys, pinSafety, { runs: 10000, seed: 42, maxEvents: 24 });
      expect(r.verdict, p.name).toBe("violated");
      expect(r.events!.length).toBeLessThanOrEqual(4);
      expect(traceEvents(sys, [pinSafety], r.events!).explanation).toMatch(/reclaimed it .* device \d can still reach it through an IOTLB entry/);
    }
  });

  it("is violated by an unpin before the invalidation completes, not by the unpin after it", () => {
    const events: Event[] = [MAP, DMA, { t: "unmap", cpu: 0, k: 0, free: false }];
    const bad = new Executor(makeSystem(DEFAULT_CONFIG, pinningStrict(true)), [pinSafety]).run(events);
    expect(bad.violation?.step).toBe(2);
    expect(bad.violation?.message).toMatch(/last pin was dropped, yet device 0 can still reach it through an IOTLB entry/);
    const good = new Executor(makeSystem(DEFAULT_CONFIG, pinningStrict(false)), [pinSafety]);
    const all: Event[] = [...events, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }];
    expect(good.run(all).violation).toBeNull();
    const r = randomCheck(makeSystem(DEFAULT_CONFIG, pinningStrict(false)), pinSafety, { runs: 3000, seed: 7, maxEvents: 24 });
    expect(r.verdict).toBe("holds");
  });

  it("is violated under passthrough by any reclaim: the device reaches every frame", () => {
    const sys = makeSystem(DEFAULT_CONFIG, { ...strict, name: "pt", attach: () => "passthrough" });
    const run = new Executor(sys, [pinSafety]).run([{ t: "kmalloc", size: 64 }, { t: "kfree", k: 0 }]);
    expect(run.violation?.message).toMatch(/device 0 can still reach it through its passthrough/);
  });

  it("user memory: munmap reclaims a page a device still maps unless it is pinned", () => {
    const sys = makeSystem({ ...DEFAULT_CONFIG, userPages: 2 }, strict);
    const { tx, obs } = txOn(sys);
    userTouch(tx, 0, 0, true, obs);
    const user = [...Array(sys.cfg.frames).keys()].find((f) => frameRole(tx.c[FRAMES], f) === ROLE_USER)!;
    iommuMapPage(tx, 0, sys.g.winBase, user, true, true, obs); // e.g. a VFIO-style mapping of the process's page
    const mapped = tx.commit();
    for (const pinned of [false, true]) {
      const t = txOn(sys, mapped);
      if (pinned) pinFrame(t.tx, user, t.obs);
      const before = t.tx.commit();
      const u = txOn(sys, before);
      userUnmap(u.tx, 0, 0, u.obs);
      const v = pinSafety.check(sys, before, { t: "user-unmap", cpu: 0, page: 0 }, u.obs, u.tx.commit());
      if (pinned) expect(v).toBeNull();
      else expect(v?.message).toMatch(new RegExp(`frame ${user}: the page allocator reclaimed it \\(it held user memory and is free now\\), yet device 0 can still reach it through its domain's page tables`));
    }
  });

  it("strict frees frames a device touched, only once nothing reaches them", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strict);
    const events: Event[] = [MAP, DMA, { t: "unmap", cpu: 0, k: 0, free: true }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }];
    const exec = new Executor(sys, [pinSafety]);
    const run = exec.run(events);
    expect(run.violation).toBeNull();
    // The buffer's slab frame really was reclaimed in this run (the check had something to check).
    const before = exec.run(events.slice(0, 2)).final;
    const slab = [...Array(sys.cfg.frames).keys()].filter((f) => frameRole(before[FRAMES], f) !== ROLE_FREE && frameRole(run.final[FRAMES], f) === ROLE_FREE);
    expect(slab.length).toBeGreaterThan(0);
  });
});

describe("pin-safety: its antecedent's counts and the violation's fields", () => {
  // Per step: [guard, frames reclaimed, frames whose last pin dropped, guard].
  it("strict: a kfree reclaims its slab frame; after the unmap's wait, the buffer's slab frame and the two tables it emptied", () => {
    const r = Runner.of(strict);
    const c = antecedentCounts(pinSafety, r, [
      { t: "kmalloc", size: 64 }, { t: "kfree", k: 0 }, MAP, DMA, { t: "unmap", cpu: 0, k: 0, free: true }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 },
    ]);
    expect(c.map((x) => x.join(""))).toEqual(["0000", "0100", "0000", "0000", "0000", "0000", "0000", "0300"]);
  });

  it("a pinning strict: the unpin after the wait counts as a last pin dropped, and is no violation", () => {
    const r = new Runner(makeSystem(DEFAULT_CONFIG, pinningStrict(false)));
    const c = antecedentCounts(pinSafety, r, [MAP, DMA, { t: "unmap", cpu: 0, k: 0, free: false }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }]);
    // Last step: the buffer's slab frame stays (not freed), its pin drops; the two emptied tables are reclaimed.
    expect(c.map((x) => x.join(""))).toEqual(["0000", "0000", "0000", "0000", "0000", "0210"]);
    const s = r.log.at(-1)!;
    expect(pinSafety.check(r.sys, s.pre, s.event, r.obs, s.post)).toBeNull();
  });

  it("through a domain's tables or the IOTLB the violation names the IOVA page; through passthrough or forged requests none", () => {
    const early = new Executor(makeSystem(DEFAULT_CONFIG, pinningStrict(true)), [pinSafety]).run([MAP, DMA, { t: "unmap", cpu: 0, k: 0, free: false }]);
    expect(early.violation?.iovaPfn).toBe(makeSystem(DEFAULT_CONFIG, strict).g.winBase + 15);
    const pt = makeSystem(DEFAULT_CONFIG, { ...strict, name: "pt", attach: () => "passthrough" });
    const v1 = new Executor(pt, [pinSafety]).run([{ t: "kmalloc", size: 64 }, { t: "kfree", k: 0 }]).violation;
    expect(v1?.message).toMatch(/can still reach it through its passthrough \(identity\) attachment$/);
    expect(v1?.iovaPfn).toBeUndefined();
    // An untrusted device with ATS and no ACS Translation Blocking can forge a translated request to any frame.
    const forging = makeSystem({ ...DEFAULT_CONFIG, untrusted: true, ats: true }, strict);
    const v2 = new Executor(forging, [pinSafety]).run([{ t: "kmalloc", size: 64 }, { t: "kfree", k: 0 }]).violation;
    expect(v2?.message).toMatch(/^frame \d+: the page allocator reclaimed it \(it held slab memory and is free now\), yet device 0 can still reach it through forged translated requests \(ATS, no ACS Translation Blocking\)$/);
    expect(v2?.iovaPfn).toBeUndefined();
    expect(v2?.dev).toBe(0);
  });
});

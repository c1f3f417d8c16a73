/**
 * page_pool (Linux net/core/page_pool.c, PP_FLAG_DMA_MAP): rx pages stay
 * mapped while they recycle, leave the pool through the IOMMU policy
 * underneath; consumed-data-integrity: a device can write a buffer the stack
 * is reading when its page stays mapped, and not when it was unmapped.
 */
import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES } from "../../model/geometry.ts";
import { frameRole, ROLE_IO_POOL } from "../../model/physical-memory.ts";
import { FAULT_NONE } from "../../model/observation.ts";
import { pagePoolDamn, pagePoolLazy, pagePoolReleaseMapped, pagePoolStrict } from "../../model/policies/page-pool.ts";
import { damn } from "../../model/policies/damn.ts";
import { findAnyPolicy, POLICIES } from "../../model/policies/index.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { ALL_PROPERTIES, findProperty } from "../../properties/index.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { CoverageRecorder } from "../../checker/coverage.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { Runner } from "../model/helpers.ts";

const rxPage: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "from-device" };
const free0: Event = { t: "unmap", cpu: 0, k: 0, free: true };

/** Two live page-sized rx buffers, so that a page can leave a pool that already keeps a free one. */
const RELEASE_SCOPE: Scope = {
  config: { ...DEFAULT_SCOPE.config, maxMappings: 2 },
  alphabet: {
    ...DEFAULT_SCOPE.alphabet, kmallocSizes: [], pageSizes: [4096], directions: ["from-device"], dmaOffsets: [0], unmapSlots: 2, kernelSizes: [], tickMs: [],
    mapRanges: [],
  },
};

/** The default scope's rx buffers, with a device write at the top of a page, where page_frag places a fragment. */
const CONSUME_SCOPE: Scope = {
  config: DEFAULT_SCOPE.config,
  alphabet: { ...DEFAULT_SCOPE.alphabet, kmallocSizes: [64], directions: ["from-device"], dmaOffsets: [0, 4096 - 64], mapRanges: [] },
};

describe("page_pool", () => {
  it("is selectable by name but not in the default run", () => {
    expect(findAnyPolicy("page-pool@strict")).toBe(pagePoolStrict);
    expect(findAnyPolicy("page-pool@lazy")).toBe(pagePoolLazy);
    expect(POLICIES.some((p) => p.name.startsWith("page-pool"))).toBe(false);
  });

  it("recycles an rx page without any DMA API work once it is in the pool", () => {
    const r = Runner.of(pagePoolStrict);
    expect(r.step(rxPage).counters[C.iommuPteWrites]).toBeGreaterThan(0); // the page enters the pool: mapped once
    for (const e of [free0, rxPage, free0]) {
      const s = r.step(e);
      expect(s.noop).toBe(false);
      for (const c of ["iommuPteWrites", "iotlbInvCmds", "completionWaits"] as const) expect(s.counters[C[c]], `${e.t} ${c}`).toBe(0);
    }
  });

  it("a page leaving a full pool is unmapped through strict before the page allocator gets it back", () => {
    const r = Runner.of(pagePoolStrict, { maxMappings: 2 });
    r.steps([rxPage, rxPage, { t: "unmap", cpu: 0, k: 1, free: true }]); // page 2 recycled: the pool keeps one free page
    const leave = r.step(free0); // page 1 must leave: invalidation and wait queued, the call blocks
    expect(leave.counters[C.iotlbInvCmds]).toBe(1);
    const pool = (s: typeof r.state) => Array.from({ length: DEFAULT_SCOPE.config.frames }, (_, f) => f).filter((f) => frameRole(s[FRAMES], f) === ROLE_IO_POOL);
    expect(pool(r.state)).toHaveLength(2);
    r.steps([{ t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }]);
    expect(pool(r.state)).toHaveLength(1); // given back only after the wait
    const late = r.step({ t: "dma", dev: 0, write: true, page: 15, offset: 0, len: 1 });
    expect(late.fault).not.toBe(FAULT_NONE);
  });

  it("page-pool-release-mapped is caught by page-confinement with the shortest counterexample; page-pool@strict holds in the same scope", () => {
    const prop = findProperty("page-confinement")!;
    const alphabet = alphabetEvents(RELEASE_SCOPE);
    const bad = exhaustiveCheck(makeSystem(RELEASE_SCOPE.config, pagePoolReleaseMapped), [prop], alphabet, { depth: 40, maxStates: 2_000_000 });
    const cx = bad.outcomes[0].events!;
    expect(cx.map((e) => e.t)).toEqual(["map", "map", "unmap", "unmap", "dma"]);
    const v = new Executor(makeSystem(RELEASE_SCOPE.config, pagePoolReleaseMapped), [prop]).run(cx).violation!;
    expect(v.message).toMatch(/holds nothing granted to device 0: it is free/);
    const good = exhaustiveCheck(makeSystem(RELEASE_SCOPE.config, pagePoolStrict), [prop], alphabet, { depth: 40, maxStates: 2_000_000 });
    expect(good.exhausted).toBe(true);
    expect(good.outcomes[0].events).toBeNull();
  });
});

describe("consumed-data-integrity", () => {
  const prop = findProperty("consumed-data-integrity")!;

  it("page_pool: the device writes an rx fragment the stack is reading, because its page stays mapped (3 events)", () => {
    const r = exhaustiveCheck(makeSystem(CONSUME_SCOPE.config, pagePoolStrict), [prop], alphabetEvents(CONSUME_SCOPE), { depth: 40, maxStates: 2_000_000 });
    const cx = r.outcomes[0].events!;
    expect(cx.map((e) => e.t)).toEqual(["map", "unmap", "dma"]);
    expect(cx[1]).toMatchObject({ t: "unmap", free: false });
    const v = new Executor(makeSystem(CONSUME_SCOPE.config, pagePoolStrict), [prop]).run(cx).violation!;
    expect(v.message).toMatch(/I\/O pool buffer of the driver of dev0, which the kernel is consuming: its unmap returned/);
    // Under strict the same buffer is unmapped before the stack reads it: the write faults.
    expect(new Executor(makeSystem(CONSUME_SCOPE.config, strict), [prop]).run(cx).violation).toBeNull();
  });

  it("a freed buffer is given back: the same write after unmap +free is no violation", () => {
    const cx: Event[] = [
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" },
      free0,
      { t: "dma", dev: 0, write: true, page: 15, offset: 4096 - 64, len: 1 },
    ];
    const ex = new Executor(makeSystem(CONSUME_SCOPE.config, pagePoolStrict), [prop]).run(cx);
    expect(ex.violation).toBeNull();
  });

  it("its antecedent is reached by a write into a held buffer's frame; under bounce the same events never reach it (vacuous)", () => {
    const cx: Event[] = [
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" },
      { t: "unmap", cpu: 0, k: 0, free: false },
      { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }, // strict's unmap waits for its invalidation
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" },
      { t: "dma", dev: 0, write: true, page: 15, offset: 0, len: 1 },
    ];
    const reached = (policy: typeof strict) => {
      const sys = makeSystem(DEFAULT_SCOPE.config, policy);
      const rec = new CoverageRecorder(sys, [prop]);
      const exec = new Executor(sys, []);
      exec.observer = rec;
      exec.run(cx);
      return rec.result(0).antecedent!;
    };
    // strict: the second buffer shares the held one's slab page; page_pool: its pool page.
    expect(reached(strict)).toMatchObject({ reached: 1, vacuous: null });
    expect(reached(pagePoolStrict)).toMatchObject({ reached: 1, vacuous: null });
    expect(reached(bounce)).toMatchObject({ reached: 0, vacuous: expect.stringContaining("never reached") });
  });
});

describe("page-pool@damn", () => {
  /** Verdict per property of an exhaustive run: "holds" or "violated (n)". */
  const verdicts = (scope: Scope): Record<string, string> => {
    const r = exhaustiveCheck(makeSystem(scope.config, pagePoolDamn), ALL_PROPERTIES, alphabetEvents(scope), { depth: 40, maxStates: 2_000_000 });
    expect(r.exhausted).toBe(true);
    return Object.fromEntries(r.outcomes.map((o, i) => [ALL_PROPERTIES[i].name, o.events === null ? "holds" : `violated (${o.events.length})`]));
  };

  it("is selectable by name; its steps are DAMN's (page_pool's pages come from DAMN's pool and go back to it mapped)", () => {
    expect(findAnyPolicy("page-pool@damn")).toBe(pagePoolDamn);
    expect(pagePoolDamn.claims).toEqual(damn.claims);
    const r = Runner.of(pagePoolDamn);
    r.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" });
    for (const e of [free0, { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" } as Event, free0]) {
      const s = r.step(e);
      for (const c of ["iommuPteWrites", "iotlbInvCmds", "completionWaits"] as const) expect(s.counters[C[c]], `${e.t} ${c}`).toBe(0);
    }
  });

  it("verdicts on every property: the default scope, the fragment scope and the release scope (docs/policies/page-pool.md)", () => {
    const held = Object.fromEntries(ALL_PROPERTIES.map((p) => [p.name, "holds"]));
    expect(verdicts(DEFAULT_SCOPE)).toEqual(held);
    expect(verdicts(CONSUME_SCOPE)).toEqual({ ...held, "byte-confinement": "violated (2)", "consumed-data-integrity": "violated (3)" });
    expect(verdicts(RELEASE_SCOPE)).toEqual({ ...held, "byte-confinement": "violated (2)", "consumed-data-integrity": "violated (3)" });
  });
});

/**
 * MAIO (model/policies/maio.ts): a compound page shared by the user process
 * and the NIC, per-page put_page; user-confinement (properties/user-confinement.ts);
 * the broken maio-tail-freed-while-mapped caught with its shortest counterexample.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { eventsArbitrary } from "../../checker/arbitraries.ts";
import { Observation } from "../../model/observation.ts";
import { pagePoolDamn } from "../../model/policies/page-pool.ts";
import { Stepper } from "../../model/system.ts";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES, FRAME_W } from "../../model/geometry.ts";
import { F_USER_SHARED, frameRole, ROLE_IO_POOL } from "../../model/physical-memory.ts";
import { maio, maioTailFreedWhileMapped } from "../../model/policies/maio.ts";
import { findAnyPolicy, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES } from "../../model/policies/index.ts";
import { makeSystem } from "../../model/system.ts";
import { ALL_PROPERTIES, findProperty } from "../../properties/index.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { checkInvariants, config, copyState, Runner, statesEqual } from "../model/helpers.ts";

/**
 * The MAIO scope (docs/policies/maio.md): the default machine with 16 frames
 * (the shared compound page, its IOMMU tables and the process's tables take
 * 7 at boot) and 2 user pages (the shared compound page is 2 pages); a 64-byte
 * buffer and an 8 KiB one (the whole compound page, head and tail), both
 * directions; the process reads and writes both shared pages.
 */
export const MAIO_SCOPE: Scope = {
  config: { ...DEFAULT_SCOPE.config, frames: 16, userPages: 2 },
  alphabet: {
    ...DEFAULT_SCOPE.alphabet, kmallocSizes: [64], pageSizes: [8192], mapRanges: [], directions: ["to-device", "from-device"], userTouchPages: [0, 1],
  },
};

const search = { depth: 40, maxStates: 2_000_000 };

describe("maio", () => {
  it("is selectable by name, not in the default run", () => {
    expect(findAnyPolicy("maio")).toBe(maio);
    expect(findAnyPolicy("maio-tail-freed-while-mapped")).toBe(maioTailFreedWhileMapped);
    expect(NET_POLICIES).toContain(maio);
    expect(NET_BROKEN_POLICIES).toContain(maioTailFreedWhileMapped);
    expect(POLICIES).not.toContain(maio);
  });

  it("shares one compound page with the process and the NIC from boot: user pages 0 and 1 reach its frames without a fault", () => {
    const r = Runner.of(maio, MAIO_SCOPE.config);
    const fr = r.state[FRAMES];
    const shared = Array.from({ length: MAIO_SCOPE.config.frames }, (_, f) => f)
      .filter((f) => frameRole(fr, f) === ROLE_IO_POOL && (fr[f * FRAME_W] & F_USER_SHARED) !== 0);
    expect(shared).toHaveLength(2);
    for (const page of [0, 1]) {
      const s = r.step({ t: "user-touch", cpu: 0, page, write: false });
      expect(s.counters[C.ptFramesAllocated]).toBe(0); // no page fault: the page is mapped already
      expect(s.counters[C.mmuPteWrites]).toBe(0);
    }
  });

  it("zero-copy receive: map, the NIC writes, unmap, the process reads the page; no IOMMU work, no copy", () => {
    const r = Runner.of(maio, MAIO_SCOPE.config);
    const events: Event[] = [
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" },
      { t: "dma", dev: 0, write: true, page: 15, offset: 4096 - 64, len: 64 },
      { t: "unmap", cpu: 0, k: 0, free: false },
      { t: "user-touch", cpu: 0, page: 0, write: false },
    ];
    for (const e of events) {
      const s = r.step(e);
      expect(s.noop, e.t).toBe(false);
      for (const c of ["iommuPteWrites", "iotlbInvCmds", "completionWaits", "bytesCopied"] as const) expect(s.counters[C[c]], `${e.t} ${c}`).toBe(0);
    }
  });

  it("verdicts on every property, exhausted on the MAIO scope (docs/policies/maio.md)", () => {
    const r = exhaustiveCheck(makeSystem(MAIO_SCOPE.config, maio), ALL_PROPERTIES, alphabetEvents(MAIO_SCOPE), search);
    expect(r.exhausted).toBe(true);
    const got = Object.fromEntries(r.outcomes.map((o, i) => [ALL_PROPERTIES[i].name, o.events === null ? "holds" : `violated (${o.events.length})`]));
    const held = Object.fromEntries(ALL_PROPERTIES.map((p) => [p.name, "holds"]));
    expect(got).toEqual({ ...held, "byte-confinement": "violated (2)", "leftover-data": "violated (2)", "consumed-data-integrity": "violated (3)" });
  });

  it("leftover-data: the NIC reads what the process wrote into a shared page (the pool passes pages between them)", () => {
    const prop = findProperty("leftover-data")!;
    const cx: Event[] = [{ t: "user-touch", cpu: 0, page: 0, write: true }, { t: "dma", dev: 0, write: false, page: 14, offset: 0, len: 1 }];
    const v = new Executor(makeSystem(MAIO_SCOPE.config, maio), [prop]).run(cx).violation!;
    expect(v.message).toMatch(/holds user data/);
  });
});

describe("maio-tail-freed-while-mapped", () => {
  it("is caught by user-confinement in 3 events: the tail page is free while the process still maps it; maio holds in the same scope", () => {
    const prop = findProperty("user-confinement")!;
    const alphabet = alphabetEvents(MAIO_SCOPE);
    const bad = exhaustiveCheck(makeSystem(MAIO_SCOPE.config, maioTailFreedWhileMapped), [prop], alphabet, search);
    const cx = bad.outcomes[0].events!;
    expect(cx).toEqual([
      { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" },
      { t: "unmap", cpu: 0, k: 0, free: true },
      { t: "user-touch", cpu: 0, page: 1, write: false },
    ]);
    const v = new Executor(makeSystem(MAIO_SCOPE.config, maioTailFreedWhileMapped), [prop]).run(cx).violation!;
    expect(v.message).toMatch(/the user process reached frame \d+, which is not granted to it: it is free/);
    const good = exhaustiveCheck(makeSystem(MAIO_SCOPE.config, maio), [prop], alphabet, search);
    expect(good.exhausted).toBe(true);
    expect(good.outcomes[0].events).toBeNull();
  });

  it("once the kernel reuses the freed tail, the process reads the kernel's data through the shared mapping", () => {
    const prop = findProperty("user-confinement")!;
    const cx: Event[] = [
      { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" },
      { t: "unmap", cpu: 0, k: 0, free: true },
      { t: "kmalloc", size: 64 },
      { t: "user-touch", cpu: 0, page: 1, write: false },
    ];
    const v = new Executor(makeSystem(MAIO_SCOPE.config, maioTailFreedWhileMapped), [prop]).run(cx).violation!;
    expect(v.message).toMatch(/not granted to it: it is .*slab/);
  });

  it("the device side: page-confinement (3 events), pin-safety (2), iotlb-coherence (4)", () => {
    const alphabet = alphabetEvents(MAIO_SCOPE);
    const names = ["page-confinement", "pin-safety", "iotlb-coherence"];
    const r = exhaustiveCheck(makeSystem(MAIO_SCOPE.config, maioTailFreedWhileMapped), names.map((n) => findProperty(n)!), alphabet, search);
    expect(r.outcomes.map((o) => o.events?.length)).toEqual([3, 2, 4]);
  });
});

describe("maio and page-pool@damn steps", () => {
  // The random engine's machine (4 user pages: a 4-page shared compound page) and a cramped one.
  const configs = [config(), config({ frames: 16, maxObjects: 6, cmdQueueEntries: 4, maxMappings: 3, fqSize: 1, iovaPages: 4, maxOrder: 2, userPages: 2 })];
  for (const cfg of configs) {
    for (const policy of [maio, pagePoolDamn]) {
      const sys = makeSystem(cfg, policy);
      test.prop([eventsArbitrary(cfg, 40)], { numRuns: 60 })(
        `${policy.name} on ${cfg.frames} frames: total, pure, and keeps the structural invariants`,
        (evs) => {
          const stepper = new Stepper(sys, new Observation());
          let s = sys.init;
          expect(checkInvariants(sys, s)).toBeNull();
          for (let i = 0; i < evs.length; i++) {
            const pre = s;
            const before = copyState(pre);
            s = stepper.step(pre, evs[i]);
            if (!statesEqual(pre, before)) throw new Error(`step ${i} (${JSON.stringify(evs[i])}) mutated its input state`);
            const bad = checkInvariants(sys, s);
            if (bad !== null) throw new Error(`after step ${i} (${JSON.stringify(evs[i])}): ${bad}`);
          }
          expect(statesEqual(sys.init, makeSystem(cfg, policy).init)).toBe(true);
        },
      );
    }
  }
});

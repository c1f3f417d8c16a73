/**
 * shadow (ASPLOS'16 shadow DMA buffers): the device only ever sees its own
 * permanently mapped shadow pages; map and unmap copy; nothing is invalidated.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { shadow } from "../../model/policies/shadow.ts";
import { shadowZeroCopy } from "../../model/policies/broken.ts";
import { makeSystem } from "../../model/system.ts";
import { claimsOf } from "../../model/policy.ts";
import { findProperty, MEMORY_PROPERTIES, PROPERTIES } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";
import { randomCheck } from "../../checker/random.ts";
import { costReport } from "../../checker/cost-report.ts";
import { findWorkload } from "../../checker/workloads.ts";
import { defaultCosts } from "../../costs/cost-table.ts";
import { strict } from "../../model/policies/strict.ts";
import { fns } from "../../model/policies/fns.ts";

describe("shadow", () => {
  it("the device reaches its shadow page before, during and after the mapping, and nothing is violated", () => {
    const sys = makeSystem(DEFAULT_CONFIG, shadow);
    const exec = new Executor(sys, PROPERTIES);
    const events: Event[] = [
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 4096 }, // the whole shadow page
      { t: "unmap", cpu: 0, k: 0, free: true },
      { t: "kmalloc", size: 64 }, // the kernel reuses memory; never a shadow page
      { t: "dma", dev: 0, write: true, page: 15, offset: 0, len: 4096 }, // through the (never invalidated) IOTLB
    ];
    const r = exec.run(events);
    expect(r.violation).toBeNull();
    expect(exec.totals[C.bytesCopied]).toBe(64); // copied in once (to-device); nothing copied out
    expect(exec.totals[C.iotlbInvCmds]).toBe(0);
    expect(exec.totals[C.iotlbHits]).toBeGreaterThan(0); // the second access used the cached translation
    expect(exec.totals[C.dmaBytes]).toBe(8192);
  });

  it("holds every property it claims: exhaustively on the default scope, and in 10,000 random runs", () => {
    const r = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, shadow), PROPERTIES, alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 });
    expect(r.exhausted).toBe(true);
    expect(r.outcomes.every((o) => o.events === null)).toBe(true);
    expect([...claimsOf(shadow)].sort()).toEqual(PROPERTIES.filter((p) => !MEMORY_PROPERTIES.includes(p.name)).map((p) => p.name).sort());
    const sys = makeSystem(DEFAULT_CONFIG, shadow);
    for (const p of PROPERTIES) expect(randomCheck(sys, p, { runs: 10000, seed: 42, maxEvents: 24 }).verdict, p.name).toBe("holds");
  });

  it("a zero-copy shortcut (map the driver's buffer, never unmap) is caught by both engines", () => {
    for (const name of ["page-confinement", "iotlb-coherence"]) {
      const prop = findProperty(name)!;
      const ex = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, shadowZeroCopy), [prop], alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 });
      const cx = ex.outcomes[0].events!;
      expect(cx.map((e) => e.t)).toContain("unmap");
      expect(cx[cx.length - 1].t).toBe("dma");
      expect(randomCheck(makeSystem(DEFAULT_CONFIG, shadowZeroCopy), prop, { runs: 10000, seed: 42, maxEvents: 24 }).verdict).toBe("violated");
      // The same events are harmless under shadow.
      expect(new Executor(makeSystem(DEFAULT_SCOPE.config, shadow), [prop]).run(cx).violation).toBeNull();
    }
  });

  it("F&S also costs less than strict on network receive: the same commands, but page walks start from the kept directory cache", () => {
    const rows = costReport([strict, fns], [findWorkload("net-rx")!], defaultCosts(), 200);
    const s = rows.find((r) => r.policy === "strict")!;
    const f = rows.find((r) => r.policy === "fns")!;
    expect(f.nsPerIo).toBeLessThan(s.nsPerIo);
    expect(f.counters.iotlbInvCmds).toBe(s.counters.iotlbInvCmds);
    expect(f.counters.walkRefs).toBeLessThan(s.counters.walkRefs);
  });

  it("costs less than strict on network receive, with no invalidation and one copy of the buffer per packet", () => {
    const rows = costReport([strict, shadow], [findWorkload("net-rx")!], defaultCosts(), 200);
    const strictRow = rows.find((r) => r.policy === "strict")!;
    const shadowRow = rows.find((r) => r.policy === "shadow")!;
    expect(shadowRow.nsPerIo).toBeLessThan(strictRow.nsPerIo);
    expect(shadowRow.counters.iotlbInvCmds).toBe(0);
    expect(shadowRow.counters.completionWaits).toBe(0);
    expect(shadowRow.counters.bytesCopied).toBe(2048);
  });
});

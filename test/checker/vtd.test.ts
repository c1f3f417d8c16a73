/**
 * VT-d's own bug classes, caught on the VT-d machine with shortest
 * counterexamples (exhaustive engine, default scope): the invalidation hint
 * set while tables are freed, a missing device-TLB invalidation, and the
 * device TLB invalidated before the IOTLB (with ATS). The same events are
 * harmless under strict, which follows Linux's choices. And caching mode:
 * a map that does not invalidate leaves a cached not-present entry that
 * makes the freshly mapped buffer fault; strict's flush after map avoids it.
 */
import { describe, expect, it } from "vitest";
import { withIommu } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { strictDevtlbFirst, strictIhInverted, strictNoDevtlb, VTD_BROKEN_POLICIES } from "../../model/policies/broken.ts";
import { mapWithIova, strict } from "../../model/policies/strict.ts";
import { type Policy, runsOn } from "../../model/policy.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { traceEvents } from "../../checker/trace.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";

const VTD: Scope = { ...DEFAULT_SCOPE, config: withIommu(DEFAULT_SCOPE.config, "vtd") };
const VTD_ATS: Scope = { ...VTD, config: { ...VTD.config, ats: true } };
const MAP = "map|map-sg|alloc-coherent";

function shortest(policy: Policy, property: string, scope: Scope) {
  const prop = findProperty(property)!;
  const sys = makeSystem(scope.config, policy);
  const r = exhaustiveCheck(sys, [prop], alphabetEvents(scope), { depth: 12, maxStates: 200_000 });
  const events = r.outcomes[0].events;
  return { sys, prop, events, explanation: events === null ? null : traceEvents(sys, [prop], events).explanation };
}

interface Case {
  readonly broken: Policy;
  readonly property: string;
  readonly scope: Scope;
  readonly shape: readonly string[];
  readonly says: RegExp;
}

const CASES: Case[] = [
  {
    broken: strictIhInverted, property: "pt-page-safety", scope: VTD,
    shape: [MAP, "dma", "unmap", "iommu", "iommu", "resume"], says: /directory cache .* no longer that page table: it is free/,
  },
  {
    broken: strictNoDevtlb, property: "iotlb-coherence", scope: VTD_ATS,
    shape: [MAP, "ats-dma", "unmap", "iommu", "iommu", "resume", "ats-dma"], says: /stale translated request from its ATC .* its unmap had already returned/,
  },
  {
    broken: strictDevtlbFirst, property: "iotlb-coherence", scope: VTD_ATS,
    // the device TLB is invalidated, a translation request refills it from the IOTLB, then the IOTLB goes.
    shape: [MAP, "dma|ats-dma", "unmap", "iommu", "ats-dma", "iommu", "iommu", "resume", "ats-dma"], says: /stale translated request from its ATC .* its unmap had already returned/,
  },
];

describe("VT-d broken variants are caught on VT-d", () => {
  it("run on VT-d only", () => {
    for (const p of VTD_BROKEN_POLICIES) expect([runsOn(p, "vtd"), runsOn(p, "amd-v1")]).toEqual([true, false]);
    expect(() => makeSystem(DEFAULT_SCOPE.config, strictIhInverted)).toThrow(/does not run on iommu amd-v1/);
  });
  for (const c of CASES) {
    it(`${c.broken.name} violates ${c.property}, which it claims, in ${c.shape.length} events`, () => {
      expect(c.broken.claims).toContain(c.property);
      const r = shortest(c.broken, c.property, c.scope);
      expect(r.events).not.toBeNull();
      const kinds = r.events!.map((e: Event) => e.t);
      expect(kinds.length).toBe(c.shape.length);
      kinds.forEach((k, i) => expect(c.shape[i].split("|"), `event ${i + 1} is ${k}`).toContain(k));
      expect(r.explanation).toMatch(c.says);
      const fine = new Executor(makeSystem(c.scope.config, strict), [r.prop]).run(r.events!);
      expect(fine.violation).toBeNull();
    });
  }
  it("strict on VT-d sets IH only when the unmap freed no table (Linux list_empty(&gather->freelist))", () => {
    // strict holds pt-page-safety on the whole scope, where strict-ih-inverted fails it.
    expect(shortest(strict, "pt-page-safety", VTD).events).toBeNull();
  });
});

describe("VT-d caching mode", () => {
  const CM: Scope = { ...VTD, config: { ...VTD.config, cachingMode: true } };
  const noFlush: Policy = { ...strict, name: "strict-no-map-flush", map: (k, m, phase) => mapWithIova(k, m, phase, false) };
  it("a map without an invalidation leaves a cached not-present entry: the mapped buffer faults (availability)", () => {
    const r = shortest(noFlush, "availability", CM);
    expect(r.events!.map((e) => e.t)).toEqual(["dma", "map", "dma"]);
    expect(r.explanation).toMatch(/faulted: IO page fault \(not present\)/);
    // Without caching mode the same events are fine, and strict flushes after the map in caching mode.
    expect(new Executor(makeSystem(VTD.config, noFlush), [r.prop]).run(r.events!).violation).toBeNull();
    expect(new Executor(makeSystem(CM.config, strict), [r.prop]).run(r.events!).violation).toBeNull();
  });
  it("strict holds availability in caching mode", () => {
    expect(shortest(strict, "availability", CM).events).toBeNull();
  });
});

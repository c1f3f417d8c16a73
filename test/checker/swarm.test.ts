// Swarm testing in the random engine (checker/arbitraries.ts, checker/random.ts)
// and its record in counterexample files (found.swarm).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DRIVING_KINDS, eventsArbitrary, SWARM_FACTORS, swarmArbitrary, swarmKinds, swarmProblem, type Swarm } from "../../checker/arbitraries.ts";
import { randomCheck } from "../../checker/random.ts";
import { decodeCounterexample, encodeCounterexample } from "../../counterexamples/file.ts";
import { COUNTEREXAMPLE_FORMAT, type Counterexample } from "../../counterexamples/schema.ts";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { strictWaitBeforeInvalidate } from "../../model/policies/broken.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";

const cfg = DEFAULT_CONFIG;

describe("a swarm", () => {
  it("draws a factor per kind the configuration offers, never leaving out a driving kind, and one CPU/device or all", () => {
    const kinds = swarmKinds(cfg);
    expect(kinds).not.toContain("ats-dma"); // weight 0 without --device ats
    expect(kinds).toEqual(expect.arrayContaining([...DRIVING_KINDS, "kmalloc", "tick"]));
    const seen = new Set<string>();
    for (const sw of fc.sample(swarmArbitrary(cfg), { numRuns: 300, seed: 3 })) {
      expect(Object.keys(sw.weights)).toEqual(kinds);
      for (const [t, f] of Object.entries(sw.weights)) {
        expect(SWARM_FACTORS).toContain(f);
        if (DRIVING_KINDS.includes(t as never)) expect(f).toBeGreaterThan(0);
        seen.add(`${t}=${f}`);
      }
      expect([1, cfg.cpus]).toContain(sw.cpus);
      expect([1, cfg.devices]).toContain(sw.devices);
      expect(swarmProblem(cfg, sw)).toBeNull();
    }
    // Every factor occurs: peripheral kinds are left out sometimes, and tripled.
    for (const f of [0, 1, 3]) expect(seen.has(`kmalloc=${f}`)).toBe(true);
  });

  it("restricts the events drawn with it: no kind left out, calls on its CPUs (or the timer context), accesses by its devices", () => {
    const sw: Swarm = { weights: { kmalloc: 0, tick: 0, "user-touch": 0, "map-sg": 3 }, cpus: 1, devices: 1 };
    const evs = fc.sample(eventsArbitrary(cfg, 24, sw), { numRuns: 200, seed: 5 }).flat();
    const kinds = new Set(evs.map((e) => e.t));
    for (const t of ["kmalloc", "tick", "user-touch"]) expect(kinds.has(t as Event["t"])).toBe(false);
    for (const t of ["map", "map-sg", "unmap", "resume", "iommu", "dma"]) expect(kinds.has(t as Event["t"])).toBe(true);
    const resumed = new Set<number>();
    for (const e of evs) {
      if ("dev" in e) expect(e.dev).toBe(0);
      if (e.t === "resume") resumed.add(e.cpu);
      else if ("cpu" in e) expect(e.cpu).toBe(0);
    }
    expect([...resumed].sort()).toEqual([0, cfg.cpus]); // CPU 0 and the timer context
  });

  it("problems are named", () => {
    expect(swarmProblem(cfg, { weights: { "ats-dma": 1 }, cpus: 1, devices: 1 })).toMatch(/"ats-dma" is not an event kind of this configuration/);
    expect(swarmProblem(cfg, { weights: {}, cpus: 3, devices: 1 })).toMatch(/cpus: expected 1..2, got 3/);
  });
});

describe("the random engine with swarms", () => {
  const prop = findProperty("iotlb-coherence")!;

  it("records the swarm of the counterexample, and --seed with its path draws the same swarm and events", () => {
    const sys = makeSystem(cfg, lazy);
    const r = randomCheck(sys, prop, { runs: 10000, seed: 42, maxEvents: 24 });
    expect(r.verdict).toBe("violated");
    expect(r.swarm).not.toBeNull();
    expect(swarmProblem(cfg, r.swarm!)).toBeNull();
    const again = randomCheck(sys, prop, { runs: 10000, seed: 42, maxEvents: 24, path: r.path! });
    expect(again.runs).toBe(1);
    expect(again.swarm).toEqual(r.swarm);
    expect(again.events).toEqual(r.events);
    const plain = randomCheck(sys, prop, { runs: 10000, seed: 42, maxEvents: 24, swarm: false });
    expect(plain.verdict).toBe("violated");
    expect(plain.swarm).toBeNull();
  });

  // Issue 11: with one fixed distribution, 4 of 12 seeds missed strict-wait-before-invalidate's
  // stale-IOTLB read (map, dma, unmap, iommu, resume, dma) in the default 10,000 runs.
  // Without swarms 9 of 12 since a quarter of the maps became ranges inside their allocation (8 before).
  it("finds strict-wait-before-invalidate x iotlb-coherence with each of 12 seeds in the default runs (without swarms, 9)", () => {
    const sys = makeSystem(cfg, strictWaitBeforeInvalidate);
    const found = (swarm: boolean) =>
      Array.from({ length: 12 }, (_, i) => randomCheck(sys, prop, { runs: 10000, seed: i + 1, maxEvents: 24, swarm }).verdict === "violated").filter(Boolean).length;
    expect(found(true)).toBe(12);
    expect(found(false)).toBe(9);
  });
});

describe("found.swarm in counterexample files", () => {
  const base: Counterexample = {
    format: COUNTEREXAMPLE_FORMAT, policy: "lazy", policyModule: null, property: "iotlb-coherence", config: cfg,
    events: [{ t: "iommu" }], violation: { step: 0, explanation: "x" },
    found: { engine: "random", seed: 42, path: "1:2", runs: 2, ms: 0 },
  };
  const withSwarm = { ...base, found: { ...base.found, swarm: { weights: { map: 3, kmalloc: 0 }, cpus: 1, devices: 2 } } } as Counterexample;

  it("round-trips on one line, and a file without one (written before swarms) still loads", () => {
    const text = encodeCounterexample(withSwarm);
    expect(text).toContain('\n    "swarm": {"weights": {"map": 3, "kmalloc": 0}, "cpus": 1, "devices": 2}\n');
    expect(decodeCounterexample(JSON.parse(text), "f")).toEqual({ ok: true, value: withSwarm });
    const old = encodeCounterexample(base);
    expect(old).not.toContain("swarm");
    expect(decodeCounterexample(JSON.parse(old), "f")).toEqual({ ok: true, value: base });
  });

  it("rejects an unknown kind, a negative factor, and more CPUs than the config has, in one line", () => {
    const bad = (swarm: unknown) => decodeCounterexample({ ...JSON.parse(encodeCounterexample(base)), found: { ...base.found, swarm } }, "f.json");
    const kind = bad({ weights: { mapp: 1 }, cpus: 1, devices: 1 });
    expect(kind.ok).toBe(false);
    if (!kind.ok) expect(kind.error).toMatch(/^f\.json: \$\.found\.swarm\.weights: expected an object whose keys are event kinds/);
    const neg = bad({ weights: { map: -1 }, cpus: 1, devices: 1 });
    if (!neg.ok) expect(neg.error).toMatch(/^f\.json: \$\.found\.swarm\.weights\.map: expected a non-negative integer/);
    else expect.unreachable();
    const cpus = bad({ weights: {}, cpus: 3, devices: 1 });
    if (!cpus.ok) expect(cpus.error).toMatch(/^f\.json: \$\.found\.swarm: uses 3 CPU\(s\)/);
    else expect.unreachable();
  });
});

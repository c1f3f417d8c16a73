/**
 * Coverage and vacuity (checker/coverage.ts): the numbers are deterministic
 * plain data, every built-in claimed "holds" at the default scope has a
 * witness (its antecedent was reached) unless it is a known vacuous claim,
 * and a scope with no room for the buffers is reported vacuous, with the
 * missing resource, never as "holds (all)".
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { POLICIES } from "../../model/policies/index.ts";
import { shadow } from "../../model/policies/shadow.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty, PROPERTIES } from "../../properties/index.ts";
import { checkCell, checkPolicyExhaustively } from "../../checker/matrix.ts";
import { CoverageRecorder } from "../../checker/coverage.ts";
import { Executor } from "../../checker/execute.ts";
import { DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { runCli } from "../cli/helpers.ts";
import { EXPECTED_VACUOUS_CLAIMS } from "./expected.ts";

const OPTS = { scope: DEFAULT_SCOPE, depth: 40, maxStates: 2_000_000, timing: false };
const STARVED: Scope = { ...DEFAULT_SCOPE, config: { ...DEFAULT_SCOPE.config, frames: 8 } };

describe("coverage", () => {
  it("every property declares an antecedent", () => {
    for (const p of PROPERTIES) expect(p.antecedent, p.name).toBeDefined();
  });

  it("is deterministic, plain data that survives a worker boundary (exhaustive engine)", () => {
    const a = checkPolicyExhaustively({ policy: strict, module: null }, PROPERTIES, OPTS);
    const b = checkPolicyExhaustively({ policy: strict, module: null }, PROPERTIES, OPTS);
    expect(a.cells.map((c) => c.coverage)).toEqual(b.cells.map((c) => c.coverage));
    for (const c of a.cells) {
      expect(JSON.parse(JSON.stringify(c.coverage))).toEqual(c.coverage);
      expect(structuredClone(c.coverage)).toEqual(c.coverage);
    }
    const cov = a.cells[0].coverage!;
    expect(cov.transitions).toBe(a.summary.transitions);
    // Every transition is one event, applied or a no-op.
    const events = Object.values(cov.events).reduce((n, e) => n + e.applied + Object.values(e.noop).reduce((x, y) => x + y, 0), 0);
    expect(events).toBe(cov.transitions);
    expect(cov.handlers.map.returned).toBeGreaterThan(0);
    expect(cov.handlers.unmap.blocked).toBeGreaterThan(0); // strict waits for the invalidation
    expect(cov.events.unmap.noop["no live mapping to unmap"]).toBeGreaterThan(0);
    expect(cov.missing).toEqual([]);
  });

  it("is deterministic for the random engine with a seed, and counts only what ran", () => {
    const prop = findProperty("page-confinement")!;
    const opts = { config: DEFAULT_CONFIG, runs: 200, seed: 7, maxEvents: 24, timing: false };
    const a = checkCell({ policy: strict, module: null }, prop, opts);
    const b = checkCell({ policy: strict, module: null }, prop, opts);
    expect(a.coverage).toEqual(b.coverage);
    expect(a.coverage!.antecedent!.reached).toBeGreaterThan(0);
    const other = checkCell({ policy: strict, module: null }, prop, { ...opts, seed: 8 });
    expect(other.coverage!.transitions).not.toBe(a.coverage!.transitions);
  });

  it("counts antecedent cases per translation source and faults as context", () => {
    const sys = makeSystem(DEFAULT_SCOPE.config, strict);
    const rec = new CoverageRecorder(sys, [findProperty("page-confinement")!, findProperty("pin-safety")!]);
    const exec = new Executor(sys, []);
    exec.observer = rec;
    exec.run([
      { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 }, // nothing mapped: faults
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 }, // a walk
      { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 }, // an IOTLB hit
      { t: "unmap", cpu: 0, k: 0, free: true },
    ]);
    const pc = rec.result(0);
    expect(pc.antecedent).toMatchObject({ reached: 2, cases: { walk: 1, "IOTLB hit": 1 }, context: { fault: 1 }, vacuous: null });
    expect(pc.events).toMatchObject({ dma: { applied: 3 }, map: { applied: 1 }, unmap: { applied: 1 } });
    expect(pc.handlers.map).toMatchObject({ runs: 1, returned: 1, phases: { "0": 1 } });
    expect(pc.handlers.unmap).toMatchObject({ runs: 1, blocked: 1 });
    // The unmap has not returned (it waits for the IOMMU), so the buffer is not freed yet.
    expect(rec.result(1).antecedent).toMatchObject({ reached: 0, vacuous: expect.stringContaining("never reached") });
  });
});

describe("vacuity", () => {
  it("each built-in claimed property holds with a witness at the default scope, except the known vacuous claims", () => {
    const vacuous: Record<string, string[]> = {};
    for (const policy of POLICIES) {
      const { cells } = checkPolicyExhaustively({ policy, module: null }, PROPERTIES, OPTS);
      for (const c of cells) {
        if (!c.claimed || c.verdict !== "holds") continue;
        const a = c.coverage!.antecedent!;
        if (c.vacuous) {
          (vacuous[policy.name] ??= []).push(c.property);
          expect(a.vacuous, `${policy.name} x ${c.property}`).not.toBeNull();
        } else {
          expect(a.reached, `${policy.name} x ${c.property}`).toBeGreaterThan(0);
          expect(c.coverage!.handlers.map.returned, policy.name).toBeGreaterThan(0);
        }
      }
    }
    expect(vacuous).toEqual(EXPECTED_VACUOUS_CLAIMS);
  });

  it("a scope with too few frames is vacuous for every property and names the missing resource", () => {
    const { cells } = checkPolicyExhaustively({ policy: shadow, module: null }, PROPERTIES, { ...OPTS, scope: STARVED });
    for (const c of cells) {
      expect(c.verdict, c.property).toBe("holds");
      expect(c.vacuous, c.property).toBe(true);
      expect(c.coverage!.missing.join()).toMatch(/^no map succeeded: \d+ map events found no frames \(a no-op\); 0 of 8 frames were free after boot$/);
    }
    // The device still reached the permanently mapped pool: reached, but no map ever returned.
    const pc = cells.find((c) => c.property === "page-confinement")!;
    expect(pc.coverage!.antecedent).toMatchObject({ vacuous: "no map call ever returned" });
    expect(pc.coverage!.antecedent!.reached).toBeGreaterThan(0);
  });

  it("a guest memory region at the default scope leaves no frames for strict's page tables: vacuous, and says so", () => {
    const scope: Scope = { ...DEFAULT_SCOPE, config: { ...DEFAULT_SCOPE.config, guestMemory: "devdax" } };
    const { cells } = checkPolicyExhaustively({ policy: strict, module: null }, PROPERTIES, { ...OPTS, scope });
    const pin = cells.find((c) => c.property === "pin-safety")!;
    expect(pin).toMatchObject({ verdict: "holds", vacuous: true });
    expect(pin.coverage!.handlers.map.returned).toBe(0);
    expect(pin.coverage!.handlers.map.failed).toBeGreaterThan(0);
    expect(pin.coverage!.missing[0]).toMatch(/^no map succeeded: the map handler ran out of frames on \d+ steps; .*map calls failed \(DMA_MAPPING_ERROR\)/);
    // direct-map-exclusion is about kernel reads, not DMA: reached, not vacuous.
    expect(cells.find((c) => c.property === "direct-map-exclusion")).toMatchObject({ verdict: "holds", vacuous: false });
  });

  it("the command line warns on the starved scope and never prints holds (all); --json has vacuous and coverage", () => {
    const r = runCli(["check", "--engine", "exhaustive", "--policy", "shadow", "--frames", "8", "--no-timing", "--coverage", "--out", "/tmp/dmacheck-coverage-test"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/holds\*? \(all\)(?!:)/); // the legend's "holds (all):" aside
    expect(r.stdout).toContain("holds* (vacuous)");
    expect(r.stdout).toMatch(/^warning: page-confinement holds only vacuously for shadow\*: no map call ever returned$/m);
    expect(r.stdout).toMatch(/^warning: shadow: no map succeeded: .*found no frames/m);
    expect(r.stdout).toContain("Coverage (exhaustive engine)");
    expect(r.stdout).toContain("only vacuously");
    const j = runCli(["check", "--engine", "exhaustive", "--policy", "shadow", "--frames", "8", "--no-timing", "--json", "--out", "/tmp/dmacheck-coverage-test"]);
    const doc = JSON.parse(j.stdout);
    for (const res of doc.results) {
      expect(res.vacuous).toBe(true);
      expect(res.coverage.missing[0]).toContain("found no frames");
    }
  });
});

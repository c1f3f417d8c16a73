/**
 * Realistic bugs written as user policy modules against the documented
 * interface only (docs/policies.md), test/fixtures/outside/: each is caught
 * by the default `dmacheck check` settings (random engine: seed 42, 10,000
 * runs of up to 24 events, swarm on, then its race pass; exhaustive engine: the default scope and
 * its race pass) with the engines listed below (docs/testing.md, "User
 * policy modules with realistic bugs", gives the whole table and why an
 * engine misses a module), and the correct user modules hold. To keep the file's time down, the
 * exhaustive engine checks each buggy module for the one claimed property
 * expected to fail (the random engine: every claimed property, in one pass), the race pass is bounded at
 * 20,000 states (it finds each of these within the first few thousand), and
 * the correct modules get 500 random runs per property.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { DEFAULT_CONFIG, type ModelConfig } from "../../model/config.ts";
import { claimsOf, type Policy } from "../../model/policy.ts";
import { findProperty } from "../../properties/index.ts";
import { loadPolicyModule } from "../../checker/policy-module.ts";
import { checkPolicyRandom, checkPolicyExhaustively } from "../../checker/matrix.ts";
import { DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";

const DIR = resolve(import.meta.dirname, "../fixtures/outside");

async function load(name: string): Promise<Policy> {
  const r = await loadPolicyModule(resolve(DIR, `${name}.ts`));
  if (!r.ok) throw new Error(r.error);
  return r.policy;
}

type Engine = "random" | "exhaustive";

interface Bug {
  readonly module: string;
  readonly bugClass: string;
  /** The claimed property expected to fail, and the engines that catch it with the default settings. */
  readonly property: string;
  readonly engines: readonly Engine[];
  /** Device attributes (the device-TLB class needs ATS). */
  readonly ats?: boolean;
}

const BUGS: readonly Bug[] = [
  { module: "out-iova-reuse", bugClass: "IOVA freed before its invalidation completed, reused", property: "dma-integrity", engines: ["random", "exhaustive"] },
  { module: "out-lazy-arm-once", bugClass: "deferred policy whose timer never re-arms", property: "stale-window", engines: ["random", "exhaustive"] },
  { module: "out-leak-iova-trunc", bugClass: "IOVA leak", property: "no-leak", engines: ["random", "exhaustive"] },
  { module: "out-leak-tables-order", bugClass: "table frames leaked", property: "no-leak", engines: ["random", "exhaustive"] },
  { module: "out-leak-pins", bugClass: "pins leaked", property: "no-leak", engines: ["random", "exhaustive"] },
  { module: "out-bounce-leak-slot", bugClass: "bounce slots leaked", property: "no-leak", engines: ["random", "exhaustive"] },
  { module: "out-pool-dirty", bugClass: "dirty pages exposed", property: "leftover-data", engines: ["random", "exhaustive"] },
  { module: "out-pool-halves", bugClass: "a pool granted wholesale", property: "byte-confinement", engines: ["random", "exhaustive"] },
  { module: "out-unaligned-short", bugClass: "unaligned buffer mishandled", property: "availability", engines: ["random", "exhaustive"] },
  { module: "out-subrange-object-frame", bugClass: "sub-range of an allocation mishandled", property: "page-confinement", engines: ["random", "exhaustive"] },
  { module: "out-rw-always", bugClass: "wrong direction permission", property: "byte-confinement", engines: ["random", "exhaustive"] },
  { module: "out-inv-dom0", bugClass: "invalidating the wrong domain", property: "pt-page-safety", engines: ["random", "exhaustive"] },
  { module: "out-inv-first-page", bugClass: "invalidating too small a range", property: "page-confinement", engines: ["random", "exhaustive"] },
  { module: "out-no-devtlb", bugClass: "device-TLB invalidation skipped", property: "page-confinement", engines: ["random", "exhaustive"], ats: true },
  // The default scope's window lies in one leaf table; the race pass's 2-page buffer at the lowest free run
  // (a 1-page mapping below it) straddles two, and the second leaf table finds no frame: the map fails part-way.
  // The random engine's main machine (32 frames) misses it; its race pass (10 frames) finds it.
  { module: "out-undo-no-invalidate", bugClass: "error path undoing PTEs without invalidating", property: "page-confinement", engines: ["random", "exhaustive"] },
  { module: "out-no-wait", bugClass: "unmap returns before the invalidation completes", property: "page-confinement", engines: ["random", "exhaustive"] },
  { module: "out-unmap-first-page", bugClass: "page-table entries cleared for too small a range", property: "page-confinement", engines: ["random", "exhaustive"] },
  { module: "out-free-tables-early", bugClass: "table frames freed before the invalidation completes", property: "pt-page-safety", engines: ["random", "exhaustive"] },
  { module: "out-no-pde", bugClass: "directory caches not invalidated when tables are reclaimed", property: "pt-page-safety", engines: ["random", "exhaustive"] },
  // Needs both CPUs: the exhaustive engine finds it in the race pass only (8 events).
  { module: "out-wait-other-cpu", bugClass: "waiting on another CPU's completion", property: "pin-safety", engines: ["random", "exhaustive"] },
  { module: "out-inv-before-clear", bugClass: "invalidation issued before the page-table entries are cleared", property: "page-confinement", engines: ["random", "exhaustive"] },
  // A hang (call-progress, which every policy claims without listing it): a map that fails keeps the lock.
  { module: "out-lock-error-path", bugClass: "a lock not released on an error path (a hang)", property: "call-progress", engines: ["random", "exhaustive"] },
];

const ATS = { untrusted: false, ats: true, acsTb: false };

/** As `dmacheck check` runs the random engine by default (its main runs, then its race pass on the race scope's machine), over the claimed properties. */
function randomRow(policy: Policy, config: ModelConfig, base: ModelConfig) {
  return checkPolicyRandom({ policy, module: null }, claimsOf(policy).map((p) => findProperty(p)!), { config, runs: 10_000, seed: 42, maxEvents: 24, timing: false, race: { base } });
}

/** One property, as random() of the default run gives it. */
function random(policy: Policy, property: string, config: ModelConfig, base: ModelConfig, runs = 10_000) {
  return checkPolicyRandom({ policy, module: null }, [findProperty(property)!], { config, runs, seed: 42, maxEvents: 24, timing: false, race: { base } })[0];
}

function exhaustive(policy: Policy, properties: readonly string[], scope: Scope, raceStates = 20_000) {
  return checkPolicyExhaustively({ policy, module: null }, properties.map((p) => findProperty(p)!), {
    scope, depth: 40, maxStates: 2_000_000, timing: false, race: { base: scope.config, maxStates: raceStates },
  }).cells;
}

describe("user policy modules with realistic bugs (test/fixtures/outside)", () => {
  it("cover every bug class of issue 11", () => {
    const classes = BUGS.map((b) => b.bugClass).join("\n");
    for (const c of [/IOVA freed before/, /timer never re-arms/, /IOVA leak/, /table frames leaked/, /pins leaked/, /bounce slots leaked/,
      /dirty pages/, /unaligned/, /sub-range/, /pool granted wholesale/, /error path undoing PTEs without invalidating/, /wrong direction/, /wrong domain/,
      /device-TLB/, /a hang/]) expect(classes).toMatch(c);
  });

  for (const b of BUGS) {
    it(`${b.module} (${b.bugClass}): ${b.property} violated by the ${b.engines.join(" and ")} engine${b.engines.length > 1 ? "s" : ""}`, async () => {
      const policy = await load(b.module);
      expect(claimsOf(policy)).toContain(b.property);
      const config = b.ats ? { ...DEFAULT_CONFIG, ...ATS } : DEFAULT_CONFIG;
      const scope = b.ats ? { ...DEFAULT_SCOPE, config: { ...DEFAULT_SCOPE.config, ...ATS } } : DEFAULT_SCOPE;
      if (b.engines.includes("random")) {
        // Caught: some claimed property violated (the random engine need not find the same one as the exhaustive engine).
        const row = randomRow(policy, config, scope.config);
        expect(row.filter((c) => c.verdict === "violated").map((c) => c.property), "random engine: claimed properties violated").not.toEqual([]);
      }
      if (b.engines.includes("exhaustive")) {
        const [cell] = exhaustive(policy, [b.property], scope);
        expect(cell.verdict, `exhaustive engine, ${b.property}`).toBe("violated");
      }
    });
  }

  for (const name of ["out-strict-split", "out-lazy-ok", "out-stepwise-ok"]) {
    it(`${name} (correct) holds every property it claims`, async () => {
      const policy = await load(name);
      for (const p of claimsOf(policy)) expect(random(policy, p, DEFAULT_CONFIG, DEFAULT_SCOPE.config, 500).verdict, `random engine, ${p}`).toBe("holds");
      for (const cell of exhaustive(policy, claimsOf(policy), DEFAULT_SCOPE, 5_000)) expect(cell.verdict, `exhaustive engine, ${cell.property}`).toBe("holds");
    });
  }
});

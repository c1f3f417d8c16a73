/**
 * A split search (checker/split-search.ts: a search's levels expanded by
 * worker threads and its own thread, merged in order) gives exactly the
 * single-threaded result: the same states, transitions, depth and stop
 * reason, the same shortest counterexamples with the same figures, and the
 * same coverage, for every built-in and broken policy on its default, race
 * and device race scopes, and under the memory, state and time bounds. The
 * chunks are made tiny so that almost every level is split, and the test
 * checks that the workers' chunks were merged (not only this thread's).
 * The search alone runs without skipping successors produced before
 * (checker/recent-successors.ts), the split one with it, in its workers and
 * this thread: the same result shows that, too, exact whichever thread
 * expands which chunk in which order.
 */
import { afterAll, describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { BROKEN_POLICIES, findAnyPolicy, POLICIES, SCOPED_POLICIES } from "../../model/policies/index.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem } from "../../model/system.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { type Property } from "../../properties/property.ts";
import { exhaustiveCheck, type ExhaustiveOptions, type ExhaustiveResult } from "../../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE, policyScope, raceScopesFor, type Scope } from "../../checker/scope.ts";
import { symmetryReduction } from "../../checker/cpu-symmetry.ts";
import { CoverageRecorder } from "../../checker/coverage.ts";
import { SearchPool } from "../../checker/split-search.ts";
import { DeadlineError } from "../../checker/deadline.ts";
import { loadPolicyModule } from "../../checker/policy-module.ts";
import { searchFigures } from "./same-search.ts";

const pool = new SearchPool(1);
afterAll(() => pool.close());

/** The result's figures that must not depend on the split (timings and the split's own counts left out), and its coverage. */
function figures(r: ExhaustiveResult, rec: CoverageRecorder | null, props: readonly Property[]) {
  return { ...searchFigures(r), coverage: rec === null ? null : props.map((_, p) => rec.result(p)) };
}

let workerChunks = 0, splitSearches = 0;

/** The search of `policy` over `scope`, alone and split (chunks of 2 nodes), with the same options; returns both figures. */
function both(policy: Policy, scope: Scope, opts: Partial<ExhaustiveOptions> & { module?: string } = {}) {
  const s = policyScope(policy, scope);
  const sys = makeSystem(s.config, policy);
  const alphabet = alphabetEvents(s);
  const canonical = symmetryReduction(sys, alphabet).canonical; // as checker/matrix.ts builds it, and the worker from spec.symmetry
  const props = PROPERTIES;
  const run = (split: boolean) => {
    const rec = new CoverageRecorder(sys, props);
    const r = exhaustiveCheck(sys, props, alphabet, {
      depth: 60, maxStates: 1500, canonical, observer: rec, recentSuccessors: split, ...opts,
      split: split ? {
        pool, chunkNodes: 2,
        spec: { policy: policy.name, module: opts.module ?? null, config: s.config, alphabet, properties: props.map((p) => p.name), symmetry: canonical !== null, observe: true, maxLevel: 61 },
      } : null,
    });
    if (split && r.split !== null) {
      workerChunks += r.split.workerChunks;
      if (r.split.workerChunks + r.split.localChunks > 0) splitSearches++;
    }
    return figures(r, rec, props);
  };
  return { alone: run(false), split: run(true) };
}

const BUILT_IN: readonly Policy[] = [...POLICIES, ...SCOPED_POLICIES];

describe("split search", () => {
  it("gives the single-threaded result for every built-in and broken policy on its default scope", () => {
    for (const p of [...BUILT_IN, ...BROKEN_POLICIES]) {
      const { alone, split } = both(p, DEFAULT_SCOPE);
      expect(split, p.name).toEqual(alone);
    }
  }, 240_000);

  it("gives the single-threaded result on the race and device race scopes", () => {
    for (const p of POLICIES) {
      for (const scope of raceScopesFor(p, DEFAULT_SCOPE.config)) {
        const { alone, split } = both(p, scope, { maxStates: 1000 });
        expect(split, `${p.name} ${scope.config.cpus} CPUs ${scope.config.devices} devices`).toEqual(alone);
      }
    }
  }, 240_000);

  it("stops at the same transition under the state and memory bounds, with only the claimed properties as targets", () => {
    const strict = findAnyPolicy("strict")!;
    const race = raceScopesFor(strict, DEFAULT_SCOPE.config)[0];
    for (const maxStates of [37, 400, 2000]) {
      const { alone, split } = both(strict, race, { maxStates });
      expect(alone.stopped).toBe("states");
      expect(split).toEqual(alone);
    }
    const mem = both(strict, race, { maxStates: 100_000, maxMemoryBytes: 48 * 1024 });
    expect(mem.alone.stopped).toBe("memory");
    expect(mem.split).toEqual(mem.alone);
    const lazy = findAnyPolicy("lazy")!;
    const targets = PROPERTIES.map((p) => lazy.claims.includes(p.name));
    const decided = both(lazy, raceScopesFor(lazy, DEFAULT_SCOPE.config)[0], { maxStates: 5000, targets });
    expect(decided.split).toEqual(decided.alone);
  }, 120_000);

  it("gives the single-threaded result for a user's policy module, which the worker loads by its path", async () => {
    const file = resolve(import.meta.dirname, "../fixtures/my-strict.ts");
    const loaded = await loadPolicyModule(file);
    if (!loaded.ok) throw new Error(loaded.error);
    const { alone, split } = both(loaded.policy, raceScopesFor(loaded.policy, DEFAULT_SCOPE.config)[0], { module: file, maxStates: 1000 });
    expect(split).toEqual(alone);
  }, 60_000);

  it("ends at the deadline with the same error", () => {
    const strict = findAnyPolicy("strict")!;
    const race = raceScopesFor(strict, DEFAULT_SCOPE.config)[0];
    expect(() => both(strict, race, { maxStates: 1_000_000, deadline: Date.now() + 300, where: "strict (exhaustive engine)" })).toThrow(DeadlineError);
  }, 60_000);

  it("merged chunks the worker expanded, on every search above", () => {
    // The workers did part of the work (a split search whose worker never delivered would still agree, but prove nothing).
    expect(splitSearches).toBeGreaterThan(50);
    expect(workerChunks).toBeGreaterThan(100);
  });
});

/**
 * Skipping successors produced before (checker/recent-successors.ts) changes
 * nothing a search reports: with and without the table, every built-in and
 * broken policy gets the same states, transitions, depth, stop reason and
 * counterexamples (event for event) on 5 of the 20 small reduction scopes, with
 * and without the symmetry reduction, and under the state, memory and
 * bitstate bounds and --counterexamples N. The split search compares with
 * it too (split-search.test.ts: split with the table, alone without).
 */
import { describe, expect, it } from "vitest";
import { BROKEN_POLICIES, findAnyPolicy, POLICIES, SCOPED_POLICIES } from "../../model/policies/index.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem } from "../../model/system.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { exhaustiveCheck, type ExhaustiveOptions } from "../../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE, raceScopesFor, type Scope } from "../../checker/scope.ts";
import { symmetryReduction } from "../../checker/cpu-symmetry.ts";
import { MAX_ENTRIES, RecentSuccessors } from "../../checker/recent-successors.ts";
import { reductionScopes, searchFigures } from "./same-search.ts";

describe("RecentSuccessors.seen", () => {
  it("is a hit only for a transition after the one remembered, in (node, event) order", () => {
    const r = new RecentSuccessors();
    expect(r.seen(7, 9, 10, 3)).toBe(false); // remembered for (10, 3)
    expect(r.seen(7, 9, 10, 3)).toBe(false); // the same transition again: not earlier than itself
    expect(r.seen(7, 9, 10, 4)).toBe(true);
    expect(r.seen(7, 9, 11, 0)).toBe(true);
    expect(r.seen(7, 10, 11, 0)).toBe(false); // another fingerprint in the same entry: replaces it
    expect(r.seen(7, 9, 12, 0)).toBe(false); // so this one is forgotten: a miss, never a wrong hit
  });

  it("an entry from a later transition does not count, and is replaced by the earlier one", () => {
    const r = new RecentSuccessors();
    expect(r.seen(1, 2, 50, 0)).toBe(false);
    expect(r.seen(1, 2, 40, 5)).toBe(false); // (50, 0) comes after (40, 5)
    expect(r.seen(1, 2, 45, 0)).toBe(true); // now (40, 5) is remembered
    expect(r.seen(1, 2, 40, 4)).toBe(false);
  });

  it("grows with the node numbers up to MAX_ENTRIES, forgetting but never inventing", () => {
    const r = new RecentSuccessors();
    const small = r.bytes;
    expect(r.seen(3, 4, 0, 0)).toBe(false);
    expect(r.seen(5, 6, 1_000_000, 0)).toBe(false); // grows here
    expect(r.bytes).toBeGreaterThan(small);
    expect(r.bytes).toBeLessThanOrEqual(MAX_ENTRIES * 16);
    expect(r.seen(5, 6, 1_000_001, 0)).toBe(true);
    r.seen(8, 8, 1e9, 0);
    expect(r.bytes).toBe(MAX_ENTRIES * 16);
  });
});

let skipping = 0;

function expectSame(policy: Policy, scope: Scope, opts: Partial<ExhaustiveOptions>, symmetry: boolean): void {
  const sys = makeSystem(scope.config, policy);
  const alphabet = alphabetEvents(scope);
  const canonical = symmetry ? symmetryReduction(sys, alphabet).canonical : null;
  const run = (recentSuccessors: boolean) => exhaustiveCheck(sys, PROPERTIES, alphabet, { depth: 5, maxStates: 1e7, canonical, recentSuccessors, ...opts });
  const without = searchFigures(run(false));
  expect(searchFigures(run(true)), `${policy.name}${symmetry ? " with symmetry" : ""}`).toEqual(without);
  skipping += without.transitions;
}

describe("a search with the table reports what it reports without", () => {
  const policies = [...POLICIES, ...SCOPED_POLICIES, ...BROKEN_POLICIES];
  const scopes = reductionScopes();
  for (const { name, scope, depth } of scopes.filter((_, i) => i % 4 === 0)) {
    it(`${name}: every policy, reduced and not`, () => {
      for (const p of policies) for (const symmetry of [true, false]) expectSame(p, scope, { depth }, symmetry);
    }, 120_000);
  }

  it("under the state, memory and bitstate bounds, and with --counterexamples 3", () => {
    for (const name of ["strict", "lazy"]) {
      const p = findAnyPolicy(name)!;
      const race = raceScopesFor(p, DEFAULT_SCOPE.config)[0];
      for (const maxStates of [37, 1000, 6000]) expectSame(p, race, { depth: 60, maxStates }, true);
      expectSame(p, race, { depth: 60, maxMemoryBytes: 64 * 1024 }, true);
      expectSame(p, race, { depth: 60, maxStates: 5000, bitstate: { bits: 14, hashes: 2 } }, true);
      expectSame(p, race, { depth: 60, maxStates: 5000, counterexamples: 3 }, true);
    }
  }, 120_000);

  it("compared searches of some size", () => {
    expect(skipping).toBeGreaterThan(1_000_000);
  });
});

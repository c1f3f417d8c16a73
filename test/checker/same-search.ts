/**
 * Shared by the reduction tests (reduction.test.ts, cpu-symmetry.test.ts):
 * searches `policy` on `scope` unreduced and with `canonical`, and asserts
 * that the reduced search gives every property the same verdict and the same
 * shortest counterexample length, stores no more states, and that its
 * counterexamples replay. Returns both state counts.
 */
import { expect } from "vitest";
import { type Event } from "../../model/events.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem } from "../../model/system.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { type Scope } from "../../checker/scope.ts";
import { type CanonicalFingerprint } from "../../checker/symmetry.ts";

export function expectSameSearch(
  policy: Policy, scope: Scope, alphabet: readonly Event[], depth: number, canonical: CanonicalFingerprint,
): { full: number; reduced: number } {
  const sys = makeSystem(scope.config, policy);
  const full = exhaustiveCheck(sys, PROPERTIES, alphabet, { depth, maxStates: 10_000_000 });
  const red = exhaustiveCheck(sys, PROPERTIES, alphabet, { depth, maxStates: 10_000_000, canonical });
  expect(red.states, policy.name).toBeLessThanOrEqual(full.states);
  for (let p = 0; p < PROPERTIES.length; p++) {
    const a = full.outcomes[p], b = red.outcomes[p];
    const what = `${policy.name} x ${a.property.name}`;
    expect(b.events === null ? "holds" : "violated", what).toBe(a.events === null ? "holds" : "violated");
    expect(b.events?.length ?? null, what).toBe(a.events?.length ?? null);
    if (b.events !== null) {
      // The reduced search's counterexample is a real execution of the alphabet: it replays from the initial state.
      const again = new Executor(makeSystem(scope.config, policy), [b.property]).run(b.events);
      expect(again.violation?.step, what).toBe(b.events.length - 1);
    }
  }
  return { full: full.states, reduced: red.states };
}

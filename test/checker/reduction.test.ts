/**
 * Reductions of the exhaustive search are sound: on 20 small scopes, every
 * built-in and broken policy gives the same verdict and the same shortest
 * counterexample length for every property with and without slot symmetry
 * (checker/symmetry.ts), and the reduced search's counterexamples replay.
 */
import { describe, expect, it } from "vitest";
import { BROKEN_POLICIES, POLICIES } from "../../model/policies/index.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";
import { CALLS, CALL_W, MAPS, MAP_W } from "../../model/geometry.ts";
import { type State } from "../../model/state.ts";
import { alphabetEvents } from "../../checker/scope.ts";
import { slotSymmetry, slotSymmetryProblem } from "../../checker/symmetry.ts";
import { canonicalKey, itAgreesOnEveryScope, reductionScopes } from "./same-search.ts";

const ALL: readonly Policy[] = [...POLICIES, ...BROKEN_POLICIES];
const SCOPES = reductionScopes();

describe("slot symmetry", () => {
  it("applies to every symmetric policy on these scopes and to no morsel policy", () => {
    for (const p of ALL) {
      const sys = makeSystem(SCOPES[0].scope.config, p);
      const problem = slotSymmetryProblem(sys, alphabetEvents(SCOPES[0].scope));
      expect(problem === null, p.name).toBe(p.symmetric !== false);
    }
    const morsels = ALL.filter((p) => p.name.startsWith("morsel"));
    expect(morsels.length).toBeGreaterThan(0);
    for (const p of morsels) expect(p.symmetric, p.name).toBe(false);
  });

  it("does not apply when the alphabet cannot unmap every slot", () => {
    const scope = SCOPES[0].scope;
    const narrow = { ...scope, alphabet: { ...scope.alphabet, unmapSlots: 1 } };
    const sys = makeSystem(scope.config, strict);
    expect(slotSymmetryProblem(sys, alphabetEvents(narrow))).toMatch(/unmapSlots/);
    expect(slotSymmetry(sys, alphabetEvents(narrow))).toBeNull();
  });

  it("gives a state and its slot-permuted image one fingerprint, and different states different ones", () => {
    const scope = SCOPES[10].scope; // two CPUs
    const sys = makeSystem(scope.config, strict);
    const alphabet = alphabetEvents(scope);
    const canon = slotSymmetry(sys, alphabet)!;
    const st = new Stepper(sys, new Observation());
    // cpu0 and cpu1 each map a buffer; cpu0 starts unmapping its mapping (blocked on the wait): slot ids in MAPS and CALLS.
    const ev = (f: (e: (typeof alphabet)[number]) => boolean) => alphabet.find(f)!;
    let s = sys.init;
    s = st.step(s, ev((e) => e.t === "map" && e.cpu === 0 && e.dir === "to-device"));
    s = st.step(s, ev((e) => e.t === "map" && e.cpu === 1 && e.dir === "from-device"));
    s = st.step(s, ev((e) => e.t === "unmap" && e.cpu === 0 && e.k === 0 && e.free));
    const calls = s[CALLS];
    expect(calls[0]).not.toBe(0); // cpu0's unmap is in progress
    const swapped: State = s.map((c, i) => {
      if (i === MAPS) return [...c.slice(MAP_W, 2 * MAP_W), ...c.slice(0, MAP_W)];
      if (i === CALLS) return c.map((w, j) => (j % CALL_W === 2 && c[j - 2] !== 0 ? 1 - w : w));
      return c;
    });
    const fpOf = (t: State) => canonicalKey(canon, t);
    expect(fpOf(swapped)).toBe(fpOf(s));
    // Swapping the records without renaming the call's slot is a different state.
    const badSwap: State = s.map((c, i) => (i === MAPS ? [...c.slice(MAP_W, 2 * MAP_W), ...c.slice(0, MAP_W)] : c));
    expect(fpOf(badSwap)).not.toBe(fpOf(s));
  });
});

describe("reduced and unreduced searches agree", () => {
  itAgreesOnEveryScope("slot symmetry", SCOPES, ALL, slotSymmetry);
});

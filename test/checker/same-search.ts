/**
 * Shared by the reduction tests (reduction.test.ts, cpu-symmetry.test.ts):
 * canonicalKey, a state's fingerprint under a reduction; expectSameSearch,
 * which searches `policy` on `scope` unreduced and with `canonical`, and asserts
 * that the reduced search gives every property the same verdict and the same
 * shortest counterexample length, stores no more states, and that its
 * counterexamples replay. Returns both state counts. searchFigures: what a
 * search reports but its timings, for the tests that assert two searches
 * report exactly the same (split-search.test.ts, recent-successors.test.ts).
 */
import { expect, it } from "vitest";
import { type Event } from "../../model/events.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem, type System } from "../../model/system.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { exhaustiveCheck, type ExhaustiveResult } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { type CanonicalFingerprint } from "../../checker/symmetry.ts";
import { componentHashesInto } from "../../model/fingerprint.ts";
import { type State } from "../../model/state.ts";

/** Everything search result r reports but its timings and the split's own counts. */
export function searchFigures(r: ExhaustiveResult) {
  return {
    states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped, exhausted: r.exhausted, bytes: r.bytes, omission: r.omission,
    outcomes: r.outcomes.map((o) => ({
      property: o.property.name, events: o.events, message: o.violation?.message ?? null, step: o.violation?.step ?? null,
      states: o.states, transitions: o.transitions,
      more: o.more.map((m) => ({ events: m.events, states: m.states, transitions: m.transitions })),
    })),
  };
}

/** The fingerprint `canon` gives state `t` (its representative's), as a string to compare. */
export function canonicalKey(canon: CanonicalFingerprint, t: State): string {
  const h: number[] = [];
  componentHashesInto(t, h);
  const out = new Uint32Array(2);
  canon(t, h, out);
  return `${out[0]}:${out[1]}`;
}

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

/** 20 small scopes with two mapping slots, every slot unmappable: 10 alphabets/configurations, each with 1 and 2 CPUs. */
export function reductionScopes(): { name: string; scope: Scope; depth: number }[] {
  const base = DEFAULT_SCOPE;
  const variants: { name: string; config?: Partial<Scope["config"]>; alphabet?: Partial<Scope["alphabet"]> }[] = [
    { name: "plain", alphabet: { dmaPages: [0, 1], dmaOffsets: [0] } },
    { name: "pages 0,2", alphabet: { dmaPages: [0, 2], dmaOffsets: [0] } },
    { name: "offset 64", alphabet: { dmaPages: [0, 1], dmaOffsets: [64] } },
    { name: "to-device only", alphabet: { dmaPages: [0, 1], dmaOffsets: [0, 64], kmallocSizes: [64], mapRanges: [], directions: ["to-device"] } },
    { name: "from-device only", alphabet: { dmaPages: [0, 1, 2, 3], dmaOffsets: [0], kmallocSizes: [64], mapRanges: [], directions: ["from-device"] } },
    { name: "kmalloc 64,2048", alphabet: { dmaPages: [0, 1], dmaOffsets: [0], kmallocSizes: [64, 2048], mapRanges: [], directions: ["from-device"] } },
    { name: "page buffers", alphabet: { dmaPages: [0, 1], dmaOffsets: [0], kmallocSizes: [], mapRanges: [], pageSizes: [4096] } },
    { name: "12 frames", config: { frames: 12 }, alphabet: { dmaPages: [0, 3], dmaOffsets: [0] } },
    { name: "no kernel activity", alphabet: { dmaPages: [0, 1, 2], dmaOffsets: [0], kernelSizes: [] } },
    { name: "two devices", config: { devices: 2 }, alphabet: { dmaPages: [0], dmaOffsets: [0], kmallocSizes: [64], mapRanges: [], directions: ["from-device"] } },
  ];
  const out: { name: string; scope: Scope; depth: number }[] = [];
  for (const cpus of [1, 2]) {
    for (const v of variants) {
      const config = { ...base.config, maxMappings: 2, ...v.config, cpus };
      const alphabet = { ...base.alphabet, unmapSlots: 2, ...v.alphabet };
      out.push({ name: `${v.name}, ${cpus} CPU${cpus > 1 ? "s" : ""}`, scope: { config, alphabet }, depth: cpus === 1 ? 5 : 4 });
    }
  }
  return out;
}

/**
 * Registers one test per scope asserting expectSameSearch for every policy
 * `reductionOf` reduces there (null: it does not apply, nothing to compare),
 * then a last test that the reduction stored fewer states in all.
 */
export function itAgreesOnEveryScope(
  label: string, scopes: readonly { name: string; scope: Scope; depth: number }[], policies: readonly Policy[],
  reductionOf: (sys: System, alphabet: readonly Event[]) => CanonicalFingerprint | null,
): void {
  let reducedStates = 0, fullStates = 0;
  for (const { name, scope, depth } of scopes) {
    it(`${name}: same verdicts and shortest lengths for every policy and property`, () => {
      const alphabet = alphabetEvents(scope);
      for (const policy of policies) {
        const canonical = reductionOf(makeSystem(scope.config, policy), alphabet);
        if (canonical === null) continue;
        const n = expectSameSearch(policy, scope, alphabet, depth, canonical);
        fullStates += n.full;
        reducedStates += n.reduced;
      }
    });
  }
  it("and the reduction removes states", () => {
    console.log(`${label}: ${reducedStates} states reduced, ${fullStates} unreduced`);
    expect(reducedStates).toBeGreaterThan(0);
    expect(reducedStates).toBeLessThan(fullStates);
  });
}

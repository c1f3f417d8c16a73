/**
 * Bitstate hashing (--bitstate): it finds the same shortest violations as the
 * exhaustive search on small broken policies, its omission estimate follows
 * the formula in docs/exhaustive.md, and a tiny bit array is reported as
 * likely to have omitted states.
 */
import { describe, expect, it } from "vitest";
import { BROKEN_POLICIES, POLICIES } from "../../model/policies/index.ts";
import { makeSystem } from "../../model/system.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { BitstateSet, omissionEstimate } from "../../checker/visited.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";

const ALPHABET = alphabetEvents(DEFAULT_SCOPE);
const pick = (names: string[]) => [...POLICIES, ...BROKEN_POLICIES].filter((p) => names.includes(p.name));

describe("bitstate search", () => {
  it("finds the violations the exhaustive search finds, with the same shortest lengths", () => {
    for (const policy of pick(["strict-wait-before-invalidate", "strict-free-before-wait", "shadow-zero-copy", "morsel-leaf-only-unmount", "coiommu-unpin-before-invalidate", "strict", "damn"])) {
      const sys = makeSystem(DEFAULT_SCOPE.config, policy);
      const full = exhaustiveCheck(sys, PROPERTIES, ALPHABET, { depth: 40, maxStates: 2_000_000 });
      const bit = exhaustiveCheck(sys, PROPERTIES, ALPHABET, { depth: 40, maxStates: 2_000_000, bitstate: { bits: 24, hashes: 3 } });
      expect(bit.outcomes.map((o) => o.events?.length ?? null), policy.name).toEqual(full.outcomes.map((o) => o.events?.length ?? null));
      // With 2^24 bits for a few thousand states nothing is omitted, and the estimate says so.
      expect(bit.states, policy.name).toBe(full.states);
      expect(bit.omission!).toBeLessThan(0.05);
      expect(full.omission).toBeNull();
    }
  });

  it("a bit array far too small omits states and says an omission is likely", () => {
    const sys = makeSystem(DEFAULT_SCOPE.config, POLICIES.find((p) => p.name === "strict")!);
    const full = exhaustiveCheck(sys, PROPERTIES, ALPHABET, { depth: 40, maxStates: 2_000_000 });
    const bit = exhaustiveCheck(sys, PROPERTIES, ALPHABET, { depth: 40, maxStates: 2_000_000, bitstate: { bits: 10, hashes: 2 } });
    expect(bit.states).toBeLessThan(full.states);
    expect(bit.omission!).toBeGreaterThan(0.5);
  });

  it("the omission estimate is the integrated sum of (1 - e^(-k i / m))^k", () => {
    const n = 1500, m = 2 ** 16, k = 3;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (1 - Math.exp(-k * i / m)) ** k;
    expect(sum).toBeGreaterThan(0.05);
    expect(sum).toBeLessThan(1);
    expect(omissionEstimate(n, m, k)).toBeCloseTo(sum, 2);
    expect(omissionEstimate(0, m, k)).toBe(0);
    expect(omissionEstimate(10 ** 6, 2 ** 20, 3)).toBe(1);
    const set = new BitstateSet(16, 3);
    expect(set.add(1, 2)).toBe(true);
    expect(set.add(1, 2)).toBe(false);
    expect(set.has(1, 2)).toBe(true);
    expect(set.size).toBe(1);
  });
});

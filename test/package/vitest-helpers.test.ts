// dmacheck/vitest (vitest.ts): expectHolds and expectViolates on built-in
// policies and a broken variant, over the default scope cut to a few steps.

import { describe, expect, it } from "vitest";
import { expectHolds, expectViolates } from "../../vitest.ts";
import { findAnyPolicy, findPolicy } from "../../model/policies/index.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { type Policy } from "../../model/policy.ts";

const policy = (name: string): Policy => {
  const p = findPolicy(name) ?? findAnyPolicy(name);
  if (p === undefined) throw new Error(name);
  return p;
};

describe("dmacheck/vitest", () => {
  it("expectViolates returns strict's shortest byte-confinement counterexample, which replays", () => {
    const cx = expectViolates(policy("strict"), "byte-confinement", { depth: 4 });
    expect(cx).toMatchObject({ policy: "strict", property: "byte-confinement" });
    expect(cx.events).toHaveLength(2); // docs/properties.md: violated (2)
    expect(replayCounterexample(cx, policy("strict")).reproduced).toBe(true);
  });

  it("expectHolds passes for strict x page-confinement over the whole default scope", () => {
    const [held] = expectHolds(policy("strict"), ["page-confinement"]);
    expect(held).toMatchObject({ property: "page-confinement", exhausted: true, vacuous: false });
  });

  it("expectHolds throws with the counterexample for a broken variant", () => {
    expect(() => expectHolds(policy("strict-free-before-wait"), "page-confinement", { depth: 8 })).toThrow(/violates page-confinement after \d+ events:\n {2}1\. map/);
  });

  it("expectHolds refuses a bounded or vacuous holds unless allowed; expectViolates throws when the property holds", () => {
    expect(() => expectHolds(policy("strict"), "page-confinement", { depth: 3 })).toThrow(/only up to the search bound/);
    expect(expectHolds(policy("strict"), "page-confinement", { depth: 3, allowBounded: true })[0].exhausted).toBe(false);
    expect(() => expectHolds(policy("strict"), "pte-agreement", { depth: 3, allowBounded: true })).toThrow(/only vacuously/);
    expect(() => expectViolates(policy("strict"), "page-confinement", { depth: 3 })).toThrow(/expected strict to violate page-confinement, but it holds up to the search bound/);
  });

  it("rejects what is not a policy, and unknown properties", () => {
    expect(() => expectHolds({ name: "x" } as unknown as Policy, "page-confinement")).toThrow(/not a policy/);
    expect(() => expectHolds(policy("strict"), "no-such" as never)).toThrow(/unknown property "no-such"/);
  });
});

import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { POLICIES } from "../../model/policies/index.ts";
import { claimsOf } from "../../model/policy.ts";
import { makeSystem } from "../../model/system.ts";
import { MEMORY_PROPERTIES, PROPERTIES } from "../../properties/index.ts";
import { randomCheck } from "../../checker/random.ts";
import { traceEvents } from "../../checker/trace.ts";
import { Executor } from "../../checker/execute.ts";
import { EXPECTED, MAX_EVENTS, RANDOM_MISSES, RUNS, SEED } from "./expected.ts";

describe("the random engine reproduces the expected verdicts (docs/reference/policies.md section 8)", () => {
  for (const policy of POLICIES) {
    const sys = makeSystem(DEFAULT_CONFIG, policy);
    for (const prop of PROPERTIES) {
      // A cell only the exhaustive engine finds is expected to hold for the random engine's default run.
      const expected = RANDOM_MISSES[policy.name]?.includes(prop.name) === true ? "holds" : EXPECTED[policy.name][prop.name];
      it(`${policy.name} ${expected === "holds" ? "holds" : "violates"} ${prop.name}`, () => {
        const r = randomCheck(sys, prop, { runs: RUNS, seed: SEED, maxEvents: MAX_EVENTS });
        expect(r.verdict).toBe(expected);
        if (expected === "holds") {
          expect(r.runs).toBe(RUNS);
          return;
        }
        // A short counterexample that ends at the violation and replays.
        expect(r.events!.length).toBeGreaterThan(0);
        expect(r.events!.length).toBeLessThanOrEqual(8);
        expect(r.violation!.step).toBe(r.events!.length - 1);
        const trace = traceEvents(sys, [prop], r.events!);
        expect(trace.violation?.property).toBe(prop.name);
        expect(trace.violation?.step).toBe(r.violation!.step);
        expect(trace.explanation).toMatch(/device \d/);
        // 1-minimal: removing any single event loses the violation.
        const exec = new Executor(sys, [prop]);
        for (let i = 0; i < r.events!.length; i++) {
          const fewer = r.events!.filter((_, j) => j !== i);
          expect(exec.run(fewer).violation, `event ${i + 1} is needed`).toBeNull();
        }
      });
    }
  }

  it("a policy's claims are exactly the cells expected to hold", () => {
    for (const policy of POLICIES) {
      // Memory properties depend on the memory configuration, not the policy: no policy claims them.
      const holds = PROPERTIES.filter((p) => EXPECTED[policy.name][p.name] === "holds" && !MEMORY_PROPERTIES.includes(p.name)).map((p) => p.name);
      // vm-confinement (not in the default run) is checked with memory outside the VM in test/checker/vm.test.ts.
      expect(claimsOf(policy).filter((c) => PROPERTIES.some((p) => p.name === c)).sort()).toEqual(holds.sort());
    }
  });
});

describe("seed and path replay", () => {
  it("the recorded seed and path lead straight back to the same counterexample", () => {
    const lazyPolicy = POLICIES.find((p) => p.name === "lazy")!;
    const prop = PROPERTIES.find((p) => p.name === "iotlb-coherence")!;
    const sys = makeSystem(DEFAULT_CONFIG, lazyPolicy);
    const found = randomCheck(sys, prop, { runs: RUNS, seed: SEED, maxEvents: MAX_EVENTS });
    expect(found.verdict).toBe("violated");
    expect(found.path).toMatch(/^\d+(:\d+)*$/);
    const replayed = randomCheck(sys, prop, { runs: RUNS, seed: SEED, maxEvents: MAX_EVENTS, path: found.path! });
    expect(replayed.verdict).toBe("violated");
    expect(replayed.runs).toBeLessThan(found.runs);
    expect(replayed.events).toEqual(found.events);
  });
});

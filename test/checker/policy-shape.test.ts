// The shape check a user's policy module passes before it is run (checker/policy-module.ts).
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicyModule, policyShapeProblem } from "../../checker/policy-module.ts";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { POLICIES, BROKEN_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES } from "../../model/policies/index.ts";

const base = { name: "mine", summary: "s", claims: [], attach: () => "translate", map: () => -1, unmap: () => -1 };

describe("policy module shape", () => {
  it("accepts every built-in policy and broken variant, hooks included", () => {
    for (const p of [...POLICIES, ...BROKEN_POLICIES, ...NET_POLICIES, ...NET_BROKEN_POLICIES]) expect(policyShapeProblem(p as unknown as Record<string, unknown>), p.name).toBeNull();
  });

  it("names the field that is wrong", () => {
    expect(policyShapeProblem({ ...base, boot: 3 })).toBe("boot must be a function");
    expect(policyShapeProblem({ ...base, allocBuffer: () => true })).toMatch(/allocBuffer and freeBuffer go together/);
    expect(policyShapeProblem({ ...base, maxMappingBytes: 0 })).toBe("maxMappingBytes must be a positive integer");
    expect(policyShapeProblem({ ...base, descriptorPages: 1.5 })).toBe("descriptorPages must be a positive integer");
    expect(policyShapeProblem({ ...base, claims: ["no-such"] })).toMatch(/unknown property "no-such"/);
    expect(policyShapeProblem({ ...base, symmetric: "no" })).toBe("symmetric must be a boolean");
    expect(policyShapeProblem({ ...base, symmetric: false })).toBeNull();
    expect(policyShapeProblem({ ...base, cpuSymmetric: 1 })).toBe("cpuSymmetric must be a boolean");
    expect(policyShapeProblem({ ...base, cpuSymmetric: false })).toBeNull();
    expect(policyShapeProblem(base)).toBeNull();
  });

  it("checks and keeps iommus and stateWordNames, which the documented Policy interface has", async () => {
    expect(policyShapeProblem({ ...base, iommus: ["vtd"] })).toBeNull();
    expect(policyShapeProblem({ ...base, iommus: [] })).toMatch(/iommus must be a non-empty array/);
    expect(policyShapeProblem({ ...base, iommus: ["arm-smmu"] })).toMatch(/iommus must be a non-empty array/);
    expect(policyShapeProblem({ ...base, stateWordNames: ["a"] })).toBe("stateWordNames must be a function");
    const dir = mkdtempSync(join(tmpdir(), "dmacheck-shape-"));
    const file = join(dir, "vtd-only.js");
    writeFileSync(file, `export default { name: "vtd-only", summary: "s", claims: [], iommus: ["vtd"], stateWords: 1,
      stateWordNames: () => ["my counter"], attach: () => "translate", map: () => -1, unmap: () => -1 };\n`);
    const r = await loadPolicyModule(file);
    if (!r.ok) throw new Error(r.error);
    expect(r.policy.iommus).toEqual(["vtd"]);
    expect(r.policy.stateWordNames?.(DEFAULT_CONFIG)).toEqual(["my counter"]);
  });

  it("the networking hooks: userGet and userPut are functions, events lists opt-in kinds only", () => {
    expect(policyShapeProblem({ ...base, userGet: () => null, userPut: () => "no", events: ["user-get", "xdp-tx"] })).toBeNull();
    expect(policyShapeProblem({ ...base, userPut: 1 })).toBe("userPut must be a function");
    expect(policyShapeProblem({ ...base, events: ["map"] })).toMatch(/^events must be an array of opt-in event kinds \(user-get, user-put, xdp-tx\)$/);
    expect(policyShapeProblem({ ...base, events: "xdp-tx" })).toMatch(/^events must be/);
  });
});

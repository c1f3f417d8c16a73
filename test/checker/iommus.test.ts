/**
 * Every policy that runs on both IOMMUs gets the same verdict on VT-d as on
 * AMD v1, cell by cell, over the same small machine: the policies use only
 * the Kernel services, and the two IOMMUs give them the same guarantees
 * (docs/iommus.md). Same table depth on both (VT-d AGAW 39 bits, 3 levels)
 * so both machines have the same frames to spare; a small depth keeps the
 * test short (depth 8; the full default scope agrees too, docs/iommus.md). And the reverse check: the VT-d machine really is VT-d
 * (context entries, second-level entries, invalidation descriptors).
 */
import { describe, expect, it } from "vitest";
import { POLICIES } from "../../model/policies/index.ts";
import { runsOn } from "../../model/policy.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { checkPolicyExhaustively } from "../../checker/matrix.ts";
import { DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";
import { CMDQ, DTE, PTMEM } from "../../model/geometry.ts";
import { strict } from "../../model/policies/strict.ts";
import { ctxPresent, ctxTt, ctxDomainId, ctxAw } from "../../model/formats/vtd-context-entry.ts";
import { descType, QI_IOTLB_TYPE, QI_IWD_TYPE } from "../../model/formats/vtd-descriptor.ts";
import { withIommu } from "../../model/config.ts";

const AMD: Scope = DEFAULT_SCOPE;
const VTD: Scope = { ...DEFAULT_SCOPE, config: { ...withIommu(DEFAULT_SCOPE.config, "vtd"), iommuLevels: 3 } };
const DEPTH = 8;

describe("the same verdicts on VT-d as on AMD v1", () => {
  const both = POLICIES.filter((p) => runsOn(p, "vtd") && runsOn(p, "amd-v1"));
  it("covers every built-in policy but the morsel ones (AMD v1 tables the CPU shares)", () => {
    expect(POLICIES.filter((p) => !both.includes(p)).map((p) => p.name)).toEqual(["morsel", "morsel-views"]);
  });
  for (const policy of both) {
    it(policy.name, () => {
      const verdicts = (scope: Scope) =>
        checkPolicyExhaustively({ policy, module: null }, PROPERTIES, { scope, depth: DEPTH, maxStates: 50_000, timing: false })
          .cells.map((c) => `${c.property}: ${c.verdict}${c.length === null ? "" : ` (${c.length})`}`);
      expect(verdicts(VTD)).toEqual(verdicts(AMD));
    });
  }
});

describe("the VT-d machine", () => {
  it("boots legacy context entries and runs strict through page-selective invalidations and wait descriptors", () => {
    const sys = makeSystem(withIommu(DEFAULT_SCOPE.config, "vtd"), strict);
    const dte = sys.init[DTE];
    expect([ctxPresent(dte[0]), ctxTt(dte[0]), ctxDomainId(dte[2]), ctxAw(dte[2])]).toEqual([true, 0, 1, 2]);
    const st = new Stepper(sys, new Observation());
    let s = st.step(sys.init, { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" });
    // 4 levels: three tables and the leaf, each a second-level entry with R (and W for directories).
    expect(s[PTMEM][0]).toBeGreaterThan(0);
    s = st.step(s, { t: "unmap", cpu: 0, k: 0, free: true });
    const q = s[CMDQ];
    expect(q[1]).toBe(2);
    expect([descType(q[2]), descType(q[6])]).toEqual([QI_IOTLB_TYPE, QI_IWD_TYPE]);
  });
});

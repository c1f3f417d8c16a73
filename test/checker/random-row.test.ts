/**
 * The random engine's row of a policy (checker/matrix.ts checkPolicyRandom,
 * one pass over the seed's sequences for every property) gives, cell for
 * cell and byte for byte, what checking each property on its own gives
 * (checkCell): the same verdicts, runs, counterexamples, fast-check paths,
 * swarms and coverage. Over every built-in and broken policy, with and
 * without swarm weights and with --counterexamples 2.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { BROKEN_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES } from "../../model/policies/index.ts";
import { vmMorselNoInvept } from "../../model/policies/vm-morsel.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { checkCell, checkPolicyRandom, type MatrixOptions } from "../../checker/matrix.ts";

const base: MatrixOptions = { config: DEFAULT_CONFIG, runs: 150, seed: 11, maxEvents: 24, timing: false };

function same(opts: MatrixOptions, policies = [...POLICIES, ...BROKEN_POLICIES]): number {
  let violated = 0;
  for (const policy of policies) {
    const entry = { policy, module: null };
    const row = checkPolicyRandom(entry, PROPERTIES, opts);
    const cells = PROPERTIES.map((p) => checkCell(entry, p, opts));
    expect(JSON.stringify(row), policy.name).toBe(JSON.stringify(cells));
    violated += cells.filter((c) => c.verdict === "violated").length;
  }
  return violated;
}

describe("the random engine's row of a policy", () => {
  it("equals the cells checked one property at a time, for every built-in and broken policy", () => {
    // Violated cells are there to compare: the test would be vacuous without them.
    expect(same(base)).toBeGreaterThan(20);
  }, 240_000);

  it("equals them for policies that opt into more event kinds (networking, a VM's vCPUs)", () => {
    const opted = [...NET_POLICIES, ...NET_BROKEN_POLICIES, vmMorselNoInvept].filter((p) => (p.events?.length ?? 0) > 0 || p.eptTable !== undefined);
    expect(opted.length).toBeGreaterThan(2);
    expect(same({ ...base, runs: 300 }, opted)).toBeGreaterThan(2);
  }, 240_000);

  it("equals them without swarm weights, with another seed", () => {
    expect(same({ ...base, swarm: false, seed: 3 }, POLICIES.slice(0, 6))).toBeGreaterThan(5);
  }, 120_000);

  it("equals them with --counterexamples 2", () => {
    expect(same({ ...base, counterexamples: 2 }, POLICIES.slice(1, 3))).toBeGreaterThan(2);
  }, 120_000);
});

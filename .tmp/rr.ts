import { checkPolicyRandom } from "../checker/matrix.ts";
import { raceScopeFor, DEFAULT_SCOPE } from "../checker/scope.ts";
import { PROPERTIES } from "../properties/index.ts";
import { loadPolicyModule } from "../checker/policy-module.ts";
for (const name of ["out-undo-no-invalidate", "out-lazy-arm-once", "out-inv-dom0", "out-subrange-object-frame", "out-iova-reuse"]) {
  const l = await loadPolicyModule(`/work/main/test/fixtures/outside/${name}.ts`);
  if (!l.ok) throw new Error(l.error);
  const policy = l.policy;
  for (const frames of [10, 12]) {
    const config = { ...raceScopeFor(policy, DEFAULT_SCOPE.config).config, frames };
    const t0 = performance.now();
    const cells = checkPolicyRandom({ policy, module: null }, PROPERTIES.filter((p) => policy.claims.includes(p.name)), { config, runs: 10000, seed: 42, maxEvents: 24, timing: false });
    console.log(name, frames, Math.round(performance.now() - t0), "ms", cells.filter((c) => c.verdict === "violated").map((c) => `${c.property}(${c.length})`).join(" ") || "none");
  }
}

/** `dmacheck list [policies|properties]`. */
import { BROKEN_GUEST_POLICIES, BROKEN_POLICIES, GUEST_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES, VM_MORSEL_POLICIES, VTD_BROKEN_POLICIES } from "../model/policies/index.ts";
import { claimsOf } from "../model/policy.ts";
import { ALL_PROPERTIES as PROPERTIES } from "../properties/index.ts";
import { fail } from "./errors.ts";
import { type Io } from "./io.ts";

export function runList(what: string, io: Io): number {
  if (!["all", "policies", "properties"].includes(what)) fail(`list: unknown list ${JSON.stringify(what)} (expected policies or properties)`);
  const out: string[] = [];
  if (what !== "properties") {
    const w = Math.max(...[...POLICIES, ...BROKEN_POLICIES, ...NET_POLICIES, ...NET_BROKEN_POLICIES].map((p) => p.name.length)) + 2;
    const wg = Math.max(...[...GUEST_POLICIES, ...BROKEN_GUEST_POLICIES].map((p) => p.name.length)) + 2;
    out.push("policies:");
    for (const p of POLICIES) out.push(`  ${p.name.padEnd(w)}${p.summary}`, `  ${"".padEnd(w)}claims: ${claimsOf(p).join(", ")}`);
    out.push("broken variants (to show the checker catches them):");
    for (const p of BROKEN_POLICIES) out.push(`  ${p.name.padEnd(w)}${p.summary}`);
    out.push("broken variants on VT-d only (check them with --iommu vtd):");
    for (const p of VTD_BROKEN_POLICIES) out.push(`  ${p.name.padEnd(w)}${p.summary}`);
    out.push("guest policies (check --guest strict,lazy,passthrough --viommu emulated,nested,virtio):");
    for (const p of GUEST_POLICIES) out.push(`  ${p.name.padEnd(wg)}${p.summary}`, `  ${"".padEnd(wg)}claims: ${claimsOf(p).join(", ")}`);
    out.push("broken VMMs (caught by vm-confinement):");
    for (const p of BROKEN_GUEST_POLICIES) out.push(`  ${p.name.padEnd(wg)}${p.summary}`);
    out.push("networking policies (by name only, not in the default run):");
    for (const p of NET_POLICIES) out.push(`  ${p.name.padEnd(w)}${p.summary}`, `  ${"".padEnd(w)}claims: ${claimsOf(p).join(", ")}`);
    for (const p of NET_BROKEN_POLICIES) out.push(`  ${p.name.padEnd(w)}${p.summary}`);
    out.push("morsels in a VM (by name only, not in the default run; docs/virtualisation.md):");
    for (const p of VM_MORSEL_POLICIES) out.push(`  ${p.name.padEnd(w)}${p.summary}`, `  ${"".padEnd(w)}claims: ${claimsOf(p).join(", ")}`);
  }
  if (what !== "policies") {
    if (out.length > 0) out.push("");
    const w = Math.max(...PROPERTIES.map((p) => p.name.length)) + 2;
    out.push("properties:");
    for (const p of PROPERTIES) out.push(`  ${p.name.padEnd(w)}${p.summary}`);
  }
  io.out(out.join("\n") + "\n");
  return 0;
}

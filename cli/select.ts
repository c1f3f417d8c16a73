/** Selecting named things from a flag's comma-separated list: one-line errors, no duplicates. */
import { fail } from "./errors.ts";
import { BROKEN_GUEST_POLICIES, BROKEN_POLICIES, GUEST_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES, SCOPED_POLICIES, VM_MORSEL_POLICIES, VTD_BROKEN_POLICIES } from "../model/policies/index.ts";

/**
 * The things named by `names` (all of `defaults` when the flag is absent).
 * An empty list or an unknown name is bad input naming the flag.
 */
export function selectByName<T>(flag: string, noun: string, names: readonly string[] | undefined, defaults: readonly T[], find: (name: string) => T | undefined, known: string): T[] {
  if (names === undefined) return [...defaults];
  if (names.length === 0) fail(`${flag}: no ${noun} selected`);
  const out: T[] = [];
  for (const n of names) {
    const t = find(n) ?? fail(`${flag}: unknown ${noun} ${JSON.stringify(n)} (${known})`);
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** The policy names `--policy` accepts, for error messages. */
export function knownPolicies(): string {
  return `built-in: ${POLICIES.map((q) => q.name).join(", ")}; guest policies: ${GUEST_POLICIES.map((q) => q.name).join(", ")}; ` +
    `broken variants: ${[...BROKEN_POLICIES, ...BROKEN_GUEST_POLICIES].map((q) => q.name).join(", ")}; ` +
    `needing a larger scope: ${SCOPED_POLICIES.map((q) => q.name).join(", ")}; ` +
    `on VT-d only (--iommu vtd): ${VTD_BROKEN_POLICIES.map((q) => q.name).join(", ")}; ` +
    `networking: ${[...NET_POLICIES, ...NET_BROKEN_POLICIES].map((q) => q.name).join(", ")}; ` +
    `morsels in a VM: ${VM_MORSEL_POLICIES.map((q) => q.name).join(", ")}`;
}

/** The built-in policy catalogue, in the order reports list it. */
import { type Policy } from "../policy.ts";
import { passthrough } from "./passthrough.ts";
import { strict } from "./strict.ts";
import { lazy } from "./lazy.ts";
import { shadow } from "./shadow.ts";
import { fns } from "./fns.ts";
import { bounce } from "./bounce.ts";
import { damn } from "./damn.ts";
import { vfio, vfio4k } from "./vfio.ts";
import { morsel } from "./morsel.ts";
import { morselViews } from "./morsel-views.ts";

import { viommu } from "./viommu.ts";
import { coiommu } from "./coiommu.ts";

export const POLICIES: readonly Policy[] = [passthrough, strict, lazy, bounce, shadow, damn, fns, vfio, morsel, morselViews, viommu, coiommu];

export function findPolicy(name: string): Policy | undefined {
  return POLICIES.find((p) => p.name === name);
}

export { BROKEN_POLICIES, VTD_BROKEN_POLICIES } from "./broken.ts";
import { BROKEN_POLICIES, vfioUndoNoInvalidate, VTD_BROKEN_POLICIES } from "./broken.ts";
import { vfioStepwise } from "./vfio-stepwise.ts";

export { BROKEN_GUEST_POLICIES, GUEST_POLICIES } from "./guest.ts";
import { findGuestPolicy } from "./guest.ts";

/**
 * Policies that need a scope beyond the default to show anything (vfio-stepwise
 * and its broken undo: a map failing part-way; vfio-4k, which differs from
 * vfio only for buffers of two pages or more): reachable by name, e.g.
 * `dmacheck check --policy vfio-undo-no-invalidate --scope FILE`, but no
 * row of the default matrix and no corpus cell.
 */
export const SCOPED_POLICIES: readonly Policy[] = [vfioStepwise, vfioUndoNoInvalidate, vfio4k];

/**
 * Networking policies (page_pool over an IOMMU policy or DAMN,
 * model/policies/page-pool.ts; MAIO, model/policies/maio.ts) and their broken
 * variants: selectable by name (`--policy page-pool@strict`, `--policy maio`),
 * not in the default run.
 */
import { PAGE_POOL_BROKEN_POLICIES, PAGE_POOL_POLICIES } from "./page-pool.ts";
import { maio, maioGrantGranted, maioTailFreedWhileMapped } from "./maio.ts";
export const NET_POLICIES: readonly Policy[] = [...PAGE_POOL_POLICIES, maio];
export const NET_BROKEN_POLICIES: readonly Policy[] = [...PAGE_POOL_BROKEN_POLICIES, maioTailFreedWhileMapped, maioGrantGranted];

/** Morsels in a virtual machine (model/policies/vm-morsel.ts): selectable by name (`--policy vm-morsel`), not in the default run. */
export { VM_MORSEL_POLICIES } from "./vm-morsel.ts";
import { VM_MORSEL_POLICIES } from "./vm-morsel.ts";

/** A built-in policy, a guest policy (model/policies/guest.ts), a broken variant (the VT-d-only ones too), a scoped or a networking policy, by name. */
export function findAnyPolicy(name: string): Policy | undefined {
  return findPolicy(name) ?? findGuestPolicy(name) ?? BROKEN_POLICIES.find((p) => p.name === name) ?? SCOPED_POLICIES.find((p) => p.name === name) ??
    VTD_BROKEN_POLICIES.find((p) => p.name === name) ?? NET_POLICIES.find((p) => p.name === name) ?? NET_BROKEN_POLICIES.find((p) => p.name === name) ??
    VM_MORSEL_POLICIES.find((p) => p.name === name);
}

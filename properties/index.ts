/** The property catalogue, in the order reports list it. */
import { type Property, type PropertyName } from "./property.ts";
import { pageConfinement } from "./page-confinement.ts";
import { byteConfinement } from "./byte-confinement.ts";
import { iotlbCoherence } from "./iotlb-coherence.ts";
import { ptPageSafety } from "./pt-page-safety.ts";
import { pinSafety } from "./pin-safety.ts";
import { pteAgreement } from "./pte-agreement.ts";
import { viewRefinement } from "./view-refinement.ts";
import { directMapExclusion } from "./direct-map-exclusion.ts";
import { dmaIntegrity } from "./dma-integrity.ts";
import { staleWindow } from "./stale-window.ts";
import { noLeak } from "./no-leak.ts";
import { availability } from "./availability.ts";
import { leftoverData } from "./leftover-data.ts";
import { vmConfinement } from "./vm-confinement.ts";
import { consumedDataIntegrity } from "./consumed-data-integrity.ts";
import { userConfinement } from "./user-confinement.ts";
import { callProgress } from "./call-progress.ts";

export const PROPERTIES: readonly Property[] = [
  pageConfinement, byteConfinement, iotlbCoherence, ptPageSafety, pinSafety, pteAgreement, viewRefinement, directMapExclusion,
  dmaIntegrity, staleWindow, noLeak, availability, leftoverData, callProgress,
];

/**
 * Properties whose verdict depends on how memory is configured (the guest
 * memory region), not on the DMA policy: no policy claims them, and with the
 * default configuration (no guest memory) they hold trivially.
 */
export const MEMORY_PROPERTIES: readonly PropertyName[] = ["direct-map-exclusion"];

/**
 * Properties about virtual machines: checked by default only when a guest
 * policy is selected (cli/check.ts), or when named with --property, so the
 * default run over the built-in policies keeps its time.
 */
export const VM_PROPERTIES: readonly Property[] = [vmConfinement];

/**
 * Properties of the networking receive path and of memory shared with a user
 * process (MAIO): checked by default only when a networking policy
 * (model/policies/index.ts NET_POLICIES: page_pool, MAIO) is selected
 * (cli/check.ts), or when named with --property, so the default run keeps
 * its time.
 */
export const NET_PROPERTIES: readonly Property[] = [consumedDataIntegrity, userConfinement];

/** Every property, in the order reports list it. */
export const ALL_PROPERTIES: readonly Property[] = [...PROPERTIES, ...VM_PROPERTIES, ...NET_PROPERTIES];

export function findProperty(name: string): Property | undefined {
  return ALL_PROPERTIES.find((p) => p.name === name);
}
export type { Property, PropertyName };

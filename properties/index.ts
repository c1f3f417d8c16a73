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
import { consumedDataIntegrity } from "./consumed-data-integrity.ts";

export const PROPERTIES: readonly Property[] = [
  pageConfinement, byteConfinement, iotlbCoherence, ptPageSafety, pinSafety, pteAgreement, viewRefinement, directMapExclusion,
  dmaIntegrity, staleWindow, noLeak, availability, leftoverData,
];

/**
 * Properties of the networking receive path, selectable by name
 * (`--property consumed-data-integrity`) and checked by default only for the
 * networking policies (model/policies/page-pool.ts NET_POLICIES), which keeps
 * the default run, and its test budget, as it was.
 */
export const NET_PROPERTIES: readonly Property[] = [consumedDataIntegrity];

/** The properties checked by default for `policies`: all of PROPERTIES, and NET_PROPERTIES when a networking policy is among them. */
export function defaultProperties(policyNames: readonly string[], netPolicyNames: readonly string[]): Property[] {
  return policyNames.some((n) => netPolicyNames.includes(n)) ? [...PROPERTIES, ...NET_PROPERTIES] : [...PROPERTIES];
}

/**
 * Properties whose verdict depends on how memory is configured (the guest
 * memory region), not on the DMA policy: no policy claims them, and with the
 * default configuration (no guest memory) they hold trivially.
 */
export const MEMORY_PROPERTIES: readonly PropertyName[] = ["direct-map-exclusion"];

export function findProperty(name: string): Property | undefined {
  return PROPERTIES.find((p) => p.name === name) ?? NET_PROPERTIES.find((p) => p.name === name);
}
export type { Property, PropertyName };

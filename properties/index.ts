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

export const PROPERTIES: readonly Property[] = [
  pageConfinement, byteConfinement, iotlbCoherence, ptPageSafety, pinSafety, pteAgreement, viewRefinement, directMapExclusion,
  dmaIntegrity, staleWindow, noLeak, availability, leftoverData,
];

/**
 * Properties whose verdict depends on how memory is configured (the guest
 * memory region), not on the DMA policy: no policy claims them, and with the
 * default configuration (no guest memory) they hold trivially.
 */
export const MEMORY_PROPERTIES: readonly PropertyName[] = ["direct-map-exclusion"];

export function findProperty(name: string): Property | undefined {
  return PROPERTIES.find((p) => p.name === name);
}
export type { Property, PropertyName };

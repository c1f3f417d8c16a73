/** The property catalogue, in the order reports list it. */
import { type Property, type PropertyName } from "./property.ts";
import { pageConfinement } from "./page-confinement.ts";
import { byteConfinement } from "./byte-confinement.ts";
import { iotlbCoherence } from "./iotlb-coherence.ts";
import { ptPageSafety } from "./pt-page-safety.ts";
import { pinSafety } from "./pin-safety.ts";

export const PROPERTIES: readonly Property[] = [pageConfinement, byteConfinement, iotlbCoherence, ptPageSafety, pinSafety];

export function findProperty(name: string): Property | undefined {
  return PROPERTIES.find((p) => p.name === name);
}
export type { Property, PropertyName };

/**
 * Expected verdicts from DESIGN.md section 3 (the literature), for the
 * policies built so far. Tests compare what the checker finds against this.
 */
import { type PropertyName } from "../../model/policy.ts";

export const EXPECTED: Record<string, Record<PropertyName, "holds" | "violated">> = {
  passthrough: { "page-confinement": "violated", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "violated", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  strict: { "page-confinement": "holds", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  lazy: { "page-confinement": "violated", "byte-confinement": "violated", "iotlb-coherence": "violated", "pt-page-safety": "holds", "pin-safety": "violated", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  bounce: { "page-confinement": "holds", "byte-confinement": "holds", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "holds" },
  shadow: { "page-confinement": "holds", "byte-confinement": "holds", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "holds" },
  damn: { "page-confinement": "holds", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "holds" },
  fns: { "page-confinement": "holds", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  vfio: { "page-confinement": "holds", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  morsel: { "page-confinement": "holds", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  "morsel-views": { "page-confinement": "holds", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  viommu: { "page-confinement": "holds", "byte-confinement": "violated", "iotlb-coherence": "holds", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
  coiommu: { "page-confinement": "violated", "byte-confinement": "violated", "iotlb-coherence": "violated", "pt-page-safety": "holds", "pin-safety": "holds", "pte-agreement": "holds", "view-refinement": "holds", "direct-map-exclusion": "holds", "leftover-data": "violated" },
};

/** The runs and seed the verdict tests use (the CLI's defaults). */
export const RUNS = 10000;
export const SEED = 42;
export const MAX_EVENTS = 24;

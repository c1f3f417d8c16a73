/**
 * Antecedents shared by several properties (properties/property.ts
 * Antecedent): what puts a property to the test, counted by coverage
 * (checker/coverage.ts) to tell a real "holds" from a vacuous one.
 */
import { type Antecedent } from "./property.ts";
import { FAULT_NONE, SRC_ATC, SRC_FORGED, SRC_IOTLB, SRC_PASSTHROUGH, SRC_PDEC_WALK, SRC_WALK } from "../model/observation.ts";

/** Case names by translation source (model/observation.ts SRC_*), index = source - 1. */
const SOURCE_CASES = ["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged"];

/**
 * A device access segment that reached memory, one case per translation
 * source; an access that faulted is context (it reached nothing).
 */
export function deviceAccessAntecedent(summary: string): Antecedent {
  return {
    summary,
    afterMap: true,
    cases: SOURCE_CASES,
    context: ["fault"],
    count(_sys, _pre, _e, obs, _post, counts, at): void {
      if (obs.dev < 0) return;
      for (let i = 0; i < obs.nseg; i++) {
        const src = obs.segSource[i];
        if (src >= SRC_PASSTHROUGH && src <= SRC_FORGED) counts[at + src - 1]++;
      }
      if (obs.fault !== FAULT_NONE) counts[at + SOURCE_CASES.length]++;
    },
  };
}

/** A device access segment translated with the help of a cache; an uncached walk is context. */
export const cachedAccessAntecedent: Antecedent = {
  summary: "a device access through a cached translation (IOTLB, directory cache or ATC)",
  afterMap: true,
  cases: ["IOTLB hit", "cached-directory walk", "ATC"],
  context: ["uncached walk"],
  count(_sys, _pre, _e, obs, _post, counts, at): void {
    if (obs.dev < 0) return;
    for (let i = 0; i < obs.nseg; i++) {
      const src = obs.segSource[i];
      if (src === SRC_IOTLB) counts[at]++;
      else if (src === SRC_PDEC_WALK) counts[at + 1]++;
      else if (src === SRC_ATC) counts[at + 2]++;
      else if (src === SRC_WALK) counts[at + 3]++;
    }
  },
};

/**
 * A device read segment that reached memory, one case per translation source
 * (leftover-data: only what a device reads can expose another owner's data).
 */
export const deviceReadAntecedent: Antecedent = {
  summary: "a device read that reached memory",
  afterMap: true,
  cases: SOURCE_CASES,
  count(_sys, _pre, _e, obs, _post, counts, at): void {
    if (obs.dev < 0 || obs.write) return;
    for (let i = 0; i < obs.nseg; i++) {
      const src = obs.segSource[i];
      if (src >= SRC_PASSTHROUGH && src <= SRC_FORGED) counts[at + src - 1]++;
    }
  },
};

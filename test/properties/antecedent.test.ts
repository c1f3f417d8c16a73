/**
 * properties/antecedent.ts, the antecedents several properties share: what
 * each counts for a device access, by translation source, and what it leaves
 * out (no device, a write for the read antecedent, sources outside its
 * cases). Hand-made observations. Added for issue 15 part 7 (Stryker
 * survivors of properties/antecedent.ts).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import {
  FAULT_NONE, FAULT_PERMISSION, Observation, SRC_ATC, SRC_FORGED, SRC_IOTLB, SRC_NONE, SRC_PASSTHROUGH, SRC_PDEC_WALK, SRC_WALK,
} from "../../model/observation.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Antecedent } from "../../properties/property.ts";
import { makeSystem } from "../../model/system.ts";
import { cachedAccessAntecedent, deviceAccessAntecedent, deviceReadAntecedent } from "../../properties/antecedent.ts";

const sys = makeSystem(DEFAULT_CONFIG, strict);
/** Counts of `a` (from index 2 of a zeroed array, so that writes before or after show) for an access by `dev`. */
function counts(a: Antecedent, dev: number, sources: number[], write = false, fault = FAULT_NONE): number[] {
  const obs = new Observation();
  obs.dev = dev;
  obs.write = write;
  obs.fault = fault;
  obs.nseg = sources.length;
  sources.forEach((s, i) => (obs.segSource[i] = s));
  // A stale segment past nseg, left by an earlier access: never counted.
  obs.segSource[sources.length] = SRC_WALK;
  const c = new Float64Array(2 + a.cases.length + (a.context?.length ?? 0) + 2);
  a.count(sys, sys.init, { t: "tick", ms: 1 }, obs, sys.init, c, 2);
  return Array.from(c);
}
const ALL = [SRC_PASSTHROUGH, SRC_WALK, SRC_IOTLB, SRC_PDEC_WALK, SRC_ATC, SRC_FORGED];

describe("shared antecedents", () => {
  it("deviceAccessAntecedent: one case per source, the fault as context", () => {
    const a = deviceAccessAntecedent("a device access that reached memory");
    expect([a.summary, a.afterMap, a.cases, a.context]).toEqual([
      "a device access that reached memory", true, ["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged"], ["fault"],
    ]);
    expect(counts(a, 0, ALL)).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(counts(a, 1, [SRC_IOTLB, SRC_IOTLB], true, FAULT_PERMISSION)).toEqual([0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0]);
    expect(counts(a, 0, [SRC_NONE, 7])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(counts(a, -1, ALL, false, FAULT_PERMISSION)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("cachedAccessAntecedent: IOTLB, cached-directory walk, ATC; an uncached walk as context; nothing else", () => {
    const a = cachedAccessAntecedent;
    expect([a.afterMap, a.cases, a.context]).toEqual([true, ["IOTLB hit", "cached-directory walk", "ATC"], ["uncached walk"]]);
    expect(a.summary).toBe("a device access through a cached translation (IOTLB, directory cache or ATC)");
    expect(counts(a, 0, ALL)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    expect(counts(a, 0, [SRC_PDEC_WALK, SRC_PDEC_WALK, SRC_WALK])).toEqual([0, 0, 0, 2, 0, 1, 0, 0]);
    expect(counts(a, 0, [SRC_PASSTHROUGH, SRC_FORGED, SRC_NONE])).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(counts(a, -1, ALL)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("deviceReadAntecedent: reads only, one case per source", () => {
    const a = deviceReadAntecedent;
    expect([a.summary, a.afterMap, a.context]).toEqual(["a device read that reached memory", true, undefined]);
    expect(counts(a, 0, ALL)).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(counts(a, 0, ALL, true)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(counts(a, -1, ALL)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(counts(a, 1, [SRC_NONE, SRC_ATC, 7])).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  });
});

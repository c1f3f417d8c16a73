/**
 * availability: a live mapping works.
 *
 * Formally: for every transition whose observation contains a device access
 * by device d (through its IOMMU, not a forged translated request) that
 * faulted: no mapping m of d whose map call has returned and whose unmap has
 * not started (status mapped) grants the whole access, that is, [iova,
 * iova + len) lies within the IOVA bytes m's map handed out for one of its
 * segments (Kernel.mapSegments' layout: segment after segment from the
 * mapping's IOVA, each at its offset in its first granule), in a direction m
 * allows (a read needs to-device or bidirectional, a write from-device or
 * bidirectional).
 *
 * A policy that reclaims, unmaps or invalidates the wrong page under a live
 * mapping breaks it, whatever it does for isolation: the device's DMA to a
 * buffer the driver handed it faults.
 *
 * Source: the DMA API contract (Linux Documentation/core-api/dma-api.rst:
 * the DMA address dma_map_* returns is valid for the device until the
 * matching unmap); AMD IOMMU specification, IO page faults (event log
 * IO_PAGE_FAULT) are errors for the device.
 */
import { type Property, type Violation } from "./property.ts";
import { MAPS } from "../model/geometry.ts";
import { dirAllowsRead, dirAllowsWrite, MS_MAPPED, mDev, mDir, mSegs, mStatus } from "../model/dma-mapping.ts";
import { FAULT_ACS_TB, FAULT_ATS_DISABLED, FAULT_NAMES, FAULT_NONE } from "../model/observation.ts";
import { segIovaRange } from "./mapping-frames.ts";
import { hex } from "./describe.ts";

const range = { start: 0, end: 0 };

/**
 * A translated (ATS) request the platform refuses before the IOMMU looks at
 * the tables: ACS Translation Blocking, or ATS disabled for the device (Linux
 * drivers/pci/ats.c pci_ats_supported refuses untrusted devices). The device
 * falls back to untranslated requests; the policy's mapping is not at fault.
 */
function platformRefused(fault: number): boolean {
  return fault === FAULT_ACS_TB || fault === FAULT_ATS_DISABLED;
}

export const availability: Property = {
  name: "availability",
  summary: "a device access inside a live mapping (map returned, unmap not started), within its granted bytes and direction, never faults",
  antecedent: {
    summary: "a device access inside a mapped buffer's IOVA range, in its direction",
    afterMap: true,
    cases: ["completed", "faulted"],
    count(sys, _pre, e, obs, post, counts, at): void {
      if (obs.dev < 0 || e.t === "dma-translated" || platformRefused(obs.fault)) return;
      const mp = post[MAPS];
      const a = obs.iova, b = obs.iova + obs.len;
      for (let m = 0; m < sys.cfg.maxMappings; m++) {
        if (mStatus(mp, m) !== MS_MAPPED || mDev(mp, m) !== obs.dev) continue;
        if (obs.write ? !dirAllowsWrite(mDir(mp, m)) : !dirAllowsRead(mDir(mp, m))) continue;
        for (let i = 0; i < mSegs(mp, m); i++) {
          segIovaRange(mp, m, i, range);
          if (a < range.start || b > range.end) continue;
          counts[at + (obs.fault === FAULT_NONE ? 0 : 1)]++;
          return;
        }
      }
    },
  },
  check(sys, _pre, e, obs, post): Violation | null {
    if (obs.dev < 0 || obs.fault === FAULT_NONE || e.t === "dma-translated" || platformRefused(obs.fault)) return null;
    const mp = post[MAPS];
    const a = obs.iova, b = obs.iova + obs.len;
    for (let m = 0; m < sys.cfg.maxMappings; m++) {
      if (mStatus(mp, m) !== MS_MAPPED || mDev(mp, m) !== obs.dev) continue;
      const dir = mDir(mp, m);
      if (obs.write ? !dirAllowsWrite(dir) : !dirAllowsRead(dir)) continue;
      for (let i = 0; i < mSegs(mp, m); i++) {
        segIovaRange(mp, m, i, range);
        if (a < range.start || b > range.end) continue;
        return {
          property: "availability", dev: obs.dev, iovaPfn: obs.faultIovaPfn,
          message: `device ${obs.dev}'s ${obs.write ? "write" : "read"} of ${obs.len} byte(s) at IOVA ${hex(a)}, inside mapping #${m} ` +
            `(segment ${i}, IOVA ${hex(range.start)}..${hex(range.end)}, mapped and not being unmapped), faulted: ` +
            `${FAULT_NAMES[obs.fault]} at IOVA page ${hex(obs.faultIovaPfn)}`,
        };
      }
    }
    return null;
  },
};

/**
 * page-confinement ("no kernel page reachable by a device").
 *
 * Formally: for every transition whose observation contains a device access by
 * device d that touched frame f, f holds at least one byte granted to d at
 * that moment (a segment of a live mapping of d whose object is still
 * allocated; see grants.ts). A frame that is free, or that was freed and
 * reused, holds nothing granted to d, whatever stale translation led there.
 *
 * Source: the spatial and temporal classes of Markettos et al., Thunderclap
 * (NDSS'19); the lazy-mode window of Linux drivers/iommu/dma-iommu.c
 * ("devices may be able to access memory for some time after it has been
 * unmapped", Kconfig IOMMU_DEFAULT_DMA_LAZY).
 */
import { type Property, type Violation } from "./property.ts";
import { frameGranted } from "./grants.ts";
import { deviceAccessAntecedent } from "./antecedent.ts";
import { describeFrame, hex, sourceName } from "./describe.ts";
import { OBJECTS } from "../model/geometry.ts";
import { objCount, objFrame, objOwner, ownerDriver } from "../model/objects.ts";
import { type State } from "../model/state.ts";

/** Whether frame `f` holds an object of the driver of device `dev` (off the hot path: only on a violation). */
function holdsDriverObject(s: State, f: number, dev: number): boolean {
  const ob = s[OBJECTS];
  for (let i = 0; i < objCount(ob); i++) if (objFrame(ob, i) === f && objOwner(ob, i) === ownerDriver(dev)) return true;
  return false;
}

export const pageConfinement: Property = {
  name: "page-confinement",
  summary: "a device only ever touches frames that currently hold something granted to it",
  antecedent: deviceAccessAntecedent("a device access that reached memory"),
  check(sys, _pre, _e, obs, post): Violation | null {
    if (obs.dev < 0) return null;
    for (let i = 0; i < obs.nseg; i++) {
      const f = obs.segFrame[i];
      if (frameGranted(post, sys.cfg.maxMappings, obs.dev, f)) continue;
      const iova = obs.segIovaPfn[i] * 4096 + obs.segOffset[i];
      return {
        property: "page-confinement",
        dev: obs.dev,
        frame: f,
        iovaPfn: obs.segIovaPfn[i],
        message: `device ${obs.dev} ${obs.write ? "wrote" : "read"} frame ${f} through ${sourceName(obs.segSource[i])} for IOVA ${hex(iova)}; ` +
          `frame ${f} holds nothing granted to device ${obs.dev}: it is ${describeFrame(post, f)}` +
          (holdsDriverObject(post, f, obs.dev) ? ` (the driver still holds its buffer, but its unmap has returned: the device may no longer touch it)` : ""),
      };
    }
    return null;
  },
};

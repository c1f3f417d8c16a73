/**
 * byte-confinement (sub-page exposure).
 *
 * Formally: for every transition whose observation contains a device access by
 * device d, every byte the access touched lies in a segment granted to d whose
 * mapping direction allows the access (a read needs DMA_TO_DEVICE or
 * BIDIRECTIONAL, a write DMA_FROM_DEVICE or BIDIRECTIONAL) and whose object
 * is still allocated. Bytes beside the buffer in the same granule (other slab
 * objects, free slab slots, padding) are not granted.
 *
 * Source: Markuze et al., "Characterizing, exploiting, and detecting DMA code
 * injection vulnerabilities in the presence of an IOMMU" (EuroSys'21): the
 * IOMMU restricts DMA per page, so data co-located with a buffer is exposed;
 * Thunderclap's Linux e1000e attack read kmalloc data beside 2 KiB buffers.
 */
import { type Property, type Violation } from "./property.ts";
import { firstUngrantedByte } from "./grants.ts";
import { deviceAccessAntecedent } from "./antecedent.ts";
import { describeByte, hex, sourceName } from "./describe.ts";

export const byteConfinement: Property = {
  name: "byte-confinement",
  summary: "a device only ever touches bytes currently granted to it, in the granted direction",
  antecedent: deviceAccessAntecedent("a device access that reached memory"),
  check(sys, _pre, _e, obs, post): Violation | null {
    if (obs.dev < 0) return null;
    for (let i = 0; i < obs.nseg; i++) {
      const f = obs.segFrame[i];
      const start = f * 4096 + obs.segOffset[i];
      const end = start + obs.segLen[i];
      const bad = firstUngrantedByte(post, sys.cfg.maxMappings, obs.dev, obs.write, start, end);
      if (bad < 0) continue;
      return {
        property: "byte-confinement",
        dev: obs.dev,
        frame: f,
        iovaPfn: obs.segIovaPfn[i],
        message: `device ${obs.dev} ${obs.write ? "wrote" : "read"} bytes ${hex(obs.segOffset[i])}..${hex(obs.segOffset[i] + obs.segLen[i] - 1)} of frame ${f} ` +
          `through ${sourceName(obs.segSource[i])} for IOVA ${hex(obs.segIovaPfn[i] * 4096 + obs.segOffset[i])}; ` +
          `byte ${hex(bad - f * 4096)} is not granted to device ${obs.dev} for ${obs.write ? "writing" : "reading"}: it is ${describeByte(post, bad, sys.cfg.maxMappings)}`,
      };
    }
    return null;
  },
};

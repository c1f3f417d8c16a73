/**
 * vm-confinement: a device assigned to a virtual machine never reaches a
 * host frame outside that VM's memory, whatever the guest's own DMA policy
 * does (strict, lazy, passthrough, or CoIOMMU's none).
 *
 * Formally: for every transition whose observation contains a device access
 * that touched frame f, f is not memory outside the VM (model/vm-memory.ts:
 * role ROLE_HOST, owned by the host or another guest). A frame the VMM is
 * still unplugging counts as the VM's until the host IOMMU's invalidation for
 * it has completed. Intra-guest protection (page-confinement) is a separate
 * property: guest passthrough gives it up, vm-confinement must still hold.
 *
 * Source: the isolation VFIO promises ("the IOMMU ... protects the host and
 * other guests from the assigned device", Linux Documentation/driver-api/vfio.rst).
 */
import { type Antecedent, type Property, type Violation } from "./property.ts";
import { describeFrame, hex, sourceName } from "./describe.ts";
import { FRAMES } from "../model/geometry.ts";
import { SRC_FORGED, SRC_PASSTHROUGH } from "../model/observation.ts";
import { anyHostOrLentFrame, isHostFrame } from "../model/vm-memory.ts";

const CASES = ["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged"];

/**
 * A device access that reached memory while some memory lies outside the VM
 * or is only lent to it; without such memory there is nothing to confine to.
 * A vCPU's access through the EPT counts as its own case.
 */
const antecedent: Antecedent = {
  summary: "a device access that reached memory while memory outside the VM exists",
  afterMap: false,
  cases: [...CASES, "vCPU through the EPT"],
  count(sys, _pre, _e, obs, post, counts, at): void {
    if (obs.guestFrame >= 0 && anyHostOrLentFrame(post[FRAMES], sys.cfg.frames)) counts[at + CASES.length]++;
    if (obs.dev < 0 || obs.nseg === 0 || !anyHostOrLentFrame(post[FRAMES], sys.cfg.frames)) return;
    for (let i = 0; i < obs.nseg; i++) {
      const src = obs.segSource[i];
      if (src >= SRC_PASSTHROUGH && src <= SRC_FORGED) counts[at + src - 1]++;
    }
  },
};

export const vmConfinement: Property = {
  name: "vm-confinement",
  summary: "a device assigned to a VM never touches a frame outside that VM's memory (the host's or another guest's)",
  antecedent,
  check(_sys, _pre, _e, obs, post): Violation | null {
    if (obs.guestFrame >= 0 && isHostFrame(post[FRAMES], obs.guestFrame)) {
      const f = obs.guestFrame;
      return {
        property: "vm-confinement",
        frame: f,
        message: `a vCPU of the VM ${obs.guestWrite ? "wrote" : "read"} frame ${f} at guest-physical window page ${obs.guestPage} through ${obs.guestViaTlb ? "its EPT TLB" : "an EPT walk"}; ` +
          `frame ${f} is outside the VM's memory: it is ${describeFrame(post, f)}`,
      };
    }
    if (obs.dev < 0) return null;
    const fr = post[FRAMES];
    for (let i = 0; i < obs.nseg; i++) {
      const f = obs.segFrame[i];
      if (!isHostFrame(fr, f)) continue;
      const iova = obs.segIovaPfn[i] * 4096 + obs.segOffset[i];
      return {
        property: "vm-confinement",
        dev: obs.dev,
        frame: f,
        iovaPfn: obs.segIovaPfn[i],
        message: `device ${obs.dev}, assigned to the VM, ${obs.write ? "wrote" : "read"} frame ${f} through ${sourceName(obs.segSource[i])} for IOVA ${hex(iova)}; ` +
          `frame ${f} is outside the VM's memory: it is ${describeFrame(post, f)}`,
      };
    }
    return null;
  },
};

/**
 * passthrough: the identity domain (Linux iommu.passthrough=1, "iommu=pt").
 * The device table entry has Mode 0 with IR|IW, so an IOVA is a physical
 * address and the device reaches all memory; map and unmap do nothing but
 * hand out physical addresses. Kconfig: "Trusted devices are identity-mapped,
 * giving them unrestricted access to memory with minimal performance overhead."
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";

export const passthrough: Policy = {
  name: "passthrough",
  summary: "identity domain: the device reaches all memory",
  claims: ["iotlb-coherence", "pt-page-safety"],
  attach: () => "passthrough",
  map(k: Kernel, m: number): number {
    k.setIova(m, k.segFrame(m, 0) + Math.floor(k.segOffset(m, 0) / 4096));
    return DONE;
  },
  unmap: () => DONE,
};

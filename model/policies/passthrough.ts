/**
 * passthrough: the identity domain (Linux iommu.passthrough=1, "iommu=pt").
 * The device table entry has Mode 0 with IR|IW, so an IOVA is a physical
 * address and the device reaches all memory; map and unmap do nothing but
 * hand out physical addresses. Kconfig: "Trusted devices are identity-mapped,
 * giving them unrestricted access to memory with minimal performance overhead."
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { strict } from "./strict.ts";

export const passthrough: Policy = {
  name: "passthrough",
  summary: "identity domain: the device reaches all memory",
  claims: ["iotlb-coherence", "pt-page-safety", "pte-agreement", "view-refinement", "stale-window", "no-leak", "availability"],
  // Linux never identity-maps an untrusted device (iommu_get_default_domain_type
  // forces IOMMU_DOMAIN_DMA for pci_dev->untrusted): it gets the strict DMA domain.
  attach: (dev, attrs) => (attrs.untrusted ? strict.attach(dev, attrs) : "passthrough"),
  map(k: Kernel, m: number, phase: number): number {
    if (k.untrusted) return strict.map(k, m, phase);
    k.setIova(m, k.segFirstFrame(m, 0));
    return DONE;
  },
  unmap: (k, m, phase) => (k.untrusted ? strict.unmap(k, m, phase) : DONE),
};

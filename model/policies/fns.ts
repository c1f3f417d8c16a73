/**
 * fns: F&S, "Fast and Safe IO Memory Protection" (Rubin, S. Agarwal, Cai,
 * R. Agarwal, SOSP'24). Strict semantics, but the IOMMU's page-walk caches
 * (PTcache-L1/L2/L3, the directory-entry cache here) survive unmaps: the
 * unmap's ranged invalidation clears leaves only (PDE = 0), and directory
 * entries are invalidated only when a page-table page is reclaimed, which is
 * exactly when keeping them would be unsafe (pt-page-safety). F&S keeps a
 * descriptor's pages (64 pages of 4 KiB, 256 KiB) in one contiguous IOVA
 * range and invalidates it with one ranged command instead of one per page:
 * the policy declares `descriptorPages`, and the descriptor workload
 * (net-rx-desc) maps each descriptor as one mapping. Each mapping gets one
 * contiguous range and one ranged invalidation, as in strict.
 * No copying, no extra pinning; sub-page exposure is left as in strict.
 */
import { type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { mapWithIova, strict, UNMAP_START, unmapStart } from "./strict.ts";

export const fns: Policy = {
  name: "fns",
  summary: "F&S: strict, one IOVA range and one ranged invalidation per 64-page descriptor, page-walk caches kept until a table page is reclaimed",
  claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability"],
  descriptorPages: 64,
  attach: () => "translate",
  map: mapWithIova,
  unmap(k: Kernel, m: number, phase: number): number {
    if (phase === UNMAP_START) return unmapStart(k, m, "on-reclaim");
    return strict.unmap(k, m, phase);
  },
};


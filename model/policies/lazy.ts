/**
 * lazy: Linux's DMA-FQ domain (iommu.strict=0, the default on x86), from
 * drivers/iommu/dma-iommu.c. Unmap clears the entries at once but does not
 * invalidate: queue_iova puts {IOVA range, freed table pages} on this CPU's
 * ring of the domain and returns, so the driver frees its data pages
 * immediately while the IOTLB may still translate to them. The domain is
 * flushed (one invalidation of that domain, then COMPLETION_WAIT) when the
 * CPU's ring is full (IOVA_FQ_SIZE 256 slots, 255 entries: fq_full), which
 * frees that ring only, or when the domain's timer armed on a queued entry
 * fires (IOVA_FQ_TIMEOUT 10 ms), which frees every CPU's ring of the domain;
 * only then are the IOVAs and table frames released.
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { TAG_FQ } from "../iommu-page-table.ts";
import { mapWithIova, strict } from "./strict.ts";

/** Starts a flush of domain `dom` (Linux fq_flush_iotlb: flush_iotlb_all of the cookie's domain); false if the command buffer lacks room. */
function startFlush(k: Kernel, dom: number): boolean {
  if (k.cmdSpace() < k.invalidationCommands(dom) + 1) return false;
  k.invalidateAll(dom);
  k.completionWait();
  k.fqStartFlush(dom);
  return true;
}

const START = 0, FLUSH_WAIT = 1, QUEUE = 2;

/**
 * Lazy's unmap (Linux iommu_dma_free_iova -> queue_iova). `arm`: arm the
 * flush timer when it is not pending (false only in the broken lazy-no-timer).
 * The domain is the device's (device i is attached to domain i).
 */
export function lazyUnmap(k: Kernel, m: number, phase: number, arm: boolean): number {
  // Linux never uses the flush queue for an untrusted device (iommu_get_def_domain_type: IOMMU_DOMAIN_DMA).
  if (k.untrusted) return strict.unmap(k, m, phase);
  const dev = k.dev(m);
  if (phase === START) {
    k.unmapPages(dev, k.iova(m), k.pages(m), TAG_FQ);
    // queue_iova: first free what finished flushes cover on this CPU's ring, then the ring-full flush.
    k.fqRingFree(dev);
    if (!k.fqFull(dev)) phase = QUEUE;
    else if (!startFlush(k, dev)) return START;
    else return FLUSH_WAIT;
  }
  if (phase === FLUSH_WAIT) {
    if (!k.completionDone()) return FLUSH_WAIT;
    k.fqFinishFlush(dev, true); // fq_flush_iotlb, then fq_ring_free of this CPU's ring only
  }
  // fq_ring_add never refuses: a ring still full (another flush of the domain in flight holds the
  // finished count back) wraps, and its entries leak (docs/state.md "The flush queue").
  k.fqPush(dev, k.iova(m), k.pages(m), true);
  if (arm) k.armFqTimer(dev);
  return DONE;
}

/** The domain's flush timer expired (Linux fq_flush_timeout): flush the domain, then free every CPU's ring of it. */
export function lazyFqTimer(k: Kernel, dom: number, phase: number): number {
  if (phase === START) return startFlush(k, dom) ? FLUSH_WAIT : START;
  if (!k.completionDone()) return FLUSH_WAIT;
  k.fqFinishFlush(dom);
  return DONE;
}

export const lazy: Policy = {
  name: "lazy",
  summary: "Linux flush queue: per-domain, per-CPU rings of 255, flush on full or after 10 ms; data pages return at once",
  claims: ["pt-page-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability"],
  attach: () => "translate",
  map: mapWithIova,
  // Linux dma-iommu.c: fq_timer is armed for IOVA_DEFAULT_FQ_TIMEOUT, the ring holds IOVA_DEFAULT_FQ_SIZE.
  staleBound: (cfg) => ({ ms: cfg.fqTimeoutMs, unmaps: cfg.fqSize }),
  unmap: (k, m, phase) => lazyUnmap(k, m, phase, true),
  fqTimer: lazyFqTimer,
  cpuSymmetric: false, // the flush timer releases every CPU's ring in CPU order (checker/cpu-symmetry.ts)
};

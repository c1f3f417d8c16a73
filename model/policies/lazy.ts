/**
 * lazy: Linux's DMA-FQ domain (iommu.strict=0, the default on x86), from
 * drivers/iommu/dma-iommu.c. Unmap clears the entries at once but does not
 * invalidate: queue_iova puts {IOVA range, freed table pages} on the CPU's
 * flush queue and returns, so the driver frees its data pages immediately
 * while the IOTLB may still translate to them. The queue is flushed (one
 * invalidation of the whole domain, then COMPLETION_WAIT) when the CPU's ring
 * is full (IOVA_DEFAULT_FQ_SIZE 256) or when the timer armed on the first
 * queued entry fires (IOVA_DEFAULT_FQ_TIMEOUT 10 ms); only then are the IOVAs
 * and table frames released.
 */
import { DONE, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { TAG_FQ } from "../iommu-page-table.ts";
import { mapWithIova, strict } from "./strict.ts";

/** Starts a flush of every translated domain; returns false if the command buffer lacks room. */
function startFlush(k: Kernel): boolean {
  let need = 1;
  for (let dev = 0; dev < k.devices; dev++) if (k.attachMode(dev) === "translate") need += k.invalidationCommands(dev);
  if (k.cmdSpace() < need) return false;
  for (let dev = 0; dev < k.devices; dev++) if (k.attachMode(dev) === "translate") k.invalidateAll(dev);
  k.completionWait();
  k.fqStartFlush();
  return true;
}

const START = 0, FLUSH_WAIT = 1, QUEUE = 2;

/**
 * Lazy's unmap (Linux iommu_dma_free_iova -> queue_iova). `arm`: arm the
 * flush timer when it is not pending (false only in the broken lazy-no-timer).
 */
export function lazyUnmap(k: Kernel, m: number, phase: number, arm: boolean): number {
  // Linux never uses the flush queue for an untrusted device (iommu_get_def_domain_type: IOMMU_DOMAIN_DMA).
  if (k.untrusted) return strict.unmap(k, m, phase);
  const dev = k.dev(m);
  if (phase === START) {
    k.unmapPages(dev, k.iova(m), k.pages(m), TAG_FQ);
    if (!k.fqFull()) phase = QUEUE;
    else if (!startFlush(k)) return START;
    else return FLUSH_WAIT;
  }
  if (phase === FLUSH_WAIT) {
    if (!k.completionDone()) return FLUSH_WAIT;
    k.fqFinishFlush();
  }
  k.fqPush(dev, k.iova(m), k.pages(m));
  if (arm) k.armTimer(k.fqTimeoutMs);
  return DONE;
}

export const lazy: Policy = {
  name: "lazy",
  summary: "Linux flush queue: per-CPU ring of 256, flush on full or after 10 ms; data pages return at once",
  claims: ["pt-page-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability"],
  attach: () => "translate",
  map: mapWithIova,
  // Linux dma-iommu.c: fq_timer is armed for IOVA_DEFAULT_FQ_TIMEOUT, the ring holds IOVA_DEFAULT_FQ_SIZE.
  staleBound: (cfg) => ({ ms: cfg.fqTimeoutMs, unmaps: cfg.fqSize }),
  unmap: (k, m, phase) => lazyUnmap(k, m, phase, true),
  timer(k: Kernel, phase: number): number {
    if (phase === START) return startFlush(k) ? FLUSH_WAIT : START;
    if (!k.completionDone()) return FLUSH_WAIT;
    k.fqFinishFlush();
    return DONE;
  },
};

/**
 * Linux's IOVA flush queue (drivers/iommu/dma-iommu.c, "DMA-FQ"): lazy
 * unmaps put {IOVA range, freed page-table pages} on a per-CPU ring instead of
 * invalidating; a flush (ring full, or the timer after IOVA_DEFAULT_FQ_TIMEOUT)
 * invalidates the whole domain once, and only then are the queued IOVAs and
 * table frames released (fq_ring_free: entries whose counter is below
 * fq_flush_finish_cnt). Entries queued after a flush started are not covered
 * by it, which the "covered" mark models.
 *
 * Layout per CPU ring: count, then entries (first IOVA page, pages | domain << 16, covered).
 * The model keeps one ring per CPU for all domains (Linux has one per domain
 * and CPU); a flush invalidates every translated domain.
 */
import { FQ, FQ_W } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { type Tx } from "./state.ts";
import { freeIova } from "./iova-allocator.ts";
import { coverDetachedTables, freeDetachedTables, TAG_FQ } from "./iommu-page-table.ts";

export function fqCount(tx: Tx, cpu: number): number {
  return tx.c[FQ][cpu * tx.g.fqRingWords];
}

/** Whether CPU `cpu`'s ring holds fqSize entries (Linux fq_full). */
export function fqFull(tx: Tx, cpu: number): boolean {
  return fqCount(tx, cpu) >= Math.min(tx.g.cfg.fqSize, tx.g.fqCapacity);
}

export function fqPush(tx: Tx, cpu: number, dom: number, first: number, pages: number): boolean {
  if (fqFull(tx, cpu)) return false;
  const q = tx.w(FQ);
  const base = cpu * tx.g.fqRingWords;
  const n = q[base];
  const at = base + 1 + n * FQ_W;
  q[at] = first;
  q[at + 1] = pages | (dom << 16);
  q[at + 2] = 0;
  q[base] = n + 1;
  return true;
}

/** A flush starts: every entry now queued (and every table frame they hold) is covered by it. */
export function fqCoverAll(tx: Tx): void {
  const q0 = tx.c[FQ];
  for (let cpu = 0; cpu < tx.g.cfg.cpus; cpu++) {
    const base = cpu * tx.g.fqRingWords;
    for (let i = 0; i < q0[base]; i++) {
      if (tx.c[FQ][base + 1 + i * FQ_W + 2] === 0) tx.w(FQ)[base + 1 + i * FQ_W + 2] = 1;
    }
  }
  coverDetachedTables(tx, TAG_FQ);
}

/** A flush completed: release the IOVAs and table frames it covered. */
export function fqReleaseCovered(tx: Tx, obs: Observation): void {
  for (let cpu = 0; cpu < tx.g.cfg.cpus; cpu++) {
    const base = cpu * tx.g.fqRingWords;
    const n = tx.c[FQ][base];
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const at = base + 1 + i * FQ_W;
      const q = tx.c[FQ];
      if (q[at + 2] !== 0) {
        freeIova(tx, q[at + 1] >>> 16, q[at], q[at + 1] & 0xffff);
        if (obs.detail) obs.note(`flush queue: IOVA pages 0x${q[at].toString(16)}+${q[at + 1] & 0xffff} (dom ${q[at + 1] >>> 16}) released`);
        continue;
      }
      const w = tx.w(FQ);
      if (kept !== i) w.copyWithin(base + 1 + kept * FQ_W, at, at + FQ_W);
      kept++;
    }
    if (kept !== n) {
      const w = tx.w(FQ);
      w.fill(0, base + 1 + kept * FQ_W, base + 1 + n * FQ_W);
      w[base] = kept;
    }
  }
  freeDetachedTables(tx, TAG_FQ, true, obs);
}

/**
 * Linux's IOVA flush queue (drivers/iommu/dma-iommu.c, "DMA-FQ"): lazy
 * unmaps put {IOVA range, freed page-table pages} on a per-CPU ring instead of
 * invalidating; a flush (ring full, or the timer after IOVA_DEFAULT_FQ_TIMEOUT)
 * invalidates the whole domain once, and only then are the queued IOVAs and
 * table frames released.
 *
 * Which flush releases what follows Linux exactly: an entry records the
 * number of flushes started when it was queued (fq_flush_start_cnt), and is
 * released once more flushes have finished than that (counter <
 * fq_flush_finish_cnt). Then at least one finished flush started after the
 * entry was queued, whatever order overlapping flushes finish in. The model
 * subtracts the finished count from every counter after each release, so the
 * numbers stay small and the state canonical.
 *
 * Layout per CPU ring: count, then entries (first IOVA page, pages | domain << 16, counter).
 * The table frames an entry holds are the detached frames tagged TAG_FQ,
 * stamped with the same counter (frame word 1, bits 16..31, counter + 1).
 * The model keeps one ring per CPU for all domains (Linux has one per domain
 * and CPU); a flush invalidates every translated domain.
 */
import { FQ, FQ_W, FRAMES, FRAME_W, HDR, H_FQ_FINISHED, H_FQ_STARTED } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { type Tx, moveWords, zeroWords } from "./state.ts";
import { freeIova } from "./iova-allocator.ts";
import { freeDetachedTables, isDetachedWithTag, TAG_FQ } from "./iommu-page-table.ts";
import { F_RELEASED } from "./physical-memory.ts";

export function fqCount(tx: Tx, cpu: number): number {
  return cpu < tx.g.cfg.cpus ? tx.c[FQ][cpu * tx.g.fqRingWords] : 0;
}

/** Whether CPU `cpu`'s ring holds fqSize entries (Linux fq_full). Only CPUs have rings. */
export function fqFull(tx: Tx, cpu: number): boolean {
  return cpu >= tx.g.cfg.cpus || fqCount(tx, cpu) >= tx.g.fqCapacity;
}

/** Queues an entry on `cpu`'s ring, with the table frames this unmap detached (tag TAG_FQ, not yet stamped). */
export function fqPush(tx: Tx, cpu: number, dom: number, first: number, pages: number): boolean {
  if (fqFull(tx, cpu)) return false;
  const counter = tx.c[HDR][H_FQ_STARTED];
  const q = tx.w(FQ);
  const base = cpu * tx.g.fqRingWords;
  const n = q[base];
  const at = base + 1 + n * FQ_W;
  q[at] = first;
  q[at + 1] = pages | (dom << 16);
  q[at + 2] = counter;
  q[base] = n + 1;
  for (let f = 0; f < tx.g.cfg.frames; f++) {
    if (!isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ) || tx.c[FRAMES][f * FRAME_W + 1] >>> 16 !== 0) continue;
    const fr = tx.w(FRAMES);
    fr[f * FRAME_W + 1] = (fr[f * FRAME_W + 1] & 0xffff) | ((counter + 1) << 16);
  }
  return true;
}

/** A flush starts (fq_flush_start_cnt++). Its invalidations must be queued in the same step. */
export function fqStartFlush(tx: Tx): void {
  tx.w(HDR)[H_FQ_STARTED]++;
}

/** A flush finished (fq_flush_finish_cnt++): release every entry and table frame it makes safe. */
export function fqFinishFlush(tx: Tx, obs: Observation): void {
  const h = tx.w(HDR);
  const finished = ++h[H_FQ_FINISHED];
  for (let cpu = 0; cpu < tx.g.cfg.cpus; cpu++) {
    const base = cpu * tx.g.fqRingWords;
    const n = tx.c[FQ][base];
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const q = tx.w(FQ);
      const at = base + 1 + i * FQ_W;
      if (q[at + 2] < finished) {
        freeIova(tx, q[at + 1] >>> 16, q[at], q[at + 1] & 0xffff);
        if (obs.detail) obs.note(`flush queue: IOVA pages 0x${q[at].toString(16)}+${q[at + 1] & 0xffff} (dom ${q[at + 1] >>> 16}) released`);
        continue;
      }
      if (kept !== i) moveWords(q, base + 1 + kept * FQ_W, at, FQ_W);
      q[base + 1 + kept * FQ_W + 2] -= finished;
      kept++;
    }
    if (kept !== n || n > 0) {
      const q = tx.w(FQ);
      zeroWords(q, base + 1 + kept * FQ_W, base + 1 + n * FQ_W);
      q[base] = kept;
    }
  }
  for (let f = 0; f < tx.g.cfg.frames; f++) {
    if (!isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ)) continue;
    const stamp = tx.c[FRAMES][f * FRAME_W + 1] >>> 16;
    if (stamp === 0) continue;
    const fr = tx.w(FRAMES);
    if (stamp - 1 < finished) fr[f * FRAME_W] |= F_RELEASED; // freed below
    else fr[f * FRAME_W + 1] = (fr[f * FRAME_W + 1] & 0xffff) | ((stamp - finished) << 16);
  }
  freeDetachedTables(tx, TAG_FQ, true, obs);
  h[H_FQ_STARTED] -= finished;
  h[H_FQ_FINISHED] = 0;
}

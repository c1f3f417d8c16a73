/**
 * Linux's IOVA flush queue (drivers/iommu/dma-iommu.c, "DMA-FQ"): lazy
 * unmaps put {IOVA range, freed page-table pages} on a ring instead of
 * invalidating; a flush invalidates the domain once, and only then are the
 * queued IOVAs and table frames released.
 *
 * Per domain, as Linux's struct iommu_dma_cookie: one ring per CPU (`fq`,
 * per-CPU), the flush counters fq_flush_start_cnt and fq_flush_finish_cnt,
 * and the timer fq_timer (IOVA_FQ_TIMEOUT). A domain's flush invalidates only
 * that domain. Which entries a flush releases follows Linux exactly: an entry
 * records the domain's started count when it was queued, and fq_ring_free
 * releases the entries of one ring whose counter is below the domain's
 * finished count. A ring-full flush (queue_iova -> fq_flush_iotlb) frees
 * only its own ring; the timer's flush (fq_flush_timeout) frees every CPU's
 * ring of the domain; queue_iova first frees what finished flushes already
 * cover in its own ring (fq_ring_free before fq_full).
 *
 * Layout per domain: started, finished, timer (as hdr's policy timer: 0 off,
 * > 0 ms left, -1 expired and pending), then one ring per CPU: count, then
 * entries (first IOVA page, pages | domain << 16, counter). After a finish
 * the model subtracts the finished count from every counter of the domain,
 * clamping covered ones at -1, so the numbers stay small and the state
 * canonical. The table frames an entry holds are the detached frames tagged
 * TAG_FQ of its domain, stamped (frame word 1, bits 16..31) with the ring's
 * CPU << 8 | (counter + 2); 0 = not yet queued, counter field 0xff = lost
 * (the ring wrapped, below).
 */
import { FQ, FQ_W, FQD_FINISHED, FQD_HDR, FQD_STARTED, FQD_TIMER, FRAMES, FRAME_W } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { type Tx, moveWords, zeroWords } from "./state.ts";
import { freeIova } from "./iova-allocator.ts";
import { freeDetachedTables, isDetachedWithTag, TAG_FQ } from "./iommu-page-table.ts";
import { F_RELEASED, frameAux } from "./physical-memory.ts";

const STAMP_LOST = 0xff;

/** First word of domain `dom`'s flush-queue block. */
export function fqDomBase(g: { fqDomainWords: number }, dom: number): number {
  return dom * g.fqDomainWords;
}

/** First word (the count) of CPU `cpu`'s ring of domain `dom`. */
export function fqRingBase(g: { fqDomainWords: number; fqRingWords: number }, dom: number, cpu: number): number {
  return dom * g.fqDomainWords + FQD_HDR + cpu * g.fqRingWords;
}

/** Entries on `cpu`'s ring of domain `dom`; without `dom`, on all of `cpu`'s rings. */
export function fqCount(tx: Tx, cpu: number, dom = -1): number {
  if (cpu >= tx.g.cfg.cpus) return 0;
  if (dom >= 0) return tx.c[FQ][fqRingBase(tx.g, dom, cpu)];
  let n = 0;
  for (let d = 0; d < tx.g.cfg.devices; d++) n += tx.c[FQ][fqRingBase(tx.g, d, cpu)];
  return n;
}

/**
 * Whether CPU `cpu`'s ring of domain `dom` holds fqCapacity entries (Linux
 * fq_full; docs/state.md "Capacity" maps fqSize to Linux's ring slots).
 * Without `dom`: whether any of `cpu`'s rings is full. Only CPUs have rings.
 */
export function fqFull(tx: Tx, cpu: number, dom = -1): boolean {
  if (cpu >= tx.g.cfg.cpus) return true;
  if (dom >= 0) return tx.c[FQ][fqRingBase(tx.g, dom, cpu)] >= tx.g.fqCapacity;
  for (let d = 0; d < tx.g.cfg.devices; d++) if (tx.c[FQ][fqRingBase(tx.g, d, cpu)] >= tx.g.fqCapacity) return true;
  return false;
}

function stampCpu(w1: number): number {
  return (w1 >>> 24) & 0xff;
}
function stampCounter(w1: number): number {
  return ((w1 >>> 16) & 0xff) - 2;
}

/**
 * Queues an entry on `cpu`'s ring of domain `dom`, with the table frames this
 * unmap detached (tag TAG_FQ, not yet stamped). False, queueing nothing, when
 * the ring is full, unless `wrap`: then it does what Linux's fq_ring_add does
 * on a full ring (it does not check): the tail catches up with the head, the
 * ring reads as empty, and every entry on it is lost with its IOVA range and
 * table pages (leaked, never freed), before the new entry is queued.
 */
export function fqPush(tx: Tx, cpu: number, dom: number, first: number, pages: number, wrap = false, obs?: Observation): boolean {
  if (cpu >= tx.g.cfg.cpus) return false;
  const base = fqRingBase(tx.g, dom, cpu);
  if (tx.c[FQ][base] >= tx.g.fqCapacity) {
    if (!wrap) return false;
    const q = tx.w(FQ);
    zeroWords(q, base + 1, base + 1 + q[base] * FQ_W);
    q[base] = 0;
    for (let f = 0; f < tx.g.cfg.frames; f++) {
      const w1 = tx.c[FRAMES][f * FRAME_W + 1];
      if (!isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ) || (frameAux(tx.c[FRAMES], f) & 0xff) !== dom || w1 >>> 16 === 0 || stampCpu(w1) !== cpu) continue;
      tx.w(FRAMES)[f * FRAME_W + 1] = (w1 & 0xffff) | (((cpu << 8) | STAMP_LOST) << 16);
    }
    if (obs?.detail) obs.note(`flush queue of cpu${cpu}, dom ${dom}: full after its own flush; the ring wraps and its entries are lost (Linux fq_ring_add)`);
  }
  const d = fqDomBase(tx.g, dom);
  const counter = tx.c[FQ][d + FQD_STARTED];
  const q = tx.w(FQ);
  const n = q[base];
  const at = base + 1 + n * FQ_W;
  q[at] = first;
  q[at + 1] = pages | (dom << 16);
  q[at + 2] = counter;
  q[base] = n + 1;
  for (let f = 0; f < tx.g.cfg.frames; f++) {
    if (!isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ) || (frameAux(tx.c[FRAMES], f) & 0xff) !== dom || tx.c[FRAMES][f * FRAME_W + 1] >>> 16 !== 0) continue;
    const fr = tx.w(FRAMES);
    fr[f * FRAME_W + 1] = (fr[f * FRAME_W + 1] & 0xffff) | (((cpu << 8) | (counter + 2)) << 16);
  }
  return true;
}

/** A flush of domain `dom` starts (fq_flush_start_cnt++); every domain's with dom < 0. Its invalidations must be queued in the same step. */
export function fqStartFlush(tx: Tx, dom = -1): void {
  if (dom < 0) {
    for (let d = 0; d < tx.g.cfg.devices; d++) fqStartFlush(tx, d);
    return;
  }
  tx.w(FQ)[fqDomBase(tx.g, dom) + FQD_STARTED]++;
}

/**
 * Linux fq_ring_free: releases the entries of `cpu`'s ring of domain `dom`
 * that a finished flush covers (counter < finished), with their table frames.
 */
export function fqRingFree(tx: Tx, dom: number, cpu: number, obs: Observation): void {
  const finished = tx.c[FQ][fqDomBase(tx.g, dom) + FQD_FINISHED];
  const base = fqRingBase(tx.g, dom, cpu);
  const n = tx.c[FQ][base];
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const at = base + 1 + i * FQ_W;
    const q = tx.c[FQ];
    if (q[at + 2] < finished) {
      freeIova(tx, dom, q[at], q[at + 1] & 0xffff);
      if (obs.detail) obs.note(`flush queue: IOVA pages 0x${q[at].toString(16)}+${q[at + 1] & 0xffff} (dom ${dom}) released`);
      continue;
    }
    if (kept !== i) moveWords(tx.w(FQ), base + 1 + kept * FQ_W, at, FQ_W);
    kept++;
  }
  if (kept !== n) {
    const q = tx.w(FQ);
    zeroWords(q, base + 1 + kept * FQ_W, base + 1 + n * FQ_W);
    q[base] = kept;
  }
  let any = false;
  for (let f = 0; f < tx.g.cfg.frames; f++) {
    const w1 = tx.c[FRAMES][f * FRAME_W + 1];
    if (w1 >>> 16 === 0 || !isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ) || (frameAux(tx.c[FRAMES], f) & 0xff) !== dom) continue;
    if (stampCpu(w1) !== cpu || ((w1 >>> 16) & 0xff) === STAMP_LOST || stampCounter(w1) >= finished) continue;
    tx.w(FRAMES)[f * FRAME_W] |= F_RELEASED;
    any = true;
  }
  if (any) freeDetachedTables(tx, TAG_FQ, true, obs);
}

/**
 * A flush of domain `dom` finished (fq_flush_finish_cnt++): with `cpu` >= 0
 * (a ring-full flush, queue_iova) release what it covers on that CPU's ring
 * only; otherwise (the timer's fq_flush_timeout) on every CPU's ring of the
 * domain. With dom < 0 (the old whole-system form), a flush of every domain.
 */
export function fqFinishFlush(tx: Tx, obs: Observation, dom = -1, cpu = -1): void {
  if (dom < 0) {
    for (let d = 0; d < tx.g.cfg.devices; d++) fqFinishFlush(tx, obs, d, cpu);
    return;
  }
  const d = fqDomBase(tx.g, dom);
  tx.w(FQ)[d + FQD_FINISHED]++;
  if (cpu >= 0) {
    if (cpu < tx.g.cfg.cpus) fqRingFree(tx, dom, cpu, obs);
  } else for (let c = 0; c < tx.g.cfg.cpus; c++) fqRingFree(tx, dom, c, obs);
  normalise(tx, dom);
}

/** Subtracts the domain's finished count from its counters and stamps (covered ones clamp at -1). */
function normalise(tx: Tx, dom: number): void {
  const d = fqDomBase(tx.g, dom);
  const finished = tx.c[FQ][d + FQD_FINISHED];
  if (finished === 0) return;
  const q = tx.w(FQ);
  q[d + FQD_STARTED] -= finished;
  q[d + FQD_FINISHED] = 0;
  for (let cpu = 0; cpu < tx.g.cfg.cpus; cpu++) {
    const base = fqRingBase(tx.g, dom, cpu);
    for (let i = 0; i < q[base]; i++) {
      const at = base + 1 + i * FQ_W + 2;
      q[at] = Math.max(q[at] - finished, -1);
    }
  }
  for (let f = 0; f < tx.g.cfg.frames; f++) {
    const w1 = tx.c[FRAMES][f * FRAME_W + 1];
    if (w1 >>> 16 === 0 || ((w1 >>> 16) & 0xff) === STAMP_LOST || !isDetachedWithTag(tx.c[FRAMES], f, TAG_FQ) || (frameAux(tx.c[FRAMES], f) & 0xff) !== dom) continue;
    const c = Math.max(stampCounter(w1) - finished, -1);
    tx.w(FRAMES)[f * FRAME_W + 1] = (w1 & 0xffff) | (((stampCpu(w1) << 8) | (c + 2)) << 16);
  }
}

/** Domain `dom`'s flush-queue timer word (0 off, > 0 ms left, -1 expired and pending). */
export function fqTimer(fq: ArrayLike<number>, g: { fqDomainWords: number }, dom: number): number {
  return fq[fqDomBase(g, dom) + FQD_TIMER];
}

/** Arms domain `dom`'s flush timer for `ms` if it is not on (Linux queue_iova: fq_timer_on, mod_timer). */
export function armFqTimer(tx: Tx, dom: number, ms: number): void {
  const at = fqDomBase(tx.g, dom) + FQD_TIMER;
  if (tx.c[FQ][at] === 0) tx.w(FQ)[at] = ms;
}

/** Whether any domain's flush timer is armed or pending. */
export function anyFqTimer(s: readonly ArrayLike<number>[], g: { fqDomainWords: number; cfg: { devices: number } }): boolean {
  for (let d = 0; d < g.cfg.devices; d++) if (s[FQ][fqDomBase(g, d) + FQD_TIMER] !== 0) return true;
  return false;
}

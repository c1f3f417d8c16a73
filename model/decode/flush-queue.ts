/**
 * The flush queues decoded: each CPU's ring of deferred unmaps, and the
 * flush counters and timer of the header (docs/state.md "The flush queue",
 * "The timer"; flush-queue.ts).
 */
import { FQ, FQ_W, FQD_FINISHED, FQD_STARTED, FQD_TIMER, HDR, H_KERNEL_PML4, H_TIMER, H_USER_PML4, type Geometry } from "../geometry.ts";
import { fqDomBase, fqRingBase } from "../flush-queue.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

export type HeaderRecord = {
  readonly kind: "header";
  readonly key: string;
  /** The policy timer: "off", "N ms" left, or "expired, pending". */
  readonly timer: string;
  /** Flushes started and finished (Linux fq_flush_start_cnt, fq_flush_finish_cnt), normalised, summed over the domains (each domain's: the fq-domain records). */
  readonly flushesStarted: number;
  readonly flushesFinished: number;
  readonly kernelPml4: number;
  readonly userPml4: number;
}

export type FlushQueueRecord = {
  readonly kind: "flush-queue";
  /** "cpu0 dom 0 0x1f8000": the CPU's ring, the domain and the first IOVA (an unmapped range is queued once). */
  readonly key: string;
  readonly cpu: number;
  readonly dom: number;
  readonly iova: string;
  readonly pages: number;
  /** Flushes started when it was queued: released once more flushes than that have finished. */
  readonly counter: number;
}

export type FlushDomainRecord = {
  readonly kind: "fq-domain";
  /** "dom 0". */
  readonly key: string;
  readonly dom: number;
  /** The domain's flush timer (Linux fq_timer): "off", "N ms" left, or "expired, pending". */
  readonly timer: string;
  /** The domain's flushes started and finished (fq_flush_start_cnt, fq_flush_finish_cnt), normalised. */
  readonly flushesStarted: number;
  readonly flushesFinished: number;
}

const timerText = (t: number) => (t === 0 ? "off" : t < 0 ? "expired, pending" : `${t} ms`);

export function decodeHeader(g: Geometry, s: State): HeaderRecord {
  const h = s[HDR];
  let started = 0, finished = 0;
  for (let d = 0; d < g.cfg.devices; d++) {
    started += s[FQ][fqDomBase(g, d) + FQD_STARTED];
    finished += s[FQ][fqDomBase(g, d) + FQD_FINISHED];
  }
  return {
    kind: "header", key: "machine", timer: timerText(h[H_TIMER]),
    flushesStarted: started, flushesFinished: finished, kernelPml4: h[H_KERNEL_PML4], userPml4: h[H_USER_PML4],
  };
}

/** Each domain's flush counters and timer, for domains whose are not all zero. */
export function decodeFlushDomains(g: Geometry, s: State): FlushDomainRecord[] {
  const out: FlushDomainRecord[] = [];
  for (let dom = 0; dom < g.cfg.devices; dom++) {
    const b = fqDomBase(g, dom);
    const [st, fi, t] = [s[FQ][b + FQD_STARTED], s[FQ][b + FQD_FINISHED], s[FQ][b + FQD_TIMER]];
    if (st === 0 && fi === 0 && t === 0) continue;
    out.push({ kind: "fq-domain", key: `dom ${dom}`, dom, timer: timerText(t), flushesStarted: st, flushesFinished: fi });
  }
  return out;
}

export function decodeFlushQueues(g: Geometry, s: State): FlushQueueRecord[] {
  const q = s[FQ];
  const out: FlushQueueRecord[] = [];
  for (let dom = 0; dom < g.cfg.devices; dom++) for (let cpu = 0; cpu < g.cfg.cpus; cpu++) {
    const base = fqRingBase(g, dom, cpu);
    for (let i = 0; i < q[base]; i++) {
      const at = base + 1 + i * FQ_W;
      const dom = q[at + 1] >>> 16;
      const iova = hex(q[at] * 4096);
      out.push({ kind: "flush-queue", key: `cpu${cpu} dom ${dom} ${iova}`, cpu, dom, iova, pages: q[at + 1] & 0xffff, counter: q[at + 2] });
    }
  }
  return out;
}

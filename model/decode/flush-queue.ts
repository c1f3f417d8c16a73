/**
 * The flush queues decoded: each CPU's ring of deferred unmaps, and the
 * flush counters and timer of the header (docs/state.md "The flush queue",
 * "The timer"; flush-queue.ts).
 */
import { FQ, FQ_W, HDR, H_FQ_FINISHED, H_FQ_STARTED, H_KERNEL_PML4, H_TIMER, H_USER_PML4, type Geometry } from "../geometry.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

export type HeaderRecord = {
  readonly kind: "header";
  readonly key: string;
  /** The policy timer: "off", "N ms" left, or "expired, pending". */
  readonly timer: string;
  /** Flushes started and finished (Linux fq_flush_start_cnt, fq_flush_finish_cnt), normalised. */
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

export function decodeHeader(_g: Geometry, s: State): HeaderRecord {
  const h = s[HDR];
  const t = h[H_TIMER];
  return {
    kind: "header", key: "machine", timer: t === 0 ? "off" : t < 0 ? "expired, pending" : `${t} ms`,
    flushesStarted: h[H_FQ_STARTED], flushesFinished: h[H_FQ_FINISHED], kernelPml4: h[H_KERNEL_PML4], userPml4: h[H_USER_PML4],
  };
}

export function decodeFlushQueues(g: Geometry, s: State): FlushQueueRecord[] {
  const q = s[FQ];
  const out: FlushQueueRecord[] = [];
  for (let cpu = 0; cpu < g.cfg.cpus; cpu++) {
    const base = cpu * g.fqRingWords;
    for (let i = 0; i < q[base]; i++) {
      const at = base + 1 + i * FQ_W;
      const dom = q[at + 1] >>> 16;
      const iova = hex(q[at] * 4096);
      out.push({ kind: "flush-queue", key: `cpu${cpu} dom ${dom} ${iova}`, cpu, dom, iova, pages: q[at + 1] & 0xffff, counter: q[at + 2] });
    }
  }
  return out;
}

/**
 * DMA mappings and the calls in progress on each execution context, decoded
 * (docs/state.md "DMA mappings", "Execution contexts and DMA API calls";
 * dma-mapping.ts, system.ts).
 */
import { CALLS, CALL_W, MAPS, type Geometry } from "../geometry.ts";
import {
  dirName, KIND_NAMES, MS_FREE, mDev, mDir, mFreeAfter, mIova, mKind, mPages, mReleased, mSegBounce, mSegFrame, mSegGen, mSegLen, mSegOffset,
  mSegs, mStatus, STATUS_NAMES,
} from "../dma-mapping.ts";
import { OP_IDLE, OP_NAMES, OP_TIMER } from "../system.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

export type MappingRecord = {
  readonly kind: "mapping";
  /** The mapping slot, "#0". */
  readonly key: string;
  readonly status: string;
  /** dma_map_single, dma_map_sg or dma_alloc_coherent. */
  readonly api: string;
  readonly direction: string;
  readonly device: number;
  /** First IOVA page as an address (0 until the policy has assigned one), and the pages covered. */
  readonly iova: string;
  readonly pages: number;
  readonly freeAfterUnmap: boolean;
  readonly released: boolean;
  /** Segments: "frame 7 +0x0 64 B gen 1", "; "-separated, with the bounce slot when bounced. */
  readonly segments: string;
}

export type CallRecord = {
  readonly kind: "call";
  /** The context: "cpu0", "timer". */
  readonly key: string;
  readonly op: string;
  readonly phase: number;
  readonly mapping: number | null;
}

export function contextName(g: Geometry, ctx: number): string {
  return ctx === g.timerCtx ? "timer" : `cpu${ctx}`;
}

export function decodeMappings(g: Geometry, s: State): MappingRecord[] {
  const mp = s[MAPS];
  const out: MappingRecord[] = [];
  for (let m = 0; m < g.cfg.maxMappings; m++) {
    if (mStatus(mp, m) === MS_FREE) continue;
    const segs: string[] = [];
    for (let i = 0; i < mSegs(mp, m); i++) {
      const b = mSegBounce(mp, m, i);
      segs.push(`frame ${mSegFrame(mp, m, i)} +${hex(mSegOffset(mp, m, i))} ${mSegLen(mp, m, i)} B gen ${mSegGen(mp, m, i)}${b < 0 ? "" : ` bounced via frame ${b}`}`);
    }
    out.push({
      kind: "mapping", key: `#${m}`, status: STATUS_NAMES[mStatus(mp, m)], api: KIND_NAMES[mKind(mp, m)] ?? `kind ${mKind(mp, m)}`,
      direction: dirName(mDir(mp, m)), device: mDev(mp, m), iova: hex(mIova(mp, m) * 4096), pages: mPages(mp, m),
      freeAfterUnmap: mFreeAfter(mp, m), released: mReleased(mp, m), segments: segs.join("; "),
    });
  }
  return out;
}

export function decodeCalls(g: Geometry, s: State): CallRecord[] {
  const c = s[CALLS];
  const out: CallRecord[] = [];
  for (let ctx = 0; ctx < g.contexts; ctx++) {
    const op = c[ctx * CALL_W];
    if (op === OP_IDLE) continue;
    out.push({ kind: "call", key: contextName(g, ctx), op: OP_NAMES[op] ?? `op ${op}`, phase: c[ctx * CALL_W + 1], mapping: op === OP_TIMER ? null : c[ctx * CALL_W + 2] });
  }
  return out;
}

/**
 * The contents of page-table frames. A table is 512 64-bit entries in a frame;
 * the model stores only the non-zero entries, as (frame, index) -> (lo, hi)
 * kept sorted by key, which is canonical and small. Reading an entry that was
 * never written (or of a frame that is no longer a page table) gives 0: not
 * present. Entries are bit-exact hardware words (see model/formats/).
 *
 * Layout: ptmem[0] = number of entries; entry i at 1 + 3i: key (frame*512 + index), lo, hi.
 */
import { PTMEM, PT_W } from "./geometry.ts";
import { type Tx, type Words, moveWords, zeroWords } from "./state.ts";

/** Position of entry (frame, index), or -(insertion point) - 1. */
export function ptFind(pt: Words, frame: number, index: number): number {
  const key = frame * 512 + index;
  let lo = 0;
  let hi = pt[0] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = pt[1 + mid * PT_W];
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** Low word of entry (frame, index); 0 when absent. */
export function ptLo(pt: Words, frame: number, index: number): number {
  const p = ptFind(pt, frame, index);
  return p < 0 ? 0 : pt[2 + p * PT_W] >>> 0;
}

/** High word of entry (frame, index); 0 when absent. */
export function ptHi(pt: Words, frame: number, index: number): number {
  const p = ptFind(pt, frame, index);
  return p < 0 ? 0 : pt[3 + p * PT_W] >>> 0;
}

/**
 * Writes entry (frame, index) = (lo, hi); writing zero removes it. Returns
 * false when the pool is full (a model capacity limit, see geometry.ts).
 */
export function ptWrite(tx: Tx, frame: number, index: number, lo: number, hi: number): boolean {
  const p = ptFind(tx.c[PTMEM], frame, index);
  if (p >= 0) {
    const pt = tx.w(PTMEM);
    if (lo === 0 && hi === 0) {
      const n = pt[0];
      moveWords(pt, 1 + p * PT_W, 1 + (p + 1) * PT_W, (n - 1 - p) * PT_W);
      zeroWords(pt, 1 + (n - 1) * PT_W, 1 + n * PT_W);
      pt[0] = n - 1;
    } else {
      pt[2 + p * PT_W] = lo | 0;
      pt[3 + p * PT_W] = hi | 0;
    }
    return true;
  }
  if (lo === 0 && hi === 0) return true;
  const n0 = tx.c[PTMEM][0];
  if (n0 >= tx.g.ptCapacity) return false;
  const pt = tx.w(PTMEM);
  const at = -p - 1;
  moveWords(pt, 1 + (at + 1) * PT_W, 1 + at * PT_W, (n0 - at) * PT_W);
  pt[1 + at * PT_W] = frame * 512 + index;
  pt[2 + at * PT_W] = lo | 0;
  pt[3 + at * PT_W] = hi | 0;
  pt[0] = n0 + 1;
  return true;
}

/** Position in the pool of the first entry of the table at `frame`, or of the first entry beyond it when it has none. */
export function ptFirst(pt: Words, frame: number): number {
  const i = ptFind(pt, frame, 0);
  return i < 0 ? -i - 1 : i;
}

/** Number of non-zero entries in the table at `frame`. */
export function ptCount(pt: Words, frame: number): number {
  let p = ptFirst(pt, frame);
  let n = 0;
  const end = (frame + 1) * 512;
  while (p < pt[0] && pt[1 + p * PT_W] < end) {
    n++;
    p++;
  }
  return n;
}

/** Erases every entry of `frame` (the frame is being reused for something else). */
export function ptClearFrame(tx: Tx, frame: number): void {
  const pt0 = tx.c[PTMEM];
  const start = ptFirst(pt0, frame);
  let end = start;
  const lim = (frame + 1) * 512;
  while (end < pt0[0] && pt0[1 + end * PT_W] < lim) end++;
  if (end === start) return;
  const pt = tx.w(PTMEM);
  const n = pt[0];
  moveWords(pt, 1 + start * PT_W, 1 + end * PT_W, (n - end) * PT_W);
  zeroWords(pt, 1 + (n - (end - start)) * PT_W, 1 + n * PT_W);
  pt[0] = n - (end - start);
}

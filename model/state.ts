/**
 * The model state and the transaction that builds the next one.
 *
 * A State is an array of components (see geometry.ts), each an array of int32
 * words. Plain arrays, not Int32Array: V8 copies a small plain array several
 * times faster than it allocates a typed array (measured: ~60-400 ns against
 * ~1.3 us for 20-400 words), and copying is what a step mostly does. Every
 * word written is an int32 (a small integer or the result of a bitwise
 * operation), so the two behave alike. States are
 * immutable by contract: nothing may write into a component of a state that
 * has been returned from a step. A step works in a Tx, which copies a
 * component the first time the step writes to it (copy-on-write), so an event
 * that changes only the IOTLB copies only the IOTLB, and an event that changes
 * nothing allocates nothing. Component identity therefore also tells a
 * property check what a step changed.
 */
import { type Geometry, NUM_COMPONENTS } from "./geometry.ts";

/** One state component: int32 words. */
export type Words = number[];

export type State = readonly Words[];

export function emptyState(g: Geometry): State {
  const s: Words[] = [];
  for (let c = 0; c < NUM_COMPONENTS; c++) s.push(Array.from({ length: g.sizes[c] }, () => 0));
  return s;
}

/** A step in progress. Reused across steps to avoid allocation. */
export class Tx {
  /** Current component arrays: the base state's until first written. */
  readonly c: Words[] = new Array<Words>(NUM_COMPONENTS);
  private own = 0;
  private base: State = [];

  constructor(readonly g: Geometry) {}

  begin(s: State): void {
    this.base = s;
    for (let i = 0; i < NUM_COMPONENTS; i++) this.c[i] = s[i];
    this.own = 0;
  }

  /** Component `i`, writable: copied from the base state on first use. */
  w(i: number): Words {
    if ((this.own & (1 << i)) === 0) {
      this.c[i] = this.c[i].slice();
      this.own |= 1 << i;
    }
    return this.c[i];
  }

  /** Whether this step has written component `i`. */
  wrote(i: number): boolean {
    return (this.own & (1 << i)) !== 0;
  }

  /** The next state: the base itself if nothing was written. */
  commit(): State {
    if (this.own === 0) return this.base;
    return this.c.slice();
  }
}

/** Copies words [src, src+n) to dst (overlap-safe); a loop beats Array.prototype.copyWithin on small arrays. */
export function moveWords(a: Words, dst: number, src: number, n: number): void {
  if (dst < src) for (let i = 0; i < n; i++) a[dst + i] = a[src + i];
  else for (let i = n - 1; i >= 0; i--) a[dst + i] = a[src + i];
}

/** Zeroes words [from, to). */
export function zeroWords(a: Words, from: number, to: number): void {
  for (let i = from; i < to; i++) a[i] = 0;
}

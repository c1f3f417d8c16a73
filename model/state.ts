/**
 * The model state and the transaction that builds the next one.
 *
 * A State is an array of Int32Array components (see geometry.ts). States are
 * immutable by contract: nothing may write into a component of a state that
 * has been returned from a step. A step works in a Tx, which copies a
 * component the first time the step writes to it (copy-on-write), so an event
 * that changes only the IOTLB copies only the IOTLB, and an event that changes
 * nothing allocates nothing. Component identity therefore also tells a
 * property check what a step changed.
 */
import { type Geometry, NUM_COMPONENTS } from "./geometry.ts";

export type State = readonly Int32Array[];

export function emptyState(g: Geometry): State {
  const s: Int32Array[] = [];
  for (let c = 0; c < NUM_COMPONENTS; c++) s.push(new Int32Array(g.sizes[c]));
  return s;
}

/** A step in progress. Reused across steps to avoid allocation. */
export class Tx {
  /** Current component arrays: the base state's until first written. */
  readonly c: Int32Array[] = new Array<Int32Array>(NUM_COMPONENTS);
  private own = 0;
  private base: State = [];

  constructor(readonly g: Geometry) {}

  begin(s: State): void {
    this.base = s;
    for (let i = 0; i < NUM_COMPONENTS; i++) this.c[i] = s[i];
    this.own = 0;
  }

  /** Component `i`, writable: copied from the base state on first use. */
  w(i: number): Int32Array {
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

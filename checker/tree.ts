/**
 * The search tree of the breadth-first search, packed: for each stored
 * state, the index of its parent and the alphabet index of the event that
 * produced it, in two growable typed arrays (5 bytes per state with up to 256
 * events, 6 with more, up to twice that while the arrays have room to grow).
 * States are appended level by level, so a BFS level (the frontier) is a
 * range of indices and costs nothing more; a state itself is re-created by
 * replaying its event from its parent's (checker/exhaustive.ts caches the
 * path of the last state it re-created). A counterexample is the chain of
 * events up the parents.
 */
export class SearchTree {
  private parents: Int32Array;
  private events: Uint8Array | Uint16Array;
  size = 0;

  constructor(alphabetSize: number, initialCapacity = 1 << 10) {
    if (alphabetSize > 65536) throw new RangeError(`search tree: at most 65536 events, got ${alphabetSize}`);
    this.parents = new Int32Array(initialCapacity);
    this.events = alphabetSize <= 256 ? new Uint8Array(initialCapacity) : new Uint16Array(initialCapacity);
  }

  get bytes(): number {
    return this.parents.byteLength + this.events.byteLength;
  }

  /** Bytes held after one more state. */
  get bytesAfterAdd(): number {
    return this.size < this.parents.length ? this.bytes : this.bytes * 2;
  }

  /** Appends a state (the root has parent -1); returns its index. */
  push(parent: number, event: number): number {
    if (this.size === this.parents.length) this.grow();
    this.parents[this.size] = parent;
    this.events[this.size] = event;
    return this.size++;
  }

  parent(i: number): number {
    return this.parents[i];
  }

  event(i: number): number {
    return this.events[i];
  }

  /** Event indices from the root to state i. */
  path(i: number): number[] {
    const out: number[] = [];
    for (; this.parents[i] >= 0; i = this.parents[i]) out.push(this.events[i]);
    return out.reverse();
  }

  private grow(): void {
    const n = this.parents.length * 2;
    const p = new Int32Array(n);
    p.set(this.parents);
    this.parents = p;
    const e = this.events instanceof Uint8Array ? new Uint8Array(n) : new Uint16Array(n);
    e.set(this.events);
    this.events = e;
  }
}

/**
 * The search tree of the breadth-first search, packed: for each stored
 * state, the index of its parent and the alphabet index of the event that
 * produced it, in two growable typed arrays (5 bytes per state with up to 256
 * events, 6 with more, up to twice that while the arrays have room to grow).
 * States are appended level by level, so a BFS level (the frontier) is a
 * range of indices and costs nothing more; a state itself is re-created by
 * replaying its event from its parent's (checker/replay-cache.ts). A
 * counterexample is the chain of events up the parents.
 *
 * The arrays live in SharedArrayBuffers so that the workers of a split
 * search (checker/split-search.ts) read the levels already built without a
 * copy; only the search's own thread appends, and a node never changes once
 * written, so a reader holding the arrays of an earlier growth still sees
 * every node it may ask for.
 */
/** Read access to a search tree's nodes (the tree itself, or a worker's view of its shared arrays). */
export interface TreeNodes {
  parent(i: number): number;
  event(i: number): number;
}

/** The tree's arrays as a worker receives them (checker/split-search.ts). */
export interface SharedTreeArrays {
  readonly parents: Int32Array;
  readonly events: Uint8Array | Uint16Array;
}

export class SearchTree implements TreeNodes {
  private parents: Int32Array;
  private events: Uint8Array | Uint16Array;
  private readonly wide: boolean;
  size = 0;

  constructor(alphabetSize: number, initialCapacity = 1 << 10) {
    if (alphabetSize > 65536) throw new RangeError(`search tree: at most 65536 events, got ${alphabetSize}`);
    this.wide = alphabetSize > 256;
    this.parents = new Int32Array(new SharedArrayBuffer(initialCapacity * 4));
    this.events = this.eventArray(initialCapacity);
  }

  get bytes(): number {
    return this.parents.byteLength + this.events.byteLength;
  }

  /** Bytes held after one more state. */
  get bytesAfterAdd(): number {
    return this.bytesAfterAdds(1);
  }

  /** Bytes held after `k` more states. */
  bytesAfterAdds(k: number): number {
    let cap = this.parents.length;
    while (this.size + k > cap) cap *= 2;
    return cap * (this.wide ? 6 : 5);
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

  /** The arrays as they are now (shared memory: a worker reads them in place). */
  shared(): SharedTreeArrays {
    return { parents: this.parents, events: this.events };
  }

  /** Event indices from the root to state i. */
  path(i: number): number[] {
    const out: number[] = [];
    for (; this.parents[i] >= 0; i = this.parents[i]) out.push(this.events[i]);
    return out.reverse();
  }

  private eventArray(n: number): Uint8Array | Uint16Array {
    return this.wide ? new Uint16Array(new SharedArrayBuffer(n * 2)) : new Uint8Array(new SharedArrayBuffer(n));
  }

  private grow(): void {
    const n = this.parents.length * 2;
    const p = new Int32Array(new SharedArrayBuffer(n * 4));
    p.set(this.parents);
    this.parents = p;
    const e = this.eventArray(n);
    e.set(this.events);
    this.events = e;
  }
}

/** A worker's read-only view of a search tree's shared arrays. */
export class TreeView implements TreeNodes {
  constructor(private arrays: SharedTreeArrays) {}

  /** Takes the arrays of a later growth (the tree grew since the last level). */
  update(arrays: SharedTreeArrays): void {
    this.arrays = arrays;
  }

  parent(i: number): number {
    return this.arrays.parents[i];
  }

  event(i: number): number {
    return this.arrays.events[i];
  }
}

/**
 * The set of visited states: 64-bit fingerprints in an open-addressing hash
 * table (linear probing, two Uint32 words per slot, (0, 0) = empty), doubled
 * when half full, so it costs 16 to 32 bytes per stored state. A fingerprint
 * collision would merge two states (the usual hash-compaction trade-off of
 * explicit-state model checkers); at 64 bits and millions of states the
 * chance is about n^2 / 2^65.
 */
export class FingerprintSet {
  private slots: Uint32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.slots = new Uint32Array(cap * 2);
    this.mask = cap - 1;
  }

  /** Slots in the table. */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Bytes the table holds. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /** Adds (lo, hi); returns true when it was not there yet. */
  add(lo: number, hi: number): boolean {
    if (lo === 0 && hi === 0) lo = 1; // (0, 0) marks an empty slot
    const s = this.slots;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const a = s[2 * i], b = s[2 * i + 1];
      if (a === 0 && b === 0) break;
      if (a === lo >>> 0 && b === hi >>> 0) return false;
      i = (i + 1) & this.mask;
    }
    s[2 * i] = lo;
    s[2 * i + 1] = hi;
    this.size++;
    if (this.size * 2 > this.capacity) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const cap = this.capacity * 2;
    this.slots = new Uint32Array(cap * 2);
    this.mask = cap - 1;
    const s = this.slots;
    for (let j = 0; j < old.length; j += 2) {
      const lo = old[j], hi = old[j + 1];
      if (lo === 0 && hi === 0) continue;
      let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
      while (s[2 * i] !== 0 || s[2 * i + 1] !== 0) i = (i + 1) & this.mask;
      s[2 * i] = lo;
      s[2 * i + 1] = hi;
    }
  }
}

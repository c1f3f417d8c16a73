/**
 * The set of visited states: 64-bit fingerprints in an open-addressing hash
 * table (linear probing, two Uint32 words per slot, (0, 0) = empty), doubled
 * when half full, so it costs 16 to 32 bytes per stored state. A fingerprint
 * collision would merge two states (the usual hash-compaction trade-off of
 * explicit-state model checkers); at 64 bits and millions of states the
 * chance is about n^2 / 2^65.
 */
/** What the search needs from its set of visited states. */
export interface StateSet {
  /** States added. */
  readonly size: number;
  /** Bytes held. */
  readonly bytes: number;
  /** Bytes held after one more new state. */
  readonly bytesAfterAdd: number;
  /** Bytes held after `k` more new states (an upper bound when some are not new). */
  bytesAfterAdds(k: number): number;
  has(lo: number, hi: number): boolean;
  /** Adds a state's fingerprint; true when it was not there yet. */
  add(lo: number, hi: number): boolean;
}

export class FingerprintSet implements StateSet {
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

  /** Bytes the table will hold after one more new fingerprint (it doubles at half load). */
  get bytesAfterAdd(): number {
    return (this.size + 1) * 2 > this.capacity ? this.slots.byteLength * 2 : this.slots.byteLength;
  }

  bytesAfterAdds(k: number): number {
    let cap = this.capacity;
    while ((this.size + k) * 2 > cap) cap *= 2;
    return cap * 8;
  }

  /** Whether (lo, hi) is in the set. */
  has(lo: number, hi: number): boolean {
    if (lo === 0 && hi === 0) lo = 1;
    const s = this.slots;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const a = s[2 * i], b = s[2 * i + 1];
      if (a === 0 && b === 0) return false;
      if (a === lo >>> 0 && b === hi >>> 0) return true;
      i = (i + 1) & this.mask;
    }
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

/**
 * SPIN's bitstate hashing ("supertrace", Holzmann, "An analysis of bitstate
 * hashing", FMSD 13(3), 1998): a state is k bits of a 2^bits-bit array, at
 * indices derived from its 64-bit fingerprint by double hashing
 * (h1 + i * h2, Kirsch and Mitzenmacher 2006). A new state whose k bits are
 * all set already is taken for visited and omitted, with its successors: the
 * search is then a partial one, and omissionProbability estimates how likely
 * that was.
 */
export class BitstateSet implements StateSet {
  private readonly words: Uint32Array;
  private readonly mask: number;
  size = 0;

  constructor(readonly bits: number, readonly k: number) {
    if (bits < 8 || bits > 32) throw new RangeError(`bitstate: bits must be in 8..32, got ${bits}`);
    this.words = new Uint32Array(2 ** (bits - 5) || 1);
    this.mask = bits === 32 ? 0xffffffff : (1 << bits) - 1 >>> 0;
  }

  get bytes(): number {
    return this.words.byteLength;
  }

  get bytesAfterAdd(): number {
    return this.words.byteLength;
  }

  bytesAfterAdds(): number {
    return this.words.byteLength;
  }

  has(lo: number, hi: number): boolean {
    const w = this.words, h2 = hi | 1;
    for (let i = 0; i < this.k; i++) {
      const idx = ((lo + Math.imul(i, h2)) & this.mask) >>> 0;
      if ((w[idx >>> 5] & (1 << (idx & 31))) === 0) return false;
    }
    return true;
  }

  add(lo: number, hi: number): boolean {
    const w = this.words, h2 = hi | 1;
    let fresh = false;
    for (let i = 0; i < this.k; i++) {
      const idx = ((lo + Math.imul(i, h2)) & this.mask) >>> 0;
      const bit = 1 << (idx & 31);
      if ((w[idx >>> 5] & bit) === 0) {
        w[idx >>> 5] |= bit;
        fresh = true;
      }
    }
    if (fresh) this.size++;
    return fresh;
  }

  /**
   * Estimated probability that at least one state was omitted: a union bound,
   * the expected number of omissions, sum over the n stored states of the
   * chance that all k bits of the i-th were already set by the i - 1 before
   * it, (1 - e^(-k i / m))^k (the Bloom filter false-positive rate), plus the
   * chance of a 64-bit fingerprint collision, n^2 / 2^65. Capped at 1.
   */
  omissionProbability(): number {
    return omissionEstimate(this.size, 2 ** this.bits, this.k);
  }
}

/** See BitstateSet.omissionProbability; the sum is integrated numerically (Simpson, 1000 intervals). */
export function omissionEstimate(n: number, m: number, k: number): number {
  if (n <= 1) return 0;
  const f = (x: number) => (1 - Math.exp(-k * x / m)) ** k;
  const steps = 1000, h = n / steps;
  let sum = f(0) + f(n);
  for (let j = 1; j < steps; j++) sum += (j % 2 === 1 ? 4 : 2) * f(j * h);
  return Math.min(1, sum * h / 3 + n * n / 2 ** 65);
}

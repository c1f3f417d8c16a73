/**
 * Fingerprints: a 64-bit hash of a state's canonical form. States are
 * canonical by construction (fixed layout, sorted tables, zeroed free slots,
 * generations derived from the present), so hashing every word of every
 * component, with the component lengths, is enough; equal states always have
 * equal fingerprints.
 *
 * A component's hash is, in each of two 32-bit lanes, the sum modulo 2^32 of
 * a well-mixed hash of every (position, word) pair, started from a value of
 * the component's length (Zobrist's table-free variant: the mix stands in for
 * the random table). A sum can be updated word by word: when a step changes
 * a few words of a large component, `componentHashUpdate` costs a comparison
 * per word and four mixes per changed word, instead of two mixes per word,
 * and gives exactly the value `componentHashInto` computes from scratch. The
 * component hashes are then combined by a murmur3-style mix, lane by lane.
 *
 * Per lane, the word mix is a bijection of the word for each position (an odd
 * multiplier, then the murmur3 finaliser or lowbias32), so two states that
 * differ in some words differ by a sum of differences of mixed values; for
 * mixes that behave as random functions a collision per pair of states has
 * probability about 2^-64 (checker/visited.ts states the search's
 * collision estimate).
 */
import { type State } from "./state.ts";

const C1 = 0xcc9e2d51, C2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, n: number): number {
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Lane a's hash of word w at position i: murmur3's fmix32 of an odd multiple of w offset by i. */
function wordA(i: number, w: number): number {
  let x = (Math.imul(w, C1) + Math.imul(i, 0x9e3779b1) + 0x7f4a7c15) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Lane b's: lowbias32 (C. Wellons' hash-prospector) of another odd multiple, offset otherwise. */
function wordB(i: number, w: number): number {
  let x = (Math.imul(w, C2) ^ Math.imul(i + 1, 0x85ebca77)) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}

const hashes = new Uint32Array(64);

/**
 * Writes the fingerprint of `s` into out[0] (low 32 bits) and out[1] (high 32
 * bits): every component hashed on its own, then the component hashes
 * combined (so an engine can re-hash only the components a step changed and
 * get the same value).
 */
export function fingerprintInto(s: State, out: Uint32Array): void {
  const h = s.length * 2 <= hashes.length ? hashes : new Uint32Array(s.length * 2);
  componentHashesInto(s, h);
  combineComponentHashes(h, s.length, out);
}

/** Every component's hash of `s`, component c's at out[2c] and out[2c + 1] (as combineComponentHashes takes them). */
export function componentHashesInto(s: State, out: Uint32Array | number[]): void {
  for (let c = 0; c < s.length; c++) componentHashInto(s[c], out, 2 * c);
}

const scratch = new Uint32Array(2);

/** The fingerprint of `s` as a bigint (convenience; the hot path uses fingerprintInto). */
export function fingerprint(s: State): bigint {
  fingerprintInto(s, scratch);
  return (BigInt(scratch[1]) << 32n) | BigInt(scratch[0]);
}

/** Hash of one component into out[at] (lane a) and out[at + 1] (lane b), as int32 sums. */
export function componentHashInto(arr: readonly number[], out: Uint32Array | number[], at: number): void {
  const n = arr.length;
  let a = finish(0x9747b28c, n) | 0, b = finish(0x5bd1e995, Math.imul(n, 0x55555555)) | 0;
  for (let i = 0; i < n; i++) {
    const w = arr[i];
    a = (a + wordA(i, w)) | 0;
    b = (b + wordB(i, w)) | 0;
  }
  out[at] = a;
  out[at + 1] = b;
}

/**
 * The hash of `arr` into out[at..at+1], given the hash of `prev` at
 * prevHashes[prevAt..prevAt+1]: only the words that differ are re-mixed
 * (equal to componentHashInto(arr, out, at)). `out` may be `prevHashes`,
 * at the same place.
 */
export function componentHashUpdate(
  prev: readonly number[], prevHashes: Uint32Array | readonly number[], prevAt: number,
  arr: readonly number[], out: Uint32Array | number[], at: number,
): void {
  const n = arr.length;
  if (prev.length !== n) {
    componentHashInto(arr, out, at);
    return;
  }
  let a = prevHashes[prevAt] | 0, b = prevHashes[prevAt + 1] | 0;
  for (let i = 0; i < n; i++) {
    const w = arr[i], v = prev[i];
    if (w === v) continue;
    a = (a + wordA(i, w) - wordA(i, v)) | 0;
    b = (b + wordB(i, w) - wordB(i, v)) | 0;
  }
  out[at] = a;
  out[at + 1] = b;
}

/**
 * The 64-bit fingerprint from per-component hashes (as componentHashInto
 * computes them), into out[0] (low) and out[1] (high). The exhaustive engine
 * uses it to re-hash only the components a step copied.
 */
export function combineComponentHashes(h: Uint32Array | readonly number[], n: number, out: Uint32Array): void {
  let a = 0x1b873593, b = 0xcc9e2d51;
  for (let c = 0; c < n; c++) {
    a = mix(a, h[2 * c]);
    b = mix(b, h[2 * c + 1] ^ c);
  }
  out[0] = finish(a, n);
  out[1] = finish(b, n ^ 0x68e31da4);
}

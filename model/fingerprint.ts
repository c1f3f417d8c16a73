/**
 * Fingerprints: a 64-bit hash of a state's canonical form. States are
 * canonical by construction (fixed layout, sorted tables, zeroed free slots,
 * generations derived from the present), so hashing every word of every
 * component, with the component lengths, is enough; equal states always have
 * equal fingerprints. Two 32-bit lanes with different seeds, each a
 * murmur3-style mix, make the 64 bits.
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

const hashes = new Uint32Array(64);

/**
 * Writes the fingerprint of `s` into out[0] (low 32 bits) and out[1] (high 32
 * bits): every component hashed on its own, then the component hashes
 * combined (so an engine can re-hash only the components a step changed and
 * get the same value).
 */
export function fingerprintInto(s: State, out: Uint32Array): void {
  const h = s.length * 2 <= hashes.length ? hashes : new Uint32Array(s.length * 2);
  for (let c = 0; c < s.length; c++) componentHashInto(s[c], h, 2 * c);
  combineComponentHashes(h, s.length, out);
}

const scratch = new Uint32Array(2);

/** The fingerprint of `s` as a bigint (convenience; the hot path uses fingerprintInto). */
export function fingerprint(s: State): bigint {
  fingerprintInto(s, scratch);
  return (BigInt(scratch[1]) << 32n) | BigInt(scratch[0]);
}

/** Hash of one component into out[at] (lane a) and out[at + 1] (lane b). */
export function componentHashInto(arr: readonly number[], out: Uint32Array | number[], at: number): void {
  let a = 0x9747b28c ^ arr.length, b = 0x5bd1e995 ^ Math.imul(arr.length, 0x55555555);
  for (let i = 0; i < arr.length; i++) {
    const w = arr[i];
    a = mix(a, w);
    b = mix(b, w ^ (i * 0x9e3779b1));
  }
  out[at] = finish(a, arr.length);
  out[at + 1] = finish(b, arr.length ^ 0x2545f491);
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

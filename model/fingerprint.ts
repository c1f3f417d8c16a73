/**
 * Fingerprints: a 64-bit hash of a state's canonical form. States are
 * canonical by construction (fixed layout, sorted tables, zeroed free slots),
 * so hashing every word of every component, with the component lengths, is
 * enough; equal states always have equal fingerprints. Two 32-bit lanes with
 * different seeds, each a murmur3-style mix, make the 64 bits.
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

/** Writes the fingerprint of `s` into out[0] (low 32 bits) and out[1] (high 32 bits). */
export function fingerprintInto(s: State, out: Uint32Array): void {
  let a = 0x9747b28c, b = 0x5bd1e995;
  let n = 0;
  for (let c = 0; c < s.length; c++) {
    const arr = s[c];
    a = mix(a, arr.length);
    b = mix(b, arr.length ^ 0x55555555);
    for (let i = 0; i < arr.length; i++) {
      const w = arr[i];
      a = mix(a, w);
      b = mix(b, w ^ (i * 0x9e3779b1));
    }
    n += arr.length + 1;
  }
  out[0] = finish(a, n);
  out[1] = finish(b, n ^ 0x2545f491);
}

const scratch = new Uint32Array(2);

/** The fingerprint of `s` as a bigint (convenience; the hot path uses fingerprintInto). */
export function fingerprint(s: State): bigint {
  fingerprintInto(s, scratch);
  return (BigInt(scratch[1]) << 32n) | BigInt(scratch[0]);
}

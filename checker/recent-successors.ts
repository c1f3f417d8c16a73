/**
 * A small direct-mapped table of the plain fingerprints of recently
 * generated successors, so that the exhaustive engine skips, before it
 * computes a symmetry representative or touches the visited set, a
 * successor it has generated before. Interleavings make this the common
 * case: on strict's race scope about 70 % of the successors that change
 * the state are the very state (word for word) another transition of the
 * search produced shortly before (the diamond a·b = b·a), and each costs a
 * representative (several renamed images hashed) and a visited-set probe.
 *
 * Why skipping is exact. A search adds a successor only at its first
 * occurrence in (tree node, event) order: a later equal state is a
 * duplicate of it, whatever the reduction, since equal states have equal
 * representatives. An entry remembers the transition (node, event) that
 * produced its state, and a lookup counts as a hit only when that
 * transition comes earlier in this order than the one asking. So a
 * transition that is skipped has an earlier twin that was either passed on
 * or itself skipped for an even earlier one, and the first occurrence of
 * every state is never skipped: the states added, their tree parents, and
 * every figure are those of the search without the table. This holds
 * whichever thread expands which chunk in which order (a split search's
 * thread may expand a chunk out of order: its later chunk's entries then
 * do not count), which is why the order is checked and not assumed.
 * test/checker/recent-successors.test.ts compares searches with and
 * without it, result for result.
 *
 * A miss costs nothing but the probe; the table is never searched, only
 * overwritten. It grows with the node numbers it sees, from 1,024 entries
 * to MAX_ENTRIES (16 bytes each: 1 MiB), and is not counted in the
 * search's memory figures (like the replay cache, it is a fixed-size
 * working buffer, not a per-state cost).
 */
import { combineComponentHashes } from "../model/fingerprint.ts";
import { type State } from "../model/state.ts";
import { successorHashes } from "./replay-cache.ts";
import { type CanonicalFingerprint } from "./symmetry.ts";

const MIN_ENTRIES = 1 << 10;
/**
 * 2^16 entries (1 MiB). On strict's race scope (300,000 states) a table of
 * 2^14 entries catches 60 % of the state-changing successors, 2^17 66 %,
 * 2^20 72 %, and 74 % are repeats in all; yet 2^13, 2^15 and 2^19 entries
 * run equally fast (bench/exhaustive-row.ts, paired): a small table stays
 * in the processor's caches, which seems to make up for the repeats it
 * forgets.
 */
export const MAX_ENTRIES = 1 << 16;
/** Words per entry: the fingerprint's two words, node + 1 (0 = empty), event index. */
const W = 4;

export class RecentSuccessors {
  private table = new Uint32Array(MIN_ENTRIES * W);
  private mask = MIN_ENTRIES - 1;
  private readonly plain = new Uint32Array(2);

  /**
   * Whether successor t of state s (whose component hashes are `sHashes`),
   * produced by event `ei` of tree node `node`, was produced before by an
   * earlier transition in (node, event) order. When it was not, writes its
   * fingerprint into fp (of its symmetry representative with `canonical`)
   * and remembers it; `scratch` receives t's component hashes either way.
   */
  duplicate(
    s: State, t: State, sHashes: readonly number[], scratch: number[], canonical: CanonicalFingerprint | null, fp: Uint32Array,
    node: number, ei: number,
  ): boolean {
    successorHashes(s, t, sHashes, scratch);
    const plain = this.plain;
    combineComponentHashes(scratch, t.length, plain);
    if (this.seen(plain[0], plain[1], node, ei)) return true;
    if (canonical !== null) canonical(t, scratch, fp);
    else {
      fp[0] = plain[0];
      fp[1] = plain[1];
    }
    return false;
  }

  /**
   * True when (a, b) was remembered for a transition before (node, ei);
   * otherwise remembers it for this one.
   */
  seen(a: number, b: number, node: number, ei: number): boolean {
    if (node > 2 * this.mask && this.mask + 1 < MAX_ENTRIES) this.grow(node);
    const i = (a & this.mask) * W;
    const tb = this.table;
    if (tb[i] === a && tb[i + 1] === b && tb[i + 2] !== 0) {
      const n = tb[i + 2] - 1;
      if (n < node || (n === node && tb[i + 3] < ei)) return true;
    }
    tb[i] = a;
    tb[i + 1] = b;
    tb[i + 2] = node + 1;
    tb[i + 3] = ei;
    return false;
  }

  /** Bytes the table holds now. */
  get bytes(): number {
    return this.table.byteLength;
  }

  private grow(node: number): void {
    let n = this.mask + 1;
    while (n < MAX_ENTRIES && 2 * n <= node) n *= 2;
    this.table = new Uint32Array(n * W); // a cache: what it held may go
    this.mask = n - 1;
  }
}

/**
 * Re-creating the states of a packed search tree (checker/tree.ts): a state
 * is its parent's state with its event applied. The last state re-created on
 * each level is cached, with its per-component hashes, so consecutive states
 * of a level (siblings, cousins) cost about one step each, and a child
 * re-hashes only the components its step copied (copy-on-write identity).
 * The search's own thread and each worker of a split search keep one.
 */
import { type Event } from "../model/events.ts";
import { combineComponentHashes, componentHashesInto, componentHashUpdate } from "../model/fingerprint.ts";
import { type State } from "../model/state.ts";
import { type Stepper, type System } from "../model/system.ts";
import { type TreeNodes } from "./tree.ts";
import { type CanonicalFingerprint } from "./symmetry.ts";

/**
 * Writes into fp[0..1] the fingerprint of successor t of state s (whose
 * component hashes are `sHashes`), re-hashing only the words of the
 * components the step copied (copy-on-write identity) that changed;
 * `scratch` receives t's component hashes.
 * With `canonical`, the fingerprint of t's symmetry representative.
 */
export function successorFingerprint(
  s: State, t: State, sHashes: readonly number[], scratch: number[], canonical: CanonicalFingerprint | null, fp: Uint32Array,
): void {
  successorHashes(s, t, sHashes, scratch);
  if (canonical !== null) canonical(t, scratch, fp);
  else combineComponentHashes(scratch, t.length, fp);
}

/** Writes into `out` the component hashes of successor t of state s (whose component hashes are `sHashes`). */
export function successorHashes(s: State, t: State, sHashes: readonly number[], out: number[]): void {
  for (let c = 0; c < t.length; c++) {
    if (t[c] !== s[c]) componentHashUpdate(s[c], sHashes, 2 * c, t[c], out, 2 * c);
    else {
      out[2 * c] = sHashes[2 * c];
      out[2 * c + 1] = sHashes[2 * c + 1];
    }
  }
}

export class ReplayCache {
  private readonly node: Int32Array;
  private readonly state: State[];
  /** Per level: the component hashes of the cached state (2 words per component). */
  readonly hashes: number[][] = [];

  /** The root (node 0, level 0) is `sys.init`. */
  constructor(sys: System, private readonly stepper: Stepper, private readonly alphabet: readonly Event[], private tree: TreeNodes, maxLevel: number) {
    const nComp = sys.init.length;
    this.node = new Int32Array(maxLevel + 1).fill(-1);
    this.state = new Array<State>(maxLevel + 1);
    for (let d = 0; d <= maxLevel; d++) this.hashes.push(new Array<number>(nComp * 2).fill(0));
    componentHashesInto(sys.init, this.hashes[0]);
    this.node[0] = 0;
    this.state[0] = sys.init;
  }

  /** The state of tree node n at level d, re-created from the nearest cached ancestor (into the cache). */
  load(n: number, d: number): State {
    if (this.node[d] === n) return this.state[d];
    const ps = this.load(this.tree.parent(n), d - 1);
    const t = this.stepper.step(ps, this.alphabet[this.tree.event(n)]);
    successorHashes(ps, t, this.hashes[d - 1], this.hashes[d]);
    this.node[d] = n;
    this.state[d] = t;
    return t;
  }
}

/**
 * Symmetry reduction for the exhaustive engine: interchangeable mapping
 * slots. States that differ only in which slot of the mapping table holds
 * which mapping are one state for the search (Ip & Dill, "Better
 * verification through symmetry", FMSD 1996; SPIN/SymmSpin's scalarset idea).
 *
 * What a slot id is. A mapping's slot number appears in exactly two places of
 * the model state: the position of its record in MAPS, and word 2 of a
 * context's CALLS record while a map or unmap call on it is in progress. The
 * canonical representative of a state sorts the slot records (record words
 * in descending order, then the context that has a call on the slot) and
 * renames word 2 of CALLS accordingly. Descending puts live records before
 * free (all-zero) ones, where the model's lowest-free-slot allocation
 * already puts them, so most states need no reordering and no re-hash.
 * Nothing else holds a slot id in the built-in policies except morsel's and
 * morsel-views' private words, which are indexed by slot; such a policy
 * declares `symmetric: false` (model/policy.ts) and is not reduced.
 *
 * Why the reduction is sound. For a slot permutation p, step(p(s), e) =
 * p'(step(s, e')) for an alphabet event e' with p' = p on every slot in use:
 * a map takes the lowest free slot, and free slots are all-zero records that
 * nothing refers to, so which free slot it takes changes the state only by a
 * permutation; `unmap k` takes the k-th (mod count) mapped slot in slot order,
 * and when the alphabet holds `unmap k` for every k < maxMappings (the
 * condition below, per CPU and free flag) the set of unmaps the alphabet
 * offers is the same set of mappings in any slot order. The policies
 * (symmetric ones), the Kernel and the properties read mappings by slot but
 * never compare slot numbers, and every property's verdict on a transition is
 * the same for its image under p. So the reachable graph is symmetric, and
 * breadth-first search over orbits reaches each orbit at the least depth of
 * any of its states, with the same verdicts and the same shortest
 * counterexample lengths. The engine keeps the state it actually reached in
 * its frontier and only fingerprints the representative, so a counterexample
 * path is a real execution of the alphabet and replays as it is.
 */
import { type Event } from "../model/events.ts";
import { componentHashUpdate, combineComponentHashes } from "../model/fingerprint.ts";
import { CALLS, CALL_W, MAPS, MAP_W } from "../model/geometry.ts";
import { type State } from "../model/state.ts";
import { OP_MAP, OP_UNMAP, type System } from "../model/system.ts";

/**
 * Writes into out[0..1] the fingerprint of the canonical representative of
 * `t`, given t's per-component hashes (2 words per component, as
 * model/fingerprint.ts componentHashInto computes them).
 */
export type CanonicalFingerprint = (t: State, hashes: readonly number[], out: Uint32Array) => void;

/** Why slot symmetry does not apply to this system and alphabet, or null when it does. */
export function slotSymmetryProblem(sys: System, alphabet: readonly Event[]): string | null {
  if (sys.policy.symmetric === false) return `policy ${sys.policy.name} declares its state depends on slot identity`;
  const n = sys.cfg.maxMappings;
  if (n < 2) return "one mapping slot";
  // Every (cpu, free) pair that can unmap must be able to unmap the k-th mapping for every k < n.
  const seen = new Map<string, Set<number>>();
  for (const e of alphabet) {
    if (e.t !== "unmap") continue;
    const key = `${e.cpu}/${e.free}`;
    let ks = seen.get(key);
    if (ks === undefined) seen.set(key, (ks = new Set()));
    ks.add(e.k);
  }
  for (const [key, ks] of seen) {
    for (let k = 0; k < n; k++) if (!ks.has(k)) return `the alphabet cannot unmap the mapping k=${k} (cpu/free ${key}); raise unmapSlots to maxMappings`;
  }
  return null;
}

/**
 * Slot canonicalisation of the mapping table and the calls as a reusable step
 * (checker/cpu-symmetry.ts applies it to each CPU-renamed image): given a
 * state's MAPS and CALLS words, whose hashes local[2 * MAPS ..] and
 * local[2 * CALLS ..] hold, replaces those with the hashes of their
 * slot-sorted forms, or returns false, writing nothing, when the slots are
 * already in canonical order.
 */
export type SlotCanonicaliser = (mp: readonly number[], cl: readonly number[], local: number[]) => boolean;

/** The slot canonicaliser for `sys` (whether slot symmetry applies is slotSymmetryProblem's question). */
export function slotCanonicaliser(sys: System): SlotCanonicaliser {
  const n = sys.cfg.maxMappings;
  const contexts = sys.g.contexts;
  const order = new Int32Array(n);
  const ref = new Int32Array(n);
  const inv = new Int32Array(n);
  const maps: number[] = new Array<number>(n * MAP_W).fill(0);
  const calls: number[] = new Array<number>(contexts * CALL_W).fill(0);

  // Compares slots a and b: record words (descending), then the context with a call on the slot (+1; 0: none).
  const cmp = (mp: readonly number[], a: number, b: number): number => {
    const ba = a * MAP_W, bb = b * MAP_W;
    for (let i = 0; i < MAP_W; i++) {
      const d = mp[ba + i] - mp[bb + i];
      if (d !== 0) return -d;
    }
    return ref[a] - ref[b];
  };

  return (mp, cl, local) => {
    ref.fill(0);
    for (let ctx = 0; ctx < contexts; ctx++) {
      const op = cl[ctx * CALL_W];
      if (op === OP_MAP || op === OP_UNMAP) ref[cl[ctx * CALL_W + 2]] = ctx + 1;
    }
    // Insertion sort of the slot order (n is small).
    let identity = true;
    for (let i = 0; i < n; i++) {
      let j = i;
      while (j > 0 && cmp(mp, order[j - 1], i) > 0) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
      if (j !== i) identity = false;
    }
    if (identity) return false;
    for (let i = 0; i < n; i++) {
      const src = order[i] * MAP_W, dst = i * MAP_W;
      for (let w = 0; w < MAP_W; w++) maps[dst + w] = mp[src + w];
      inv[order[i]] = i;
    }
    for (let i = 0; i < cl.length; i++) calls[i] = cl[i];
    for (let ctx = 0; ctx < contexts; ctx++) {
      const op = cl[ctx * CALL_W];
      if (op === OP_MAP || op === OP_UNMAP) calls[ctx * CALL_W + 2] = inv[cl[ctx * CALL_W + 2]];
    }
    componentHashUpdate(mp, local, 2 * MAPS, maps, local, 2 * MAPS);
    componentHashUpdate(cl, local, 2 * CALLS, calls, local, 2 * CALLS);
    return true;
  };
}

/** The slot-symmetry fingerprint for `sys`, or null when slot symmetry does not apply. */
export function slotSymmetry(sys: System, alphabet: readonly Event[]): CanonicalFingerprint | null {
  if (slotSymmetryProblem(sys, alphabet) !== null) return null;
  const nComp = sys.init.length;
  const canon = slotCanonicaliser(sys);
  const local: number[] = new Array<number>(nComp * 2).fill(0);
  return (t, hashes, out) => {
    for (let i = 0; i < nComp * 2; i++) local[i] = hashes[i];
    // canon replaces the MAPS and CALLS hashes, if the slots are not in order.
    canon(t[MAPS], t[CALLS], local);
    combineComponentHashes(local, nComp, out);
  };
}

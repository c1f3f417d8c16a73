/**
 * The policy's private words decoded by name (Policy.stateWordNames; a word
 * without a name is "word N"). Only non-zero words are records: a word that
 * returns to 0 shows in a diff as removed.
 */
import { POL, type Geometry } from "../geometry.ts";
import { type Policy } from "../policy.ts";
import { type State } from "../state.ts";

export type PolicyWordRecord = {
  readonly kind: "policy-word";
  /** The word's name, e.g. "bounce pool first frame + 1". */
  readonly key: string;
  readonly index: number;
  readonly value: number;
  /** The value as 32 unsigned bits in hexadecimal (bitmaps, flag words). */
  readonly hex: string;
}

export function decodePolicyWords(g: Geometry, policy: Policy, s: State): PolicyWordRecord[] {
  const w = s[POL];
  if (w.length === 0) return [];
  const names = policy.stateWordNames?.(g.cfg) ?? [];
  const out: PolicyWordRecord[] = [];
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue;
    out.push({ kind: "policy-word", key: names[i] ?? `word ${i}`, index: i, value: w[i], hex: `0x${(w[i] >>> 0).toString(16)}` });
  }
  return out;
}

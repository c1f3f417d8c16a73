/**
 * The canonical corpus: one counterexample per violated cell of the built-in
 * policies, and one per claimed property a broken variant violates, found
 * with the CLI's default options and no timing (so the files depend only on
 * the code and the seed). `npm run corpus` regenerates it.
 */
import { DEFAULT_CONFIG } from "../model/config.ts";
import { BROKEN_POLICIES, POLICIES } from "../model/policies/index.ts";
import { claimsOf, type Policy } from "../model/policy.ts";
import { PROPERTIES } from "../properties/index.ts";
import { checkCell, checkPolicyExhaustively, type ExhaustiveMatrixOptions, type MatrixOptions } from "../checker/matrix.ts";
import { DEFAULT_SCOPE } from "../checker/scope.ts";
import { type Counterexample } from "./schema.ts";

export const CORPUS_DIR = "counterexamples/corpus";
export const RENDERED_DIR = "test/corpus";
export const CORPUS_OPTIONS: MatrixOptions = { config: DEFAULT_CONFIG, runs: 30000, seed: 42, maxEvents: 24, timing: false };
/** Random counterexamples longer than this are compared with the exhaustive engine's shortest. */
const SHORT = 8;
export const CORPUS_EXHAUSTIVE: ExhaustiveMatrixOptions = { scope: DEFAULT_SCOPE, depth: 40, maxStates: 2_000_000, timing: false };

/** The cells the corpus covers: built-ins in full, broken variants on what they claim (call-progress, which every policy claims, too). */
export function corpusCells(): { policy: Policy; property: (typeof PROPERTIES)[number] }[] {
  const cells = [];
  for (const policy of POLICIES) for (const property of PROPERTIES) cells.push({ policy, property });
  for (const policy of BROKEN_POLICIES) for (const property of PROPERTIES) if (claimsOf(policy).includes(property.name)) cells.push({ policy, property });
  return cells;
}

export function computeCorpus(): Counterexample[] {
  const out: Counterexample[] = [];
  for (const { policy, property } of corpusCells()) {
    const cell = checkCell({ policy, module: null }, property, CORPUS_OPTIONS);
    if (cell.counterexample && cell.counterexample.events.length > SHORT) {
      // A long random counterexample: the exhaustive engine's shortest one on the default scope, where it has one.
      const ex = checkPolicyExhaustively({ policy, module: null }, [property], CORPUS_EXHAUSTIVE).cells[0];
      const shorter = ex.counterexample && ex.counterexample.events.length < cell.counterexample.events.length;
      out.push(shorter ? ex.counterexample! : cell.counterexample);
    } else if (cell.counterexample) out.push(cell.counterexample);
    else if (BROKEN_POLICIES.includes(policy) || !policy.claims.includes(property.name)) {
      // A bug behind a long interleaving the random runs miss (a broken variant's, or an unclaimed cell of
      // a built-in such as lazy x availability): the exhaustive engine on the default scope
      // (what `dmacheck check` also runs by default) gives its shortest counterexample.
      const ex = checkPolicyExhaustively({ policy, module: null }, [property], CORPUS_EXHAUSTIVE).cells[0];
      if (ex.counterexample) out.push(ex.counterexample);
    }
  }
  return out;
}

/**
 * One chunk of a split search's level (checker/split-search.ts), expanded
 * without touching the search's visited set: every event applied to each of
 * the chunk's states, the open properties checked, coverage counted, and the
 * successors' fingerprints listed in (node, event) order for the search's
 * thread to deduplicate in that order. A worker thread expands chunks with
 * one; so does the search's own thread while it waits for the workers.
 */
import { type Event } from "../model/events.ts";
import { type Observation } from "../model/observation.ts";
import { type Stepper, type System } from "../model/system.ts";
import { type Property } from "../properties/property.ts";
import { type CoverageRecorder } from "./coverage.ts";
import { successorFingerprint, type ReplayCache } from "./replay-cache.ts";
import { type ChunkResult } from "./split-search.ts";
import { type CanonicalFingerprint } from "./symmetry.ts";
import { type RecentSuccessors } from "./recent-successors.ts";

export class ChunkExpander {
  private readonly scratch: number[];
  private readonly fp = new Uint32Array(2);

  constructor(
    private readonly sys: System, private readonly stepper: Stepper, private readonly obs: Observation, private readonly props: readonly Property[],
    private readonly alphabet: readonly Event[], private readonly canonical: CanonicalFingerprint | null,
    /** Counts the chunk's coverage; its delta goes with the result. */
    private readonly recorder: CoverageRecorder | null, private readonly cache: ReplayCache,
    /** Successors generated before, skipped before they are fingerprinted (checker/recent-successors.ts); null: none skipped. */
    private readonly recent: RecentSuccessors | null,
  ) {
    this.scratch = new Array<number>(sys.init.length * 2).fill(0);
  }

  /**
   * Runs `steps` transitions of a fixed walk from the initial state through
   * the same step, property and hashing code, and forgets them: a worker
   * does this while the first levels are still too small to split, so that
   * its code is compiled by the time it claims chunks. Nothing it computes
   * is kept (the coverage it counted is dropped).
   */
  warmUp(steps: number): void {
    const { sys, obs, stepper, props, canonical, recorder, alphabet, scratch, fp } = this;
    let s = sys.init;
    let x = 1;
    for (let i = 0; i < steps; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const e = alphabet[(x >>> 8) % alphabet.length];
      const t = stepper.step(s, e);
      if (recorder !== null) recorder.step(s, e, obs, t);
      for (const p of props) p.check(sys, s, e, obs, t);
      successorFingerprint(s, t, scratch, scratch, canonical, fp); // the hashes need not be right, only computed
      s = i % 40 === 39 ? sys.init : t;
    }
    recorder?.takeDelta();
  }

  /** Expands nodes [lo, hi) of level `depth`, checking the properties `active` (indices into the search's). */
  expand(level: number, chunk: number, lo: number, hi: number, depth: number, active: readonly number[], local: boolean): ChunkResult {
    const { sys, obs, stepper, props, canonical, recorder, cache, alphabet, scratch, fp, recent } = this;
    let cand = new Uint32Array(Math.max(64, (hi - lo) * alphabet.length));
    let n = 0;
    const violated: number[] = [];
    const open = active.slice();
    for (let node = lo; node < hi; node++) {
      const st = cache.load(node, depth);
      const h = cache.hashes[depth];
      for (let ei = 0; ei < alphabet.length; ei++) {
        const e = alphabet[ei];
        const t = stepper.step(st, e);
        if (recorder !== null) recorder.step(st, e, obs, t);
        if (t === st && obs.noop) continue; // as in exhaustive.ts: did not apply, nothing to check or add
        for (let a = 0; a < open.length; a++) {
          const p = open[a];
          if (props[p].check(sys, st, e, obs, t) !== null) {
            // Enough to know: the search's thread expands this chunk itself, and finds the exact transition.
            violated.push(p);
            open.splice(a--, 1);
          }
        }
        if (t === st) continue;
        if (recent === null) successorFingerprint(st, t, h, scratch, canonical, fp);
        else if (recent.duplicate(st, t, h, scratch, canonical, fp, node, ei)) continue;
        if (4 * n + 4 > cand.length) {
          const more = new Uint32Array(cand.length * 2);
          more.set(cand);
          cand = more;
        }
        cand[4 * n] = node;
        cand[4 * n + 1] = ei;
        cand[4 * n + 2] = fp[0];
        cand[4 * n + 3] = fp[1];
        n++;
      }
    }
    return { level, chunk, cand, n, violated, coverage: recorder === null ? null : recorder.takeDelta(), error: null, moduleError: false, local };
  }
}

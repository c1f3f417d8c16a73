/**
 * The exhaustive engine: breadth-first search over every execution of a
 * small scope, from the initial state, with a finite event alphabet.
 *
 * - Every transition is checked against every property (a transition into an
 *   already visited state too: the properties are about what the transition
 *   does). The first violation of a property found is a shortest one: all
 *   shorter executions were checked at earlier levels.
 * - States are deduplicated by their 64-bit fingerprint (checker/visited.ts),
 *   which is sound because the model is deterministic: a state's future does
 *   not depend on how it was reached.
 * - States are not kept: a packed search tree (checker/tree.ts) holds each
 *   stored state's parent and event, the frontier is a range of it, and a
 *   state is re-created by replaying its event from its parent's. The path of
 *   the last state re-created is cached, with its per-component hashes, so
 *   consecutive frontier states (siblings, cousins) cost about one step each,
 *   and a child re-hashes only the components its step copied.
 * - The search ends when every property has been violated, when every target
 *   property (the claimed ones, by default in the CLI) has been violated, when a level adds
 *   no new state (the space is exhausted: every property that has not been
 *   violated holds in every reachable state of the scope, at any depth), or
 *   at the depth or state bound (it then holds up to that bound).
 */
import { type Event } from "../model/events.ts";
import { combineComponentHashes } from "../model/fingerprint.ts";
import { Observation } from "../model/observation.ts";
import { type State } from "../model/state.ts";
import { Stepper, type System } from "../model/system.ts";
import { type Property, type Violation } from "../properties/property.ts";
import { BitstateSet, FingerprintSet, type StateSet } from "./visited.ts";
import { SearchTree } from "./tree.ts";
import { type FoundViolation } from "./execute.ts";
import { type CanonicalFingerprint } from "./symmetry.ts";
import { CoverageRecorder, type StepObserver } from "./coverage.ts";
import { ReplayCache, successorFingerprint } from "./replay-cache.ts";
import { ChunkExpander } from "./chunk-expander.ts";
import { RecentSuccessors } from "./recent-successors.ts";
import { type ChunkResult, type SearchPool, type SearchSpec } from "./split-search.ts";
import { checkDeadline } from "./deadline.ts";

/**
 * A level is split only when it has at least this many chunks: on smaller
 * ones the workers' copies of the hot code, still being compiled, cost more
 * than they save (measured on strict's default scope: 470 ms alone, 890 ms
 * split from level 2 chunks up; see docs/exhaustive.md "Worker threads").
 */
const SPLIT_MIN_CHUNKS = 8;

export interface ExhaustiveOptions {
  /** Longest execution explored (events). */
  readonly depth: number;
  /** Stop after this many distinct states. */
  readonly maxStates: number;
  /**
   * The properties whose verdict ends the search (default: all). Once each of
   * them is violated the search stops ("decided"); the others are checked
   * until then and hold only up to the depth reached.
   */
  readonly targets?: readonly boolean[];
  /** Stop before the visited set and the search tree would hold more than this many bytes. */
  readonly maxMemoryBytes?: number;
  /** Bitstate hashing (SPIN's supertrace): 2^bits bits, `hashes` bits per state, in place of the fingerprint set. */
  readonly bitstate?: { readonly bits: number; readonly hashes: number };
  /** Called every 64 expanded states (the callee throttles). */
  readonly onProgress?: (p: SearchProgress) => void;
  /** Symmetry reduction (checker/symmetry.ts): fingerprints a state's canonical representative. Absent: the state itself. */
  readonly canonical?: CanonicalFingerprint | null;
  /**
   * Skip, before fingerprinting, a successor an earlier transition produced
   * word for word (checker/recent-successors.ts; default true). The result is
   * the same either way; false is for the tests that show it.
   */
  readonly recentSuccessors?: boolean;
  /** Told of every transition explored, before the properties are checked (coverage). */
  readonly observer?: StepObserver;
  /**
   * Split the levels over worker threads (checker/split-search.ts): the pool,
   * the spec its workers rebuild this search from, and the nodes per chunk
   * (default: about 4096 transitions). The result is the same as without.
   * Not used with --counterexamples N > 1.
   */
  readonly split?: { readonly pool: SearchPool; readonly spec: SearchSpec; readonly chunkNodes?: number } | null;
  /** Wall-clock deadline (checker/deadline.ts): past it the search throws a DeadlineError naming `where`. */
  readonly deadline?: number;
  readonly where?: string;
  /**
   * Counterexamples to keep per property (--counterexamples N; default 1).
   * With N > 1, after a property's first (shortest) violation the search
   * keeps collecting violations of it whose sequence of event kinds differs,
   * on the same level and the next, until it has N. Where N = 1 would have
   * stopped, only that collection goes on: the verdicts and the figures
   * reported (depth, states, stop reason, coverage) are those of N = 1.
   */
  readonly counterexamples?: number;
}

export interface SearchProgress {
  /** The level being expanded (its states are `depth` events from the initial state). */
  readonly depth: number;
  readonly states: number;
  readonly transitions: number;
  /** States of this level not yet expanded plus those already found for the next. */
  readonly frontier: number;
  /** States of this level expanded so far, and in all. */
  readonly levelDone: number;
  readonly levelSize: number;
  /** States expanded so far (every event applied). */
  readonly expanded: number;
  readonly ms: number;
  /** Which search of a policy this is, when not its main one ("race scope", "device race scope"). */
  readonly scope?: string;
}

export type StopReason = "all-violated" | "decided" | "exhausted" | "depth" | "states" | "memory";

export interface PropertyOutcome {
  readonly property: Property;
  /** The shortest counterexample found (ending at the violating event), or null. */
  readonly events: Event[] | null;
  readonly violation: FoundViolation | null;
  /** Transitions checked and distinct states known when the violation was found (or at the end). */
  readonly states: number;
  readonly transitions: number;
  readonly ms: number;
  /** Further counterexamples (--counterexamples N > 1), each with another sequence of event kinds, in the order found. */
  readonly more: readonly MoreCounterexample[];
}

export interface MoreCounterexample {
  readonly events: Event[];
  readonly violation: FoundViolation;
  readonly states: number;
  readonly transitions: number;
  readonly ms: number;
}

export interface ExhaustiveResult {
  readonly outcomes: PropertyOutcome[];
  /** Transitions checked (every event from every explored state). */
  readonly transitions: number;
  /** Distinct states reached (the visited set). */
  readonly states: number;
  /** Deepest level whose transitions were all checked. */
  readonly depth: number;
  /** The whole reachable space of the scope was explored (with bitstate: no level added a state the bit array took for new). */
  readonly exhausted: boolean;
  readonly stopped: StopReason;
  /** Bytes of the visited set and the search tree (the frontier included) per stored state. */
  readonly bytesPerState: number;
  /** Bytes of the visited set and the search tree at the end. */
  readonly bytes: number;
  /** Bitstate mode: the estimated probability that some state was omitted (BitstateSet.omissionProbability); null otherwise. */
  readonly omission: number | null;
  readonly ms: number;
  /** A split search (opts.split): chunks merged as a worker returned them, and as this thread expanded them for the merge. */
  readonly split: { readonly workerChunks: number; readonly localChunks: number } | null;
}

export function exhaustiveCheck(sys: System, props: readonly Property[], alphabet: readonly Event[], opts: ExhaustiveOptions): ExhaustiveResult {
  const t0 = performance.now();
  const obs = new Observation();
  const stepper = new Stepper(sys, obs);
  const bitstate = opts.bitstate === undefined ? null : new BitstateSet(opts.bitstate.bits, opts.bitstate.hashes);
  const visited: StateSet = bitstate ?? new FingerprintSet(1 << 8);
  const tree = new SearchTree(alphabet.length);
  const maxBytes = opts.maxMemoryBytes ?? Infinity;
  const fp = new Uint32Array(2);
  const nComp = sys.init.length;
  const found: (PropertyOutcome | null)[] = props.map(() => null);
  // Inert properties (nothing to protect in this configuration) hold without a search.
  const inert = props.map((p) => p.inert?.(sys.cfg) === true);
  let open = inert.filter((x) => !x).length;
  // Targets still undecided: a target is decided by a violation, or (holds) only at exhaustion.
  let openTargets = props.filter((_, p) => !inert[p] && (opts.targets?.[p] ?? true)).length;
  let transitions = 0;
  // Properties still checked (neither inert nor violated), so the per-transition loop skips nothing.
  const active = props.map((_, p) => p).filter((p) => !inert[p]);
  let nActive = active.length;
  const removeActive = (a: number) => {
    active.splice(a, 1);
    nActive--;
  };

  // States are re-created from the tree (checker/replay-cache.ts).
  const maxLevel = opts.depth + 1;
  const cache = new ReplayCache(sys, stepper, alphabet, tree, maxLevel);
  const rootHashes = cache.hashes[0];
  const canonical = opts.canonical ?? null;
  if (canonical !== null) canonical(sys.init, rootHashes, fp);
  else combineComponentHashes(rootHashes, nComp, fp);
  visited.add(fp[0], fp[1]);
  tree.push(-1, 0);
  const scratch: number[] = rootHashes.slice();
  const useRecent = opts.recentSuccessors ?? true;
  const recent = useRecent ? new RecentSuccessors() : null;

  let depth = 0;
  let stopped: StopReason = "depth";
  // The current level is tree[levelStart, levelEnd).
  let levelStart = 0;
  let levelEnd = 1;
  let observer = opts.observer ?? null;

  // --counterexamples N > 1: the kind sequences kept per property, the last
  // level each collects on, and the figures of the moment N = 1 would stop.
  const wanted = Math.max(1, opts.counterexamples ?? 1);
  const more: MoreCounterexample[][] = props.map(() => []);
  const kinds: Set<string>[] = props.map(() => new Set<string>());
  const collectUntil: number[] = props.map(() => -1);
  let collecting = 0;
  let frozen: { stopped: StopReason; depth: number; states: number; transitions: number; bytes: number; omission: number | null } | null = null;
  const kindKey = (events: readonly Event[]) => events.map((x) => x.t).join(" ");
  /** Keeps the violation of p at (node, ei) if its kinds are new; true once p has N counterexamples. */
  const collect = (node: number, ei: number, p: number, v: Violation): boolean => {
    const path = tree.path(node);
    path.push(ei);
    const events = path.map((i) => alphabet[i]);
    const key = kindKey(events);
    if (!kinds[p].has(key)) {
      kinds[p].add(key);
      more[p].push({ events, violation: { ...v, step: events.length - 1 }, states: visited.size, transitions, ms: performance.now() - t0 });
    }
    return more[p].length + 1 >= wanted;
  };
  /** Where N = 1 stops: true to stop now; else keep the figures and go on collecting only. */
  const stopOrFreeze = (reason: StopReason, d: number): boolean => {
    if (collecting === 0) return true;
    frozen = { stopped: reason, depth: d, states: visited.size, transitions, bytes: visited.bytes + tree.bytes, omission: bitstate === null ? null : bitstate.omissionProbability() };
    for (let a = nActive - 1; a >= 0; a--) if (found[active[a]] === null) removeActive(a);
    observer = null;
    return false;
  };

  const record = (node: number, ei: number, p: number, v: Violation) => {
    const path = tree.path(node);
    path.push(ei);
    const events = path.map((i) => alphabet[i]);
    found[p] = {
      property: props[p], events, violation: { ...v, step: events.length - 1 },
      states: visited.size, transitions, ms: performance.now() - t0, more: more[p],
    };
    open--;
    if (opts.targets?.[p] ?? true) openTargets--;
  };

  const where = opts.where ?? `${sys.policy.name} (exhaustive engine)`;
  /**
   * Applies every event to tree node `node` of the current level, checking
   * every transition and adding the new states; true when the search stops
   * (its reason and figures set).
   */
  const expand = (node: number): boolean => {
    const s = cache.load(node, depth);
    const h = cache.hashes[depth];
    for (let ei = 0; ei < alphabet.length; ei++) {
      const e = alphabet[ei];
      const t = stepper.step(s, e);
      transitions++;
      if (observer !== null) observer.step(s, e, obs, t);
      if (t === s && obs.noop) continue; // did not apply: no property can fail on it (properties/property.ts)
      for (let a = 0; a < nActive; a++) {
        const p = active[a];
        const v = props[p].check(sys, s, e, obs, t);
        if (v !== null) {
          if (found[p] !== null) {
            // Collecting (--counterexamples N > 1).
            if (collect(node, ei, p, v)) {
              removeActive(a--);
              if (--collecting === 0 && frozen !== null) return true;
            }
            continue;
          }
          record(node, ei, p, v);
          if (wanted > 1) {
            kinds[p].add(kindKey(found[p]!.events!));
            collectUntil[p] = depth + 1;
            collecting++;
          } else removeActive(a--);
          if (open === 0) {
            if (stopOrFreeze("all-violated", depth + 1)) {
              stopped = "all-violated";
              depth++;
              return true;
            }
            break;
          }
          if (openTargets === 0) {
            if (stopOrFreeze("decided", depth)) {
              stopped = "decided"; // depth stays the last fully checked level: the open properties hold up to it
              return true;
            }
            break;
          }
        }
      }
      if (t === s) continue; // nothing changed: already visited
      if (recent === null) successorFingerprint(s, t, h, scratch, canonical, fp);
      else if (recent.duplicate(s, t, h, scratch, canonical, fp, node, ei)) continue; // produced before: a duplicate
      if (maxBytes !== Infinity && visited.bytesAfterAdd + tree.bytesAfterAdd > maxBytes && !visited.has(fp[0], fp[1])) {
        stopped = "memory";
        return true;
      }
      if (!visited.add(fp[0], fp[1])) continue;
      tree.push(node, ei);
      if (visited.size >= opts.maxStates) {
        stopped = "states";
        return true;
      }
    }
    return false;
  };
  const progress = (node: number) => {
    opts.onProgress?.({
      depth, states: visited.size, transitions, frontier: levelEnd - node + tree.size - levelEnd,
      levelDone: node - levelStart, levelSize: levelEnd - levelStart, expanded: node, ms: performance.now() - t0,
    });
  };

  // A split search (checker/split-search.ts): only where its merge is exact.
  const split = opts.split !== undefined && opts.split !== null && wanted === 1 && (observer === null || observer instanceof CoverageRecorder) ? opts.split : null;
  const splitId = split === null ? 0 : split.pool.begin(useRecent ? split.spec : { ...split.spec, recentSuccessors: false });
  // The search's thread expands chunks too while it would wait, with a recorder of its own (a chunk may be discarded).
  const localExpander = split === null ? null
    : new ChunkExpander(sys, stepper, obs, props, alphabet, canonical, observer === null ? null : new CoverageRecorder(sys, props), cache, useRecent ? new RecentSuccessors() : null);
  const chunk = split === null ? 0 : split.chunkNodes ?? Math.max(8, Math.ceil(4096 / Math.max(1, alphabet.length)));
  /**
   * Whether chunk result r can be merged as it is: it violates no property
   * still open, and its successors cannot reach the state or memory bound.
   * Otherwise the search's thread expands the chunk itself.
   */
  const mergeable = (r: ChunkResult): boolean => {
    for (const p of r.violated) if (found[p] === null) return false;
    if (visited.size + r.n >= opts.maxStates) return false;
    return maxBytes === Infinity || visited.bytesAfterAdds(r.n) + tree.bytesAfterAdds(r.n) <= maxBytes;
  };
  const merge = (r: ChunkResult, nodes: number) => {
    const c = r.cand;
    for (let i = 0; i < r.n; i++) if (visited.add(c[4 * i + 2], c[4 * i + 3])) tree.push(c[4 * i], c[4 * i + 1]);
    transitions += nodes * alphabet.length;
    if (observer !== null && r.coverage !== null) (observer as CoverageRecorder).absorb(r.coverage);
  };

  let workerChunks = 0, localChunks = 0;
  search: while (depth < opts.depth) {
    if (split !== null && levelEnd - levelStart >= SPLIT_MIN_CHUNKS * chunk) {
      // The properties still checked (`active` changes as they are violated; a chunk's list must not).
      const checking = active.slice(0, nActive);
      const run = split.pool.level(splitId, levelStart, levelEnd, depth, tree.shared(), checking, chunk, (k, lo, hi) => localExpander!.expand(run.level, k, lo, hi, depth, checking, true));
      try {
        for (let c = 0; c < run.chunks; c++) {
          const r = run.next(c, opts.deadline, where);
          const [lo, hi] = run.range(c);
          if (mergeable(r)) {
            merge(r, hi - lo);
            if (r.local) localChunks++;
            else workerChunks++;
          } else {
            for (let node = lo; node < hi; node++) if (expand(node)) break search;
          }
          progress(hi);
        }
      } finally {
        // Stopped within the level, or failed: the workers claim nothing more of it.
        run.abandon();
      }
    } else {
      for (let node = levelStart; node < levelEnd; node++) {
        if ((node & 255) === 0) checkDeadline(opts.deadline, where);
        if (opts.onProgress !== undefined && ((node - levelStart) & 63) === 63) progress(node);
        if (expand(node)) break search;
      }
    }
    depth++;
    if (collecting > 0) {
      // Properties whose collection window (their first violation's level and the next) has closed.
      for (let a = nActive - 1; a >= 0; a--) {
        const p = active[a];
        if (found[p] !== null && collectUntil[p] < depth) {
          removeActive(a);
          collecting--;
        }
      }
      if (collecting === 0 && frozen !== null) break;
    }
    if (tree.size === levelEnd) {
      stopped = "exhausted";
      break;
    }
    levelStart = levelEnd;
    levelEnd = tree.size;
  }
  const ms = performance.now() - t0;
  // With --counterexamples N > 1, the figures of the moment N = 1 would have stopped.
  const fin = frozen ?? { stopped, depth, states: visited.size, transitions, bytes: visited.bytes + tree.bytes, omission: bitstate === null ? null : bitstate.omissionProbability() };
  const outcomes = props.map((property, p) => found[p] ?? { property, events: null, violation: null, states: fin.states, transitions: fin.transitions, ms, more: [] });
  const bytes = fin.bytes;
  return {
    outcomes, transitions: fin.transitions, states: fin.states, depth: fin.depth,
    exhausted: fin.stopped === "exhausted", stopped: fin.stopped, bytesPerState: bytes / Math.max(1, fin.states), bytes,
    omission: fin.omission, ms, split: split === null ? null : { workerChunks, localChunks },
  };
}

/**
 * The body of a split-search worker thread (checker/split-search.ts): for
 * each chunk of a level it is sent, re-creates the chunk's states from the
 * shared search tree, applies every event of the alphabet, checks the open
 * properties, counts coverage, and posts back the successors' fingerprints
 * in (node, event) order. It keeps no visited set: the search's thread
 * deduplicates, in order.
 */
import { workerData, type MessagePort } from "node:worker_threads";
import { Observation } from "../model/observation.ts";
import { findAnyPolicy } from "../model/policies/index.ts";
import { type Policy } from "../model/policy.ts";
import { makeSystem, Stepper } from "../model/system.ts";
import { findProperty } from "../properties/index.ts";
import { CoverageRecorder } from "./coverage.ts";
import { describeThrown, loadPolicyModuleOnce, PolicyModuleError } from "./policy-module.ts";
import { ReplayCache } from "./replay-cache.ts";
import { chunkRange, type ChunkResult, type SearchSpec, type SplitRequest } from "./split-search.ts";
import { symmetryReduction } from "./cpu-symmetry.ts";
import { ChunkExpander } from "./chunk-expander.ts";
import { RecentSuccessors } from "./recent-successors.ts";
import { TreeView } from "./tree.ts";

interface Search {
  readonly id: number;
  readonly view: TreeView;
  readonly expander: ChunkExpander;
}

/** Transitions of a new search's warm-up walk (ChunkExpander.warmUp): about 0.1 s, before the levels are large enough to split. */
const WARM_UP_STEPS = 20_000;

const { port } = workerData as { port: MessagePort };
/** The search being served, once built (a promise while a module loads). */
let current: Promise<Search> | null = null;

async function policyOf(spec: SearchSpec): Promise<Policy> {
  if (spec.module === null) {
    const p = findAnyPolicy(spec.policy);
    if (p === undefined) throw new Error(`split search: unknown policy ${spec.policy}`);
    return p;
  }
  const loaded = await loadPolicyModuleOnce(spec.module);
  if (!loaded.ok) throw new PolicyModuleError(`--policy-module ${loaded.error}`);
  return loaded.policy;
}

async function build(id: number, spec: SearchSpec): Promise<Search> {
  const policy = await policyOf(spec);
  const sys = makeSystem(spec.config, policy);
  const props = spec.properties.map((name) => {
    const p = findProperty(name);
    if (p === undefined) throw new Error(`split search: unknown property ${name}`);
    return p;
  });
  const obs = new Observation();
  const stepper = new Stepper(sys, obs);
  const view = new TreeView({ parents: new Int32Array(0), events: new Uint8Array(0) });
  const canonical = spec.symmetry ? symmetryReduction(sys, spec.alphabet).canonical : null;
  const recorder = spec.observe ? new CoverageRecorder(sys, props) : null;
  const cache = new ReplayCache(sys, stepper, spec.alphabet, view, spec.maxLevel);
  const recent = spec.recentSuccessors === false ? null : new RecentSuccessors();
  const expander = new ChunkExpander(sys, stepper, obs, props, spec.alphabet, canonical, recorder, cache, recent);
  expander.warmUp(WARM_UP_STEPS);
  return { id, view, expander };
}

function answer(r: ChunkResult): void {
  port.postMessage(r, [r.cand.buffer as ArrayBuffer]);
}

/** Chunk k's answer when expanding it failed. */
function failure(level: number, k: number, e: unknown): ChunkResult {
  return { level, chunk: k, cand: new Uint32Array(0), n: 0, violated: [], coverage: null, error: describeThrown(e), moduleError: e instanceof PolicyModuleError, local: false };
}

port.on("message", (m: SplitRequest) => {
  if (m.t === "search") {
    const p = build(m.id, m.spec);
    p.catch(() => {}); // reported with the first chunk claimed
    current = p;
    return;
  }
  const search = current;
  if (search === null) return;
  const chunks = Math.ceil((m.hi - m.lo) / m.chunk);
  search.then((s) => {
    if (s.id !== m.id) return; // a level of an earlier search
    s.view.update(m.tree);
    for (let k = Atomics.add(m.claim, 0, 1); k < chunks; k = Atomics.add(m.claim, 0, 1)) {
      const [lo, hi] = chunkRange(m.lo, m.hi, m.chunk, k);
      let r: ChunkResult;
      try {
        r = s.expander.expand(m.level, k, lo, hi, m.depth, m.active, false);
      } catch (e) {
        // The search's thread takes chunks in order, so the failure goes with the chunk it happened in.
        answer(failure(m.level, k, e));
        return;
      }
      answer(r);
    }
  }, (e: unknown) => {
    // The search could not be built here: the failure goes with a chunk claimed for it.
    const k = Atomics.add(m.claim, 0, 1);
    if (k < chunks) answer(failure(m.level, k, e));
  });
});

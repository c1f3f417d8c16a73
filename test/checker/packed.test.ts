/**
 * The packed search (a tree of parent and event indices, states re-created by
 * replay, checker/tree.ts) against a reference breadth-first search that
 * keeps every frontier state and its path, as the engine did before: the
 * same verdicts, the same shortest lengths, the same state and transition
 * counts and the same depth, on several policies and scopes. Then the memory
 * bound.
 */
import { describe, expect, it } from "vitest";
import { type Event } from "../../model/events.ts";
import { fingerprintInto } from "../../model/fingerprint.ts";
import { Observation } from "../../model/observation.ts";
import { BROKEN_POLICIES, POLICIES } from "../../model/policies/index.ts";
import { type Policy } from "../../model/policy.ts";
import { type State } from "../../model/state.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { FingerprintSet } from "../../checker/visited.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";

/** The reference: plain BFS with full states and paths in the frontier. */
function reference(policy: Policy, scope: Scope, depthBound: number, maxStates: number) {
  const sys = makeSystem(scope.config, policy);
  const alphabet = alphabetEvents(scope);
  const obs = new Observation();
  const stepper = new Stepper(sys, obs);
  const visited = new FingerprintSet();
  const fp = new Uint32Array(2);
  const inert = PROPERTIES.map((p) => p.inert?.(sys.cfg) === true);
  const lengths: (number | null)[] = PROPERTIES.map(() => null);
  let open = inert.filter((x) => !x).length;
  let transitions = 0;
  fingerprintInto(sys.init, fp);
  visited.add(fp[0], fp[1]);
  let frontier: { s: State; path: Event[] }[] = [{ s: sys.init, path: [] }];
  let depth = 0;
  let stopped = "depth";
  search: while (depth < depthBound) {
    const next: typeof frontier = [];
    for (const { s, path } of frontier) {
      for (const e of alphabet) {
        const t = stepper.step(s, e);
        transitions++;
        for (let p = 0; p < PROPERTIES.length; p++) {
          if (lengths[p] !== null || inert[p]) continue;
          if (PROPERTIES[p].check(sys, s, e, obs, t) !== null) {
            lengths[p] = path.length + 1;
            if (--open === 0) {
              stopped = "all-violated";
              depth++;
              break search;
            }
          }
        }
        if (t === s) continue;
        fingerprintInto(t, fp);
        if (!visited.add(fp[0], fp[1])) continue;
        next.push({ s: t, path: [...path, e] });
        if (visited.size >= maxStates) {
          stopped = "states";
          break search;
        }
      }
    }
    depth++;
    if (next.length === 0) {
      stopped = "exhausted";
      break;
    }
    frontier = next;
  }
  return { states: visited.size, transitions, depth, stopped, lengths };
}

const twoMappings: Scope = { config: { ...DEFAULT_SCOPE.config, maxMappings: 2 }, alphabet: { ...DEFAULT_SCOPE.alphabet, unmapSlots: 2 } };
const twoCpus: Scope = { config: { ...DEFAULT_SCOPE.config, cpus: 2 }, alphabet: { ...DEFAULT_SCOPE.alphabet, kernelSizes: [] } };
const pages: Scope = { ...DEFAULT_SCOPE, alphabet: { ...DEFAULT_SCOPE.alphabet, kmallocSizes: [64], mapRanges: [], pageSizes: [8192] } };

const pick = (names: string[]) => [...POLICIES, ...BROKEN_POLICIES].filter((p) => names.includes(p.name));
const CASES: { name: string; scope: Scope; depth: number; maxStates: number; policies: readonly Policy[] }[] = [
  { name: "default scope", scope: DEFAULT_SCOPE, depth: 40, maxStates: 2_000_000, policies: pick(["passthrough", "strict", "shadow", "damn", "strict-wait-before-invalidate", "morsel-leaf-only-unmount", "coiommu-unpin-before-invalidate"]) },
  { name: "two live mappings, depth 5", scope: twoMappings, depth: 5, maxStates: 2_000_000, policies: pick(["strict", "lazy"]) },
  { name: "two CPUs, depth 5", scope: twoCpus, depth: 5, maxStates: 2_000_000, policies: pick(["strict", "lazy"]) },
  { name: "two-page buffers, 3000-state bound", scope: pages, depth: 40, maxStates: 3000, policies: pick(["lazy", "shadow"]) },
];

describe("the packed search explores exactly what a search keeping full states does", () => {
  for (const c of CASES) {
    it(c.name, () => {
      for (const policy of c.policies) {
        const ref = reference(policy, c.scope, c.depth, c.maxStates);
        const r = exhaustiveCheck(makeSystem(c.scope.config, policy), PROPERTIES, alphabetEvents(c.scope), { depth: c.depth, maxStates: c.maxStates });
        const got = { states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped, lengths: r.outcomes.map((o) => o.events?.length ?? null) };
        expect(got, policy.name).toEqual(ref);
      }
    });
  }
});

describe("--max-memory", () => {
  it("stops before the visited set and the tree pass the bound, and says so", () => {
    const sys = makeSystem(DEFAULT_SCOPE.config, POLICIES.find((p) => p.name === "strict")!);
    const alphabet = alphabetEvents(DEFAULT_SCOPE);
    const full = exhaustiveCheck(sys, PROPERTIES.slice(3, 4), alphabet, { depth: 40, maxStates: 2_000_000 });
    const bound = 48 * 1024;
    const r = exhaustiveCheck(sys, PROPERTIES.slice(3, 4), alphabet, { depth: 40, maxStates: 2_000_000, maxMemoryBytes: bound });
    expect(r.stopped).toBe("memory");
    expect(r.exhausted).toBe(false);
    expect(r.bytes).toBeLessThanOrEqual(bound);
    expect(r.states).toBeGreaterThan(1000);
    expect(r.states).toBeLessThan(full.states);
    expect(full.bytesPerState).toBeLessThanOrEqual(64);
  });
});

/**
 * call-progress: a call that waits on something the machine will do (the
 * IOMMU executing a queued wait, the timer) is not stuck; a call that spins
 * on a lock nobody will drop, or polls a completion that was never queued,
 * is caught, with the shortest counterexample, by both engines.
 */
import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { type State } from "../../model/state.ts";
import { CALLS, CMDQ } from "../../model/geometry.ts";
import { strict } from "../../model/policies/strict.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { strictLockErrorPath } from "../../model/policies/broken.ts";
import { claimsOf, type Policy } from "../../model/policy.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";
import { findProperty } from "../../properties/index.ts";
import { stuck } from "../../properties/call-progress.ts";
import { Executor } from "../../checker/execute.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { randomCheck } from "../../checker/random.ts";
import { alphabetEvents, DEFAULT_SCOPE, raceScopesFor, type Scope } from "../../checker/scope.ts";
import { loadPolicyModule } from "../../checker/policy-module.ts";
import { traceEvents } from "../../checker/trace.ts";

const callProgress = findProperty("call-progress")!;
const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
const UNMAP: Event = { t: "unmap", cpu: 0, k: 0, free: true };
const IOMMU: Event = { t: "iommu" };
const RESUME: Event = { t: "resume", cpu: 0 };

function run(policy: Policy, events: readonly Event[]) {
  const sys = makeSystem(DEFAULT_CONFIG, policy);
  const st = new Stepper(sys, new Observation());
  let s = sys.init;
  for (const e of events) s = st.step(s, e);
  return { sys, s };
}

/** The race scope searched for call-progress; `waits` counts the resumes that found their call still waiting (the antecedent). */
function raceSearch(policy: Policy, maxStates = 100_000) {
  const scope: Scope = raceScopesFor(policy, DEFAULT_SCOPE.config)[0];
  const sys = makeSystem(scope.config, policy);
  let waits = 0;
  const observer = { step: (pre: State, e: Event, obs: Observation, post: State) => void (e.t === "resume" && post === pre && !obs.noop && waits++) };
  const r = exhaustiveCheck(sys, [callProgress], alphabetEvents(scope), { depth: 40, maxStates, observer });
  return { ...r, waits };
}

describe("call-progress", () => {
  it("every policy claims it, listed or not", () => {
    expect(strict.claims).not.toContain("call-progress");
    expect(claimsOf(strict)).toContain("call-progress");
    expect(claimsOf({ ...strict, claims: ["call-progress"] })).toEqual(["call-progress"]);
  });

  it("a strict unmap waiting for its completion is not stuck while the IOMMU has the wait to execute, and returns once it has", () => {
    const { sys, s } = run(strict, [MAP, UNMAP]);
    expect(stuck(sys, s)).toBe(false); // its commands are queued: the IOMMU moves
    const done = run(strict, [MAP, UNMAP, IOMMU, IOMMU]);
    expect(done.s[CMDQ][1]).toBe(0);
    expect(done.s[CALLS][0]).not.toBe(0); // still in progress, the queue empty
    expect(stuck(done.sys, done.s)).toBe(false); // but its resume returns
    const sys0 = makeSystem(DEFAULT_CONFIG, strict);
    expect(stuck(sys0, sys0.init)).toBe(false); // nothing in progress
    const ex = new Executor(sys, [callProgress]).run([MAP, UNMAP, RESUME, IOMMU, IOMMU, RESUME]);
    expect(ex.violation).toBeNull();
  });

  it("lazy's timer work waiting on its flush is not stuck: the timer and the IOMMU finish it", () => {
    const r = raceSearch(lazy, 50_000);
    expect(r.outcomes[0].events).toBeNull();
    expect(r.waits).toBeGreaterThan(0);
  });

  it("strict-lock-error-path: the shortest hang is 7 events in the race scope (a map fails holding the lock, the other CPU's unmap spins)", () => {
    const r = raceSearch(strictLockErrorPath);
    const o = r.outcomes[0];
    expect(o.events).not.toBeNull();
    expect(o.events!.map((e) => e.t)).toEqual(["map", "map", "unmap", "iommu", "iommu", "resume", "resume"]);
    const scope = raceScopesFor(strictLockErrorPath, DEFAULT_SCOPE.config)[0];
    const sys = makeSystem(scope.config, strictLockErrorPath);
    expect(traceEvents(sys, [callProgress], o.events!).explanation).toMatch(/cpu1's unmap of mapping #0 \(phase 0\) never returns: .*the IOMMU's command queue is empty/);
    // Under strict the same events hang nothing.
    expect(new Executor(makeSystem(scope.config, strict), [callProgress]).run(o.events!).violation).toBeNull();
    // The state before the last resume is stuck; the one before the failed map's last resume is not.
    const st = new Stepper(sys, new Observation());
    let s = sys.init;
    const states = [s];
    for (const e of o.events!) states.push((s = st.step(s, e)));
    expect(stuck(sys, states[6])).toBe(true);
    expect(stuck(sys, states[5])).toBe(false);
  });

  it("strict holds it on its race scope's first 100,000 states, where resumed calls wait", () => {
    const r = raceSearch(strict);
    expect(r.outcomes[0].events).toBeNull();
    expect(r.states).toBe(100_000);
    expect(r.waits).toBeGreaterThan(10_000);
  });

  it("the random engine finds strict-lock-error-path's hang on the race scope's machine", () => {
    const scope = raceScopesFor(strictLockErrorPath, DEFAULT_SCOPE.config)[0];
    const r = randomCheck(makeSystem(scope.config, strictLockErrorPath), callProgress, { runs: 10_000, seed: 42, maxEvents: 24 });
    expect(r.verdict).toBe("violated");
    expect(r.events!.at(-1)!.t).toBe("resume");
  });

  it("a strict that queues without checking for room hangs once the buffer fills (2 CPUs, ATS, a 4-entry buffer)", async () => {
    const loaded = await loadPolicyModule(resolve(import.meta.dirname, "../fixtures/outside/out-no-room-check.ts"));
    if (!loaded.ok) throw new Error(loaded.error);
    const config = { ...DEFAULT_SCOPE.config, cpus: 2, maxMappings: 2, cmdQueueEntries: 4, ats: true };
    // No device access or kernel allocation is needed for the hang: the alphabet leaves them out.
    const alphabet = { ...DEFAULT_SCOPE.alphabet, unmapSlots: 2, dmaPages: [0], dmaOffsets: [0], kernelSizes: [], mapRanges: DEFAULT_SCOPE.alphabet.mapRanges?.slice(0, 1) };
    const scope: Scope = { ...DEFAULT_SCOPE, config, alphabet };
    const search = (p: Policy) => exhaustiveCheck(makeSystem(config, p), [callProgress], alphabetEvents(scope), { depth: 11, maxStates: 1_000_000 });
    const r = search(loaded.policy);
    expect(r.outcomes[0].events?.length).toBe(11);
    expect(search(strict).outcomes[0].events).toBeNull();
  });
});

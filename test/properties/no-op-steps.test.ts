/**
 * The contract of Property.check (properties/property.ts) that lets the
 * exhaustive engine skip the checks of a step that did not apply: when the
 * model refuses or rolls back an event (obs.noop, post === pre, no access
 * observed), no property can be violated. Held to every property, on states
 * reached by walks of every built-in, broken, scoped, guest, networking and
 * VM policy, in the default scope (with user events) and the race scopes.
 */
import { describe, expect, test } from "vitest";
import { type Event } from "../../model/events.ts";
import { Observation } from "../../model/observation.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem, Stepper, type System } from "../../model/system.ts";
import { type State } from "../../model/state.ts";
import {
  BROKEN_GUEST_POLICIES, BROKEN_POLICIES, GUEST_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES, SCOPED_POLICIES,
  VM_MORSEL_POLICIES, VTD_BROKEN_POLICIES,
} from "../../model/policies/index.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { type Property } from "../../properties/property.ts";
import { alphabetEvents, DEFAULT_SCOPE, policyScope, raceScopesFor, type Scope } from "../../checker/scope.ts";

const WITH_USER: Scope = {
  config: DEFAULT_SCOPE.config,
  alphabet: { ...DEFAULT_SCOPE.alphabet, userTouchPages: [0, 1], userGetPages: [0], userPutPages: [0], xdpTxSlots: 1 },
};

/**
 * Walks `steps` applied events from the initial state (a fixed pseudo-random
 * choice, restarting every 30 steps); at every state reached, applies every
 * event and, where the step did not apply, asks every property. Returns the
 * refused steps seen and the first property that flagged one.
 */
function refusedSteps(sys: System, alphabet: readonly Event[], props: readonly Property[], steps: number): { refused: number; flagged: string | null } {
  const obs = new Observation();
  const st = new Stepper(sys, obs);
  let s: State = sys.init;
  let x = 7;
  let refused = 0;
  for (let i = 0; i < steps; i++) {
    for (const e of alphabet) {
      const t = st.step(s, e);
      if (!obs.noop) continue;
      expect(t, `${sys.policy.name}: a refused ${e.t} changed the state`).toBe(s);
      refused++;
      for (const p of props) {
        const v = p.check(sys, s, e, obs, t);
        if (v !== null) return { refused, flagged: `${p.name} on a refused ${e.t} (${obs.reason}): ${v.message}` };
      }
    }
    // Move on by an event that applies, if any.
    if (i % 30 === 29) s = sys.init;
    for (let tries = 0; tries < alphabet.length; tries++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const t = st.step(s, alphabet[(x >>> 8) % alphabet.length]);
      if (!obs.noop) {
        s = t;
        break;
      }
    }
  }
  return { refused, flagged: null };
}

const ALL: readonly Policy[] = [
  ...POLICIES, ...BROKEN_POLICIES, ...VTD_BROKEN_POLICIES, ...SCOPED_POLICIES, ...GUEST_POLICIES, ...BROKEN_GUEST_POLICIES,
  ...NET_POLICIES, ...NET_BROKEN_POLICIES, ...VM_MORSEL_POLICIES,
];

describe("no property fails on a step that did not apply", () => {
  test.each(ALL.map((p) => [p.name, p] as const))("%s", (_name, policy) => {
    let refused = 0;
    // VT-d-only policies (the device-TLB variants) on a VT-d machine.
    const base = policy.iommus === undefined || policy.iommus.includes("amd-v1") ? DEFAULT_SCOPE.config : { ...DEFAULT_SCOPE.config, iommu: policy.iommus[0] };
    for (const scope of [{ ...WITH_USER, config: base }, ...raceScopesFor(policy, base)]) {
      const sc = policyScope(policy, scope);
      const r = refusedSteps(makeSystem(sc.config, policy), alphabetEvents(sc), PROPERTIES, 60);
      expect(r.flagged).toBeNull();
      refused += r.refused;
    }
    // A witness: the walks did reach refused steps to ask about.
    expect(refused).toBeGreaterThan(100);
  });

  test("a property that judges a refused event is caught", () => {
    const judgesRefusedMaps: Property = {
      name: "no-leak", summary: "flags a map the CPU refused",
      check: (_sys, _pre, e, obs) => (e.t === "map" && obs.noop ? { property: "no-leak", message: "refused map" } : null),
    };
    const policy = POLICIES.find((p) => p.name === "strict")!;
    const scope = raceScopesFor(policy, DEFAULT_SCOPE.config)[0];
    const r = refusedSteps(makeSystem(scope.config, policy), alphabetEvents(scope), [judgesRefusedMaps], 60);
    expect(r.flagged).toMatch(/^no-leak on a refused map/);
  });
});

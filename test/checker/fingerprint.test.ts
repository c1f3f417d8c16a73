/** States are canonically hashable: equal states hash equal, different ones (practically) differ. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { componentHashInto, componentHashUpdate, fingerprint } from "../../model/fingerprint.ts";
import { Observation } from "../../model/observation.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { type State } from "../../model/state.ts";
import { eventsArbitrary } from "../../checker/arbitraries.ts";

function statesOf(policy = strict, runs = 1000): State[] {
  const sys = makeSystem(DEFAULT_CONFIG, policy);
  const st = new Stepper(sys, new Observation());
  const out: State[] = [];
  for (const events of fc.sample(eventsArbitrary(DEFAULT_CONFIG, 24), { numRuns: runs, seed: 3 })) {
    let s = sys.init;
    for (const e of events) out.push((s = st.step(s, e)));
  }
  return out;
}

const key = (s: State) => s.map((c) => c.join(",")).join("|");

describe("fingerprint", () => {
  it("is a function of the state's words: equal states have equal fingerprints", () => {
    const a = statesOf(lazy, 100);
    const b = statesOf(lazy, 100);
    expect(a.length).toBe(b.length);
    a.forEach((s, i) => expect(fingerprint(s)).toBe(fingerprint(b[i])));
  });

  it("distinguishes the distinct states of a few hundred runs (no collisions)", () => {
    const byKey = new Map<string, bigint>();
    for (const s of statesOf()) byKey.set(key(s), fingerprint(s));
    const fps = new Set(byKey.values());
    expect(byKey.size).toBeGreaterThan(1000);
    expect(fps.size).toBe(byKey.size);
  });

  it("changes when any single word changes", () => {
    const s = makeSystem(DEFAULT_CONFIG, strict).init;
    const base = fingerprint(s);
    for (let c = 0; c < s.length; c++) {
      for (let i = 0; i < s[c].length; i += Math.max(1, Math.floor(s[c].length / 7))) {
        const t = s.map((x) => x.slice());
        t[c][i] ^= 1;
        expect(fingerprint(t), `component ${c} word ${i}`).not.toBe(base);
      }
    }
  });

  it("updates a component's hash word by word to exactly the hash computed from scratch", () => {
    const word = fc.oneof(fc.integer({ min: -4, max: 40 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 80 }), fc.array(fc.tuple(fc.nat(), word), { maxLength: 12 }), fc.integer({ min: -2, max: 2 }), (prev, edits, grow) => {
        const next = prev.slice();
        for (const [i, w] of edits) if (next.length > 0) next[i % next.length] = w;
        if (grow > 0) for (let k = 0; k < grow; k++) next.push(k);
        else next.length = Math.max(0, next.length + grow);
        const h: number[] = [0, 0];
        componentHashInto(prev, h, 0);
        const fresh = new Uint32Array(2), updated = new Uint32Array(2);
        componentHashInto(next, fresh, 0);
        componentHashUpdate(prev, h, 0, next, updated, 0);
        expect([...updated]).toEqual([...fresh]);
        // In place, as the symmetry canonicalisers use it.
        componentHashUpdate(prev, h, 0, next, h, 0);
        expect(h.map((x) => x >>> 0)).toEqual([...fresh]);
      }),
      { numRuns: 2000 },
    );
  });
});

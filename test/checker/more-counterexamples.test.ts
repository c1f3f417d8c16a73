/**
 * `check --counterexamples N`: up to N counterexamples per cell, distinct by
 * their sequence of event kinds, from both engines. With N > 1 the first
 * counterexample and every verdict and figure are those of N = 1; each
 * further one violates the property at its last event, and the random
 * engine's are found again from their recorded seed and path.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Event } from "../../model/events.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { type Property } from "../../properties/property.ts";
import { exhaustiveCheck, type ExhaustiveResult } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { randomCheck } from "../../checker/random.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { readCounterexampleFile } from "../../counterexamples/file.ts";
import { runMain } from "../cli/in-process.ts";

const ALPHABET = alphabetEvents(DEFAULT_SCOPE);
const prop = (n: string): Property => findProperty(n)!;
const kinds = (events: readonly Event[]) => events.map((e) => e.t).join(" ");

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every figure of a search that N must not change (not the times). */
function figures(r: ExhaustiveResult) {
  return {
    states: r.states, transitions: r.transitions, depth: r.depth, exhausted: r.exhausted, stopped: r.stopped, bytes: r.bytes, omission: r.omission,
    outcomes: r.outcomes.map((o) => ({ property: o.property.name, events: o.events, violation: o.violation, states: o.states, transitions: o.transitions })),
  };
}

/** Each counterexample violates `p` at its last event (and not before). */
function expectViolatesAtEnd(p: Property, events: readonly Event[], config = DEFAULT_SCOPE.config) {
  const r = new Executor(makeSystem(config, lazy), [p]).run(events);
  expect(r.violation?.property).toBe(p.name);
  expect(r.violation?.step).toBe(events.length - 1);
}

describe("exhaustive engine, --counterexamples N", () => {
  const sys = makeSystem(DEFAULT_SCOPE.config, lazy);

  it("N = 1 keeps one; N = 3 changes no figure and adds distinct kind sequences of the same length or one more", () => {
    // iotlb-coherence alone: N = 1 stops at its first violation (all-violated), so N = 3 goes on collecting past that point.
    const props = [prop("iotlb-coherence")];
    const one = exhaustiveCheck(sys, props, ALPHABET, { depth: 40, maxStates: 2_000_000 });
    const three = exhaustiveCheck(sys, props, ALPHABET, { depth: 40, maxStates: 2_000_000, counterexamples: 3 });
    expect(one.stopped).toBe("all-violated");
    expect(one.outcomes[0].more).toEqual([]);
    expect(figures(three)).toEqual(figures(one));
    const first = three.outcomes[0].events!;
    const more = three.outcomes[0].more;
    expect(more).toHaveLength(2);
    const keys = [first, ...more.map((m) => m.events)].map(kinds);
    expect(new Set(keys).size).toBe(3);
    for (const m of more) {
      expect(m.events.length).toBeGreaterThanOrEqual(first.length);
      expect(m.events.length).toBeLessThanOrEqual(first.length + 1);
      expect(m.violation.step).toBe(m.events.length - 1);
      expectViolatesAtEnd(props[0], m.events);
    }
  });

  it("a search that goes on anyway (a depth bound, several properties) keeps every figure of N = 1", () => {
    const props = ["page-confinement", "byte-confinement", "iotlb-coherence", "no-leak", "availability"].map(prop);
    const one = exhaustiveCheck(sys, props, ALPHABET, { depth: 6, maxStates: 2_000_000 });
    const two = exhaustiveCheck(sys, props, ALPHABET, { depth: 6, maxStates: 2_000_000, counterexamples: 2 });
    expect(figures(two)).toEqual(figures(one));
    // The same with bitstate hashing: the omission estimate too is N = 1's.
    const bitstate = { bits: 20, hashes: 3 };
    expect(figures(exhaustiveCheck(sys, [prop("iotlb-coherence")], ALPHABET, { depth: 40, maxStates: 2_000_000, bitstate, counterexamples: 3 })))
      .toEqual(figures(exhaustiveCheck(sys, [prop("iotlb-coherence")], ALPHABET, { depth: 40, maxStates: 2_000_000, bitstate })));
    for (const o of two.outcomes) {
      if (o.events === null) continue;
      expect(o.more.length).toBeLessThanOrEqual(1);
      for (const m of o.more) {
        expect(kinds(m.events)).not.toBe(kinds(o.events));
        expectViolatesAtEnd(o.property, m.events);
      }
    }
  });
});

describe("random engine, --counterexamples N", () => {
  const sys = makeSystem(DEFAULT_CONFIG, lazy);
  const p = prop("iotlb-coherence");
  const opts = { runs: 2000, seed: 42, maxEvents: 24 };

  it("keeps N = 1's counterexample first and adds distinct ones, each found again from its seed and path", () => {
    const one = randomCheck(sys, p, opts);
    const three = randomCheck(sys, p, { ...opts, counterexamples: 3 });
    expect(one.more).toEqual([]);
    expect(three.events).toEqual(one.events);
    expect(three.path).toBe(one.path);
    expect(three.runs).toBe(one.runs);
    expect(three.more).toHaveLength(2);
    expect(new Set([one.events!, ...three.more.map((m) => m.events)].map(kinds)).size).toBe(3);
    for (const m of three.more) {
      expect(m.violation.step).toBe(m.events.length - 1);
      expectViolatesAtEnd(p, m.events, DEFAULT_CONFIG);
      // `check --seed 42 --path P` finds the same sequence.
      const again = randomCheck(sys, p, { ...opts, path: m.path! });
      expect(again.events).toEqual(m.events);
      expect(again.swarm).toEqual(m.swarm);
    }
  });

  it("a property that holds has none", () => {
    const r = randomCheck(sys, prop("pt-page-safety"), { ...opts, runs: 50, counterexamples: 3 });
    expect(r.verdict).toBe("holds");
    expect(r.more).toEqual([]);
  });
});

describe("check --counterexamples N (command line)", () => {
  it("writes the further ones beside the first as .N.json and lists them in --json; without the flag, no list", async () => {
    const out = mkdtempSync(join(tmpdir(), "dmacheck-cx-"));
    dirs.push(out);
    const args = ["check", "--policy", "lazy", "--property", "iotlb-coherence", "--runs", "2000", "--no-timing", "--workers", "1", "--json", "--out", out];
    const plain = await runMain(args);
    expect(plain.status).toBe(0);
    for (const r of JSON.parse(plain.stdout).results as Record<string, unknown>[]) expect(r).not.toHaveProperty("counterexamples");
    const r = await runMain([...args, "--counterexamples", "2"]);
    expect(r.status).toBe(0);
    const results = JSON.parse(r.stdout).results as { engine: string; counterexample: string; counterexamples: { file: string; length: number; kinds: string[] }[] }[];
    expect(results.map((x) => x.engine)).toEqual(["random", "exhaustive"]);
    const names = { random: ["lazy--iotlb-coherence.json", "lazy--iotlb-coherence.2.json"], exhaustive: ["lazy--iotlb-coherence.exhaustive.json", "lazy--iotlb-coherence.exhaustive.2.json"] };
    for (const x of results) {
      expect(x.counterexamples.map((c) => c.file)).toEqual(names[x.engine as "random" | "exhaustive"].map((n) => join(out, n)));
      expect(x.counterexamples[0].file).toBe(x.counterexample);
      expect(x.counterexamples[0].kinds).not.toEqual(x.counterexamples[1].kinds);
      for (const c of x.counterexamples) {
        const cx = readCounterexampleFile(c.file);
        expect(cx.ok).toBe(true);
        if (cx.ok) expect(cx.value.events.map((e) => e.t)).toEqual(c.kinds);
        const rep = await runMain(["replay", c.file]);
        expect(rep.status, c.file).toBe(0);
      }
    }
    // The text report names the further files too.
    const text = await runMain(args.filter((a) => a !== "--json").concat(["--counterexamples", "2"]));
    expect(text.stdout).toContain(`also (`);
    expect(text.stdout).toContain(join(out, "lazy--iotlb-coherence.exhaustive.2.json"));
    expect(readFileSync(join(out, "lazy--iotlb-coherence.2.json"), "utf8")).toContain('"engine": "random"');
  });
});

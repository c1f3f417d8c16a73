// The state decoder over every corpus counterexample (counterexamples/corpus/):
// every step decodes and diffs to well-formed lines, and every built-in
// policy with private words names each of them exactly once.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCounterexampleFile } from "../../../counterexamples/file.ts";
import { stateDiffs } from "../../../checker/state-diffs.ts";
import { changeLine } from "../../../model/decode/diff.ts";
import { DEFAULT_CONFIG } from "../../../model/config.ts";
import {
  BROKEN_GUEST_POLICIES, BROKEN_POLICIES, findAnyPolicy, GUEST_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES, SCOPED_POLICIES, VTD_BROKEN_POLICIES,
} from "../../../model/policies/index.ts";
import { makeSystem } from "../../../model/system.ts";
import { REPO } from "../../cli/helpers.ts";

const CORPUS = join(REPO, "counterexamples", "corpus");

describe("decoding the corpus", () => {
  it("gives well-formed change lines at every step of every counterexample", () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) {
      const r = readCounterexampleFile(join(CORPUS, f));
      if (!r.ok) throw new Error(r.error);
      const cx = r.value;
      const d = stateDiffs(makeSystem(cx.config, findAnyPolicy(cx.policy)!), cx.events, cx.violation.step);
      expect(d.steps, f).toHaveLength(cx.violation.step + 1);
      for (const step of d.steps) {
        for (const c of step) expect(changeLine(c), f).toMatch(/^[+~-] [a-z-]+ \S[^\n]*: \S/);
        for (const c of step) expect(changeLine(c), f).not.toMatch(/undefined|NaN/);
      }
    }
  });
});

describe("policy words by name", () => {
  const all = [...POLICIES, ...BROKEN_POLICIES, ...VTD_BROKEN_POLICIES, ...GUEST_POLICIES, ...BROKEN_GUEST_POLICIES, ...NET_POLICIES, ...NET_BROKEN_POLICIES, ...SCOPED_POLICIES];
  it("every policy with private words names each word once", () => {
    for (const p of all) {
      const words = typeof p.stateWords === "function" ? p.stateWords(DEFAULT_CONFIG) : p.stateWords ?? 0;
      if (words === 0) continue;
      const names = p.stateWordNames?.(DEFAULT_CONFIG);
      expect(names, p.name).toBeDefined();
      expect(names!.length, p.name).toBe(words);
      expect(new Set(names).size, p.name).toBe(words);
    }
  });
});

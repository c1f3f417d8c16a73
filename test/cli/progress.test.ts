/**
 * Progress of the exhaustive search: shown on a terminal, at most 4 times a
 * second, with depth, states, frontier, states/s and an estimate; nothing at
 * all when the output is not a terminal.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { progressReporter, progressText } from "../../cli/check.ts";
import { runCli } from "./helpers.ts";
import { checkPolicyExhaustively } from "../../checker/matrix.ts";
import { DEFAULT_SCOPE } from "../../checker/scope.ts";
import { strict } from "../../model/policies/strict.ts";
import { findProperty } from "../../properties/index.ts";

const P = { depth: 12, states: 40_000, transitions: 1_000_000, frontier: 9_000, levelDone: 3_000, levelSize: 8_000, expanded: 20_000, ms: 2_000 };

describe("exhaustive progress", () => {
  it("names depth, states, frontier, states/s and the time left in the level", () => {
    const t = progressText(P);
    expect(t).toContain("depth 12");
    expect(t).toContain("40,000 states");
    expect(t).toContain("frontier 9,000");
    expect(t).toContain("20,000 states/s");
    expect(t).toContain("level 37%");
    expect(t).toContain("~1 s left"); // 5,000 states left at 0.1 ms each
  });

  it("names the race pass's search it is in", () => {
    expect(progressText({ ...P, scope: "device race scope" })).toMatch(/^ \| device race scope: depth 12, 40,000 states/);
    expect(progressText(P)).toMatch(/^ \| depth 12/);
  });

  it("is reported by the race pass's searches too, each named", () => {
    const seen = new Set<string>();
    checkPolicyExhaustively({ policy: strict, module: null }, [findProperty("pt-page-safety")!], {
      scope: DEFAULT_SCOPE, depth: 40, maxStates: 2_000_000, timing: false, race: { base: DEFAULT_SCOPE.config, maxStates: 3_000 },
      onProgress: (p) => seen.add(p.scope ?? "main"),
    });
    expect([...seen].sort()).toEqual(["device race scope", "main", "race scope"]);
  });

  it("updates at most every 250 ms", () => {
    let clock = 0;
    const shown: string[] = [];
    const report = progressReporter((s) => shown.push(s), () => clock);
    for (clock = 0; clock < 1000; clock += 50) report(P);
    expect(shown.length).toBe(4);
  });

  it("prints nothing when stdout and stderr are not terminals", () => {
    const out = mkdtempSync(join(tmpdir(), "dmacheck-progress-"));
    const r = runCli(["check", "--engine", "exhaustive", "--policy", "lazy", "--property", "pt-page-safety", "--depth", "12", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toContain("states/s");
  });
});

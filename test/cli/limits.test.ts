// Every user-controlled size has a documented maximum (checker/limits.ts,
// docs/limits.md), refused at decode time in one line naming the flag or the
// JSON path; --time-limit ends a long search with a clear message.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runMain, type MainResult } from "./in-process.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { alphabetSize, FLAG_LIMITS, MAX_ALPHABET_EVENTS, MAX_ALPHABET_LIST, MAX_FILE_EVENTS, MAX_UNMAP_SLOTS } from "../../checker/limits.ts";
import { REPO } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function json(name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
}

function expectUsageError(r: MainResult, ...mentions: string[]): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
  expect(r.stderr).not.toContain("internal error");
  for (const m of mentions) expect(r.stderr).toContain(m);
}

const scopeCheck = (file: string) => runMain(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "page-confinement", "--workers", "1", "--out", join(dir, "out"), "--scope", file]);

describe("limits", () => {
  it("refuses each bounded flag one above its maximum, naming the flag", async () => {
    for (const [flag, max] of Object.entries(FLAG_LIMITS)) {
      const cmd = flag === "--ios" ? ["cost"] : ["check"];
      expectUsageError(await runMain([...cmd, flag, String(max + 1)]), flag, String(max));
    }
  });

  it("refuses scope files beyond the alphabet's limits, naming the JSON path", async () => {
    expectUsageError(await scopeCheck(json("slots.json", { alphabet: { unmapSlots: 3_000_000 } })), "$.alphabet.unmapSlots", String(MAX_UNMAP_SLOTS));
    const many = Array.from({ length: MAX_ALPHABET_LIST + 1 }, (_, i) => i);
    expectUsageError(await scopeCheck(json("list.json", { alphabet: { dmaPages: many } })), "$.alphabet.dmaPages", `at most ${MAX_ALPHABET_LIST} entries`);
    expectUsageError(await scopeCheck(json("page.json", { alphabet: { pageSizes: [1e12] } })), "$.alphabet.pageSizes[0]");
    const wide = { config: { cpus: 8, devices: 16 }, alphabet: { dmaPages: many.slice(0, 64), dmaOffsets: many.slice(0, 64) } };
    expectUsageError(await scopeCheck(json("wide.json", wide)), "$.alphabet", `more than ${MAX_ALPHABET_EVENTS}`);
    expectUsageError(await scopeCheck(json("depth.json", { depth: 1_000_000 })), "$.depth");
    expectUsageError(await scopeCheck(json("states.json", { maxStates: 1e12 })), "$.maxStates");
  });

  it("refuses a counterexample file with more events than the limit", async () => {
    const cx = JSON.parse(readFileSync(join(REPO, "counterexamples/corpus/lazy--leftover-data.json"), "utf8"));
    const events = Array.from({ length: MAX_FILE_EVENTS + 1 }, () => ({ t: "iommu" }));
    expectUsageError(await runMain(["replay", json("long.json", { ...cx, events })]), "$.events", `at most ${MAX_FILE_EVENTS}`);
  });

  it("counts the alphabet exactly as alphabetEvents builds it", () => {
    const scopes: Scope[] = [
      DEFAULT_SCOPE,
      { config: { ...DEFAULT_SCOPE.config, cpus: 2, devices: 3, untrusted: true, ats: true }, alphabet: { ...DEFAULT_SCOPE.alphabet, unmapSlots: 3, pageSizes: [8192], mapRanges: [{ src: "pages", size: 8192, offset: 0, len: 64 }] } },
      { config: { ...DEFAULT_SCOPE.config, guestMemory: "devdax" }, alphabet: { ...DEFAULT_SCOPE.alphabet, kernelSizes: [], tickMs: [1, 2] } },
      { config: { ...DEFAULT_SCOPE.config, userPages: 2 }, alphabet: { ...DEFAULT_SCOPE.alphabet, userTouchPages: [0, 1] } },
    ];
    for (const s of scopes) expect(alphabetSize(s)).toBe(alphabetEvents(s).length);
  });

  it("--time-limit ends a long exhaustive search with one line instead of a hang", async () => {
    const r = await runMain(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "page-confinement", "--workers", "1", "--out", join(dir, "out"),
      "--frames", "64", "--max-mappings", "4", "--max-states", "100000000", "--depth", "1000", "--time-limit", "0.5"]);
    expectUsageError(r, "stopped: time limit of 0.5 s", "strict (exhaustive engine)");
    expect(r.ms).toBeLessThan(15_000);
  });

  it("--time-limit ends a long random search the same way", async () => {
    const r = await runMain(["check", "--engine", "random", "--policy", "strict", "--property", "page-confinement", "--workers", "1",
      "--runs", "10000000", "--time-limit", "0.5", "--out", join(dir, "out")]);
    expectUsageError(r, "stopped: time limit of 0.5 s", "strict x page-confinement (random engine)");
    expect(r.ms).toBeLessThan(15_000);
  });
});

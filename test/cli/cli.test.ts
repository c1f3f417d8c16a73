// End-to-end tests of the dmacheck command line (cli/*.ts): `check`, `replay`
// and `list` run as child processes exactly as a user runs them, checking
// exit statuses, stdout/stderr, and the counterexample files written.
//
// Every spawn costs about a second (tsx start-up), so checks use few runs and
// one policy x property cell, and results several tests need (the lazy
// counterexample) are computed once, on first use.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COUNTEREXAMPLE_FORMAT, type Counterexample } from "../../counterexamples/schema.ts";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { DEFAULT_SCOPE } from "../../checker/scope.ts";
import { runCli, type CliResult } from "./helpers.ts";
import { ALL_PROPERTIES, PROPERTIES } from "../../properties/index.ts";

// ---- helpers ------------------------------------------------------------------

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh empty directory under the OS temp directory (removed after the file's tests). */
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "dmacheck-cli-"));
  tmpDirs.push(d);
  return d;
}

/** Memoizes a thunk: the spawn runs for the first test that needs it. */
function once<T>(f: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = f();
      done = true;
    }
    return value;
  };
}

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, "utf8"));
}

function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2) + "\n");
  return path;
}

/** Bad input: status 2, nothing on stdout, exactly one `dmacheck: ` line on stderr, no stack frames. */
function expectUsageError(r: CliResult, mentions: readonly (string | RegExp)[]): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain("internal error");
  for (const m of mentions) {
    if (typeof m === "string") expect(r.stderr).toContain(m);
    else expect(r.stderr).toMatch(m);
  }
}

const RESULT_FIELDS = [
  "engine", "device", "policy", "property", "claimed", "verdict", "runs", "states", "depth", "exhausted", "bound", "pass", "counterexample", "length", "ms",
  "explanation", "vacuous", "coverage",
];

// lazy does not claim page-confinement, so finding its violation is exit 0.
// Seed 1: with swarm testing and a quarter of the maps ranges, seed 1 finds the
// first violating sequence in run 31 (seeds 7, 8 and 12 not within 300 runs),
// well inside --runs 300.
const LAZY = ["check", "--engine", "random", "--policy", "lazy", "--property", "page-confinement", "--runs", "300", "--seed", "1"];
const LAZY_FILE = "lazy--page-confinement.json";

const lazyCheck = once(() => {
  const out = tmp();
  const r = runCli([...LAZY, "--out", out, "--json"]);
  return { out, r, file: join(out, LAZY_FILE) };
});

/** The lazy counterexample file, as written by `check`. */
function lazyCounterexample(): { file: string; cx: Counterexample } {
  const { r, file } = lazyCheck();
  expect(r.status, r.stderr).toBe(0);
  return { file, cx: readJson(file) };
}

/** A hand-written valid counterexample (lazy: read through a stale IOTLB entry), independent of the engine. */
function handWritten(): Counterexample {
  return {
    format: COUNTEREXAMPLE_FORMAT,
    policy: "lazy",
    policyModule: null,
    property: "page-confinement",
    config: { ...DEFAULT_CONFIG },
    events: [
      { t: "map", cpu: 0, dev: 1, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "dma", dev: 1, write: false, page: 15, offset: 0, len: 1 },
      { t: "unmap", cpu: 0, k: 0, free: false },
      { t: "dma", dev: 1, write: false, page: 15, offset: 0, len: 1 },
    ],
    violation: { step: 3, explanation: "stale IOTLB read" },
    found: { engine: "random", seed: 1, path: null, runs: 1, ms: 0 },
  };
}

// ---- check --------------------------------------------------------------------

describe("check", () => {
  it("--json reports a violation of an unclaimed property with a short counterexample file, exit 0", () => {
    const { out, r, file } = lazyCheck();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ tool: "dmacheck", engine: "random", random: { seed: 1, runs: 300, swarm: true } });
    expect(Array.isArray(doc.results)).toBe(true);
    expect(doc.results).toHaveLength(1);
    const res = doc.results[0];
    expect(Object.keys(res).sort()).toEqual([...RESULT_FIELDS].sort());
    expect(res).toMatchObject({ policy: "lazy", property: "page-confinement", claimed: false, verdict: "violated" });
    expect(res.runs).toBeGreaterThanOrEqual(1);
    expect(res.runs).toBeLessThanOrEqual(300);
    expect(res.length).toBeGreaterThanOrEqual(1);
    expect(res.length).toBeLessThanOrEqual(8);
    expect(typeof res.ms).toBe("number");
    expect(typeof res.explanation).toBe("string");
    // The counterexample is a file in --out, and that file is what it says it is.
    expect(typeof res.counterexample).toBe("string");
    expect(resolve(dirname(res.counterexample))).toBe(resolve(out));
    expect(resolve(res.counterexample)).toBe(resolve(file));
    expect(existsSync(res.counterexample)).toBe(true);
    expect(readdirSync(out)).toEqual([LAZY_FILE]);
    const cx = readJson(res.counterexample);
    expect(cx).toMatchObject({ format: COUNTEREXAMPLE_FORMAT, policy: "lazy", policyModule: null, property: "page-confinement" });
    expect(cx.events).toHaveLength(res.length);
    expect(cx.violation.step).toBe(res.length - 1); // shrunk to end at the violating event
    expect(cx.violation.explanation).toBe(res.explanation);
    expect(cx.found).toMatchObject({ engine: "random", seed: 1, runs: res.runs });
    // The swarm the sequence was drawn with: a factor per event kind, the CPUs and devices used.
    expect(Object.keys(cx.found.swarm).sort()).toEqual(["cpus", "devices", "weights"]);
    expect(cx.found.swarm.weights.dma).toBeGreaterThan(0);
    expect(cx.found.swarm.cpus).toBeLessThanOrEqual(cx.config.cpus);
  });

  it("the machine flags and --scope set the random engine's machine too; --no-swarm draws with the plain weights", () => {
    const base = ["check", "--engine", "random", "--policy", "strict", "--property", "iotlb-coherence", "--runs", "50", "--no-timing"];
    const flags = runCli([...base, "--cpus", "1", "--frames", "16", "--json", "--out", tmp()]);
    expect(flags.status, flags.stderr).toBe(0);
    expect(JSON.parse(flags.stdout).random.config).toMatchObject({ ...DEFAULT_CONFIG, cpus: 1, frames: 16 });
    const text = runCli([...base, "--cpus", "1", "--frames", "16", "--out", tmp()]);
    expect(text.stdout).toContain("50 runs of up to 24 events per cell, on 16 frames, 1 CPU, 2 devices, 16 IOVA pages, 8 live mappings");
    const dir = tmp();
    const scope = join(dir, "scope.json");
    writeFileSync(scope, JSON.stringify({ config: { ...DEFAULT_SCOPE.config, cpus: 2 } }));
    const scoped = runCli([...base, "--scope", scope, "--max-mappings", "2", "--json", "--out", dir]);
    expect(scoped.status, scoped.stderr).toBe(0);
    expect(JSON.parse(scoped.stdout).random.config).toEqual({ ...DEFAULT_SCOPE.config, cpus: 2, maxMappings: 2 });
    expectUsageError(runCli([...base, "--cpus", "9", "--out", tmp()]), ["cpus must be an integer in 1..8"]);
    // Without swarm, seed 1 finds lazy's violation in run 15 (45 before a deferred policy's sequences drew stale-access
    // triples, 135 before a quarter of the maps became ranges); no swarm is recorded.
    const out = tmp();
    const plain = runCli(["check", "--engine", "random", "--policy", "lazy", "--property", "page-confinement", "--runs", "300", "--seed", "1", "--no-swarm", "--json", "--out", out]);
    expect(plain.status, plain.stderr).toBe(0);
    const doc = JSON.parse(plain.stdout);
    expect(doc.random.swarm).toBe(false);
    expect(doc.results[0]).toMatchObject({ verdict: "violated", runs: 15 });
    expect(readJson(join(out, LAZY_FILE)).found.swarm).toBeUndefined();
  });

  it("exits 1 when a claimed property is violated (strict-free-before-wait x page-confinement)", () => {
    const out = tmp();
    const r = runCli(["check", "--engine", "random", "--policy", "strict-free-before-wait", "--property", "page-confinement", "--runs", "2000", "--no-timing", "--out", out]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^strict-free-before-wait\s+VIOLATED\* \(\d+\)$/m);
    expect(r.stdout).toContain("strict-free-before-wait x page-confinement (CLAIMED)");
    expect(r.stdout).toContain("1 claimed cell was violated.");
    expect(r.stdout).not.toContain("\x1b["); // NO_COLOR
    const file = join(out, "strict-free-before-wait--page-confinement.json");
    expect(readdirSync(out)).toEqual(["strict-free-before-wait--page-confinement.json"]);
    expect(r.stdout).toContain(file);
    expect(readJson(file)).toMatchObject({ policy: "strict-free-before-wait", property: "page-confinement" });
  });

  it("reports holds with the run count and no counterexample (strict x iotlb-coherence)", () => {
    const out = tmp();
    const r = runCli(["check", "--engine", "random", "--policy", "strict", "--property", "iotlb-coherence", "--runs", "200", "--json", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.results).toHaveLength(1);
    const res = doc.results[0];
    expect(Object.keys(res).sort()).toEqual([...RESULT_FIELDS].sort());
    expect(res).toEqual({
      engine: "random", device: ["trusted"], policy: "strict", property: "iotlb-coherence", claimed: true, verdict: "holds", runs: 200,
      states: null, depth: null, exhausted: null, bound: null, pass: null, counterexample: null, length: null, ms: res.ms, explanation: null,
      vacuous: false, coverage: res.coverage,
    });
    expect(typeof res.ms).toBe("number");
    // Its witness: accesses through a cached translation were made (docs/coverage.md).
    expect(res.coverage.antecedent.reached).toBeGreaterThan(0);
    expect(readdirSync(out)).toEqual([]); // nothing written when nothing was found
  });

  it("is deterministic with --no-timing: identical stdout and counterexample file; another --seed still replays", () => {
    const out = tmp();
    const file = join(out, LAZY_FILE);
    const args = [...LAZY, "--out", out, "--no-timing", "--json"];
    const a = runCli(args);
    expect(a.status, a.stderr).toBe(0);
    const fileA = readFileSync(file, "utf8");
    rmSync(file); // make the second run write it afresh
    const b = runCli(args);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(readFileSync(file, "utf8")).toBe(fileA);
    const doc = JSON.parse(a.stdout);
    expect(doc.results[0].verdict).toBe("violated");
    expect(doc.results[0].ms).toBe(0);
    expect(JSON.parse(fileA).found.ms).toBe(0);

    // Another seed, same --out: the existing counterexample is replaced, and the new one replays.
    const c = runCli([...LAZY.slice(0, -1), "2", "--out", out, "--no-timing", "--json"]);
    expect(c.status, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).results[0].verdict).toBe("violated");
    expect(readJson(file).found.seed).toBe(2);
    const rep = runCli(["replay", file]);
    expect(rep.status, rep.stdout + rep.stderr).toBe(0);
    expect(rep.stdout).toContain("reproduced: yes");
  });

  it("--out refuses to overwrite a file that is not a counterexample (exit 2, file untouched)", () => {
    const out = tmp();
    const mine = join(out, LAZY_FILE);
    writeFileSync(mine, "keep me");
    const r = runCli([...LAZY, "--out", out, "--json"]);
    expectUsageError(r, [mine]);
    expect(readFileSync(mine, "utf8")).toBe("keep me");
    expect(readdirSync(out)).toEqual([LAZY_FILE]); // no temporary file left behind
  });

  // Regression: the cleanup of the temporary file used to throw ENOTDIR out of
  // writeCounterexampleFile, which surfaced as an internal error (exit 3).
  it("--out naming a regular file is bad input (exit 2, one line)", () => {
    const dir = tmp();
    const notADir = join(dir, "results.txt");
    writeFileSync(notADir, "not a directory");
    const r = runCli([...LAZY, "--out", notADir]);
    expectUsageError(r, [notADir]);
    expect(readFileSync(notADir, "utf8")).toBe("not a directory");
  });
});

// ---- exhaustive engine ------------------------------------------------------------

describe("check --engine exhaustive", () => {
  const lazyExhaustive = once(() => {
    const out = tmp();
    const r = runCli(["check", "--engine", "exhaustive", "--policy", "lazy", "--json", "--no-timing", "--out", out]);
    return { out, r };
  });

  it("proves the holds cells over the whole default scope and finds shortest counterexamples", () => {
    const { out, r } = lazyExhaustive();
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.engine).toBe("exhaustive");
    expect(doc.exhaustive.searches).toHaveLength(1);
    expect(doc.exhaustive.searches[0]).toMatchObject({ policy: "lazy", stopped: "exhausted" });
    const byProp = Object.fromEntries(doc.results.map((x: { property: string }) => [x.property, x]));
    for (const res of doc.results) expect(Object.keys(res).sort()).toEqual([...RESULT_FIELDS].sort());
    expect(byProp["pt-page-safety"]).toMatchObject({ engine: "exhaustive", verdict: "holds", exhausted: true, bound: "exhausted", runs: null, counterexample: null });
    expect(byProp["pt-page-safety"].states).toBeGreaterThan(1000);
    expect(byProp["iotlb-coherence"]).toMatchObject({ verdict: "violated", length: 4, depth: 4, exhausted: false });
    expect(byProp["byte-confinement"]).toMatchObject({ verdict: "violated", length: 2 });
    const file = join(out, "lazy--iotlb-coherence.exhaustive.json");
    expect(byProp["iotlb-coherence"].counterexample).toBe(file);
    expect(readJson(file)).toMatchObject({ policy: "lazy", property: "iotlb-coherence", found: { engine: "exhaustive", seed: null, path: null } });
  });

  it("its counterexample files replay", () => {
    const { out } = lazyExhaustive();
    const r = runCli(["replay", join(out, "lazy--iotlb-coherence.exhaustive.json")]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^reproduced: yes$/m);
  });

  it("--guest and --viommu select guest policies, and then vm-confinement is checked by default", () => {
    const r = runCli(["check", "--engine", "exhaustive", "--guest", "strict,passthrough", "--viommu", "nested", "--policy", "strict", "--depth", "2", "--json", "--no-timing", "--out", tmp()]);
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout).results as { policy: string; property: string; claimed: boolean }[];
    expect([...new Set(results.map((x) => x.policy))]).toEqual(["strict", "guest-strict@nested", "guest-passthrough@nested"]);
    expect(results.filter((x) => x.property === "vm-confinement").map((x) => [x.policy, x.claimed])).toEqual([
      ["strict", false], ["guest-strict@nested", true], ["guest-passthrough@nested", true],
    ]);
    const plain = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--depth", "2", "--json", "--no-timing", "--out", tmp()]);
    expect((JSON.parse(plain.stdout).results as { property: string }[]).some((x) => x.property === "vm-confinement")).toBe(false);
  });

  it("says which bound it stopped at when the scope is not exhausted", () => {
    const r = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "iotlb-coherence", "--depth", "3", "--json", "--out", tmp()]);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout).results[0];
    expect(res).toMatchObject({ verdict: "holds", exhausted: false, bound: "depth", depth: 3 });
    const text = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "iotlb-coherence", "--depth", "3", "--out", tmp()]);
    expect(text.stdout).toMatch(/holds\* \(<=3\)/);
    expect(text.stdout).toContain("depth bound 3 reached");
  });

  it("--device sets the device attributes in force for both engines, and every result names them", () => {
    const r = runCli(["check", "--policy", "strict", "--property", "page-confinement", "--device", "untrusted,ats", "--runs", "300", "--json", "--out", tmp()]);
    expect(r.status, r.stderr).toBe(1); // strict claims page-confinement; a forged translated request breaks it
    const doc = JSON.parse(r.stdout);
    expect(doc.device).toEqual(["untrusted", "ats"]);
    expect(doc.results).toHaveLength(2);
    for (const res of doc.results) expect(res).toMatchObject({ device: ["untrusted", "ats"], verdict: "violated", length: 1 });
    const blocked = runCli(["check", "--policy", "strict", "--property", "page-confinement", "--device", "untrusted,ats,acs-tb", "--runs", "300", "--json", "--out", tmp()]);
    expect(blocked.status, blocked.stderr).toBe(0);
    expectUsageError(runCli(["check", "--device", "sideways"]), ["--device", '"sideways"']);
    expectUsageError(runCli(["check", "--device", "trusted,untrusted"]), ["--device"]);
  });

  it("a scope file with a wrong or unknown field is one line naming it, exit 2", () => {
    const dir = tmp();
    const wrong = join(dir, "wrong.json");
    writeFileSync(wrong, JSON.stringify({ config: { frames: "x" } }));
    expectUsageError(runCli(["check", "--engine", "exhaustive", "--scope", wrong]), [wrong, "$.config.frames", "expected an integer"]);
    const unknown = join(dir, "unknown.json");
    writeFileSync(unknown, JSON.stringify({ alphabet: { kmallocSize: [64] } }));
    expectUsageError(runCli(["check", "--engine", "exhaustive", "--scope", unknown]), [unknown, "$.alphabet.kmallocSize", "unknown field"]);
    const range = join(dir, "range.json");
    writeFileSync(range, JSON.stringify({ config: { frames: 2 } }));
    expectUsageError(runCli(["check", "--engine", "exhaustive", "--scope", range]), [range, "$.config", "frames"]);
  });

  it("a scope file and scope flags change the search", () => {
    const dir = tmp();
    const scope = join(dir, "scope.json");
    writeFileSync(scope, JSON.stringify({ config: { frames: 12 }, alphabet: { kmallocSizes: [64, 2048] }, depth: 5 }));
    const r = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "page-confinement", "--scope", scope, "--max-mappings", "2", "--json", "--out", dir]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.exhaustive.scope.config).toMatchObject({ frames: 12, maxMappings: 2 });
    expect(doc.exhaustive.scope.alphabet.kmallocSizes).toEqual([64, 2048]);
    // Both live mappings can be unmapped (the alphabet has an unmap for each).
    expect(doc.exhaustive.scope.alphabet.unmapSlots).toBe(2);
    expect(doc.exhaustive.depth).toBe(5);
    expect(doc.results[0]).toMatchObject({ verdict: "holds", depth: 5, bound: "depth" });
  });
});

describe("check --max-mappings", () => {
  it("makes every live mapping unmappable, from the flag or from a scope file", () => {
    const dir = tmp();
    const flag = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "pt-page-safety", "--max-mappings", "3", "--depth", "2", "--json", "--out", dir]);
    expect(flag.status, flag.stderr).toBe(0);
    expect(JSON.parse(flag.stdout).exhaustive.scope.alphabet.unmapSlots).toBe(3);
    const scope = join(dir, "scope.json");
    writeFileSync(scope, JSON.stringify({ config: { maxMappings: 2 }, depth: 2 }));
    const file = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "pt-page-safety", "--scope", scope, "--json", "--out", dir]);
    expect(JSON.parse(file.stdout).exhaustive.scope.alphabet.unmapSlots).toBe(2);
    // An explicit alphabet.unmapSlots in the file wins.
    writeFileSync(scope, JSON.stringify({ config: { maxMappings: 2 }, alphabet: { unmapSlots: 1 }, depth: 2 }));
    const explicit = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "pt-page-safety", "--scope", scope, "--json", "--out", dir]);
    expect(JSON.parse(explicit.stdout).exhaustive.scope.alphabet.unmapSlots).toBe(1);
  });
});

describe("check: the race pass", () => {
  it("runs after the default scope, marks what it found, and stays off for a scope of your own unless --race", () => {
    const dir = tmp();
    const base = ["check", "--engine", "exhaustive", "--policy", "strict-range-no-offset", "--property", "dma-integrity", "--race-states", "2000", "--no-timing"];
    const on = runCli([...base, "--json", "--out", dir]);
    expect(on.status, on.stderr).toBe(1); // a claimed property is violated
    const d = JSON.parse(on.stdout);
    // Bounded by states, not by the main search's depth 40 (1000: the most --depth allows).
    expect(d.exhaustive.race).toEqual({ maxStates: 2000, depth: 1000 });
    expect(d.exhaustive.searches[0].race).toMatchObject({ cpus: 2, maxMappings: 2, devices: 1 });
    expect(d.results[0]).toMatchObject({ verdict: "violated", pass: "race", length: 2 });
    const replay = runCli(["replay", d.results[0].counterexample]);
    expect(replay.status, replay.stderr).toBe(0);
    const text = runCli([...base, "--out", dir]);
    expect(text.stdout).toContain("VIOLATED* (2, race)");
    expect(text.stdout).toMatch(/race scope \(2 CPUs, 1 device, 10 frames, 2 live mappings\): [\d,]+ states/);
    const off = JSON.parse(runCli([...base, "--no-race", "--json", "--out", dir]).stdout);
    expect([off.exhaustive.race, off.results[0].verdict, off.results[0].pass]).toEqual([null, "holds", "main"]);
    const scope = join(dir, "scope.json");
    writeFileSync(scope, JSON.stringify({ config: { frames: 10 } }));
    const own = JSON.parse(runCli([...base, "--scope", scope, "--json", "--out", dir]).stdout);
    expect(own.exhaustive.race).toBeNull();
    const forced = JSON.parse(runCli([...base, "--scope", scope, "--race", "--json", "--out", dir]).stdout);
    expect(forced.results[0]).toMatchObject({ verdict: "violated", pass: "race" });
    expectUsageError(runCli(["check", "--race-states", "0"]), ["--race-states"]);
    // --depth, when given, bounds the race searches too.
    const shallow = JSON.parse(runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "pt-page-safety", "--depth", "3", "--race-states", "2000", "--no-timing", "--json", "--out", dir]).stdout);
    expect(shallow.exhaustive.race).toEqual({ maxStates: 2000, depth: 3 });
    expect(shallow.exhaustive.searches[0].races.map((r: { depth: number; stopped: string }) => [r.depth, r.stopped])).toEqual([[3, "depth"], [3, "depth"]]);
    expect(d.exhaustive.searches[0].races).toEqual([d.exhaustive.searches[0].race]); // decided in the race scope: no device race scope
  });

  it("searches the device race scope after the race scope, one line and one races[] entry each", () => {
    const args = ["check", "--engine", "exhaustive", "--policy", "strict", "--property", "pt-page-safety", "--race-states", "500", "--no-timing", "--out", tmp()];
    const text = runCli(args);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain("    race scope (2 CPUs, 1 device, 10 frames, 2 live mappings): 500 states, state bound");
    expect(text.stdout).toContain("    device race scope (1 CPU, 2 devices, 10 frames, 2 live mappings): 500 states, state bound");
    const s = JSON.parse(runCli([...args, "--json"]).stdout).exhaustive.searches[0];
    expect(s.races.map((r: { cpus: number; devices: number; states: number }) => [r.cpus, r.devices, r.states])).toEqual([[2, 1, 500], [1, 2, 500]]);
    expect(s.race).toEqual(s.races[0]);
  });
});

describe("check --max-memory and --bitstate", () => {
  it("say where the search stopped and how likely an omission is, in JSON", () => {
    const dir = tmp();
    // Two live mappings: lazy's space is far larger than 1 MiB of fingerprints and tree.
    const mem = runCli(["check", "--engine", "exhaustive", "--policy", "lazy", "--property", "pt-page-safety", "--max-mappings", "2", "--max-memory", "1", "--json", "--no-timing", "--out", dir]);
    expect(mem.status, mem.stderr).toBe(0);
    const m = JSON.parse(mem.stdout);
    expect(m.exhaustive.maxMemory).toBe(1);
    expect(m.exhaustive.searches[0]).toMatchObject({ stopped: "memory", omission: null });
    expect(m.results[0]).toMatchObject({ verdict: "holds", exhausted: false, bound: "memory" });
    const bit = runCli(["check", "--engine", "exhaustive", "--policy", "strict", "--property", "pt-page-safety", "--bitstate", "20", "--out", dir]);
    expect(bit.status, bit.stderr).toBe(0);
    expect(bit.stdout).toMatch(/bitstate: holds within [\d,]+ states, probability of an omission about /);
    expect(bit.stdout).toContain("holds* (bitstate)");
    expectUsageError(runCli(["check", "--engine", "exhaustive", "--bitstate", "40"]), ["--bitstate", "8..32"]);
    expectUsageError(runCli(["check", "--engine", "exhaustive", "--bitstate-hashes", "2"]), ["--bitstate-hashes", "--bitstate"]);
  });
});

// ---- replay -------------------------------------------------------------------

describe("replay", () => {
  it("re-executes the counterexample written by check: step table, VIOLATION, reproduced: yes, exit 0", () => {
    const { file, cx } = lazyCounterexample();
    const r = runCli(["replay", file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const n = cx.events.length;
    expect(r.stdout).toContain(`lazy x page-confinement: ${n} event${n === 1 ? "" : "s"}`);
    expect(r.stdout).toMatch(/^step\s+event\s+what happened$/m);
    const rows = r.stdout.split("\n").filter((l) => /^\s*\d+  \S/.test(l));
    expect(rows.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual(cx.events.map((_, i) => i + 1));
    expect(r.stdout).toContain(`VIOLATION of page-confinement at step ${cx.violation.step + 1}: `);
    expect(r.stdout).toMatch(/^reproduced: yes$/m);
  });

  it("--json gives reproduced: true and a trace with one step per event", () => {
    const { file, cx } = lazyCounterexample();
    const r = runCli(["replay", file, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      policy: "lazy", property: "page-confinement", reproduced: true, mismatch: null,
      recordedStep: cx.violation.step, step: cx.violation.step,
    });
    expect(doc.trace).toHaveLength(cx.events.length);
    expect(doc.trace.map((s: { event: unknown }) => s.event)).toEqual(cx.events);
    expect(doc.trace.map((s: { step: number }) => s.step)).toEqual(cx.events.map((_, i) => i + 1));
  });

  it("--vitest prints a test that replays exactly the recorded counterexample", () => {
    const { file, cx } = lazyCounterexample();
    const r = runCli(["replay", file, "--vitest"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("replayCounterexample");
    expect(r.stdout).toMatch(/^import \{ replayCounterexample \} from "dmacheck";$/m);
    expect(r.stdout).toMatch(/^test\(/m);
    expect(r.stdout).toContain(`expect(result.trace.violation?.step).toBe(${cx.violation.step});`);
    const embedded = /const counterexample = ([\s\S]*?) as const;/.exec(r.stdout);
    expect(embedded).not.toBeNull();
    expect(JSON.parse(embedded![1])).toEqual(cx);
  });

  it("exits 1 with reproduced: NO when the last event is removed", () => {
    const { cx } = lazyCounterexample();
    const dir = tmp();
    const events = cx.events.slice(0, -1);
    expect(events.length).toBeGreaterThan(0);
    const edited = writeJson(dir, "edited.json", { ...cx, events, violation: { ...cx.violation, step: events.length - 1 } });
    const r = runCli(["replay", edited]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^reproduced: NO \(no violation of page-confinement in \d+ events\)$/m);
    expect(r.stdout).not.toContain("VIOLATION");
  });

  it("exits 1 with reproduced: NO when the recorded step is not where the violation happens", () => {
    const { cx } = lazyCounterexample();
    expect(cx.violation.step).toBeGreaterThan(0);
    const dir = tmp();
    const edited = writeJson(dir, "wrong-step.json", { ...cx, violation: { ...cx.violation, step: cx.violation.step - 1 } });
    const r = runCli(["replay", edited]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(`reproduced: NO (page-confinement is violated at step ${cx.violation.step + 1}, not at the recorded step ${cx.violation.step})`);
  });
});

// ---- bad input ------------------------------------------------------------------

describe("bad input: one line on stderr, exit 2", () => {
  const files = once(() => {
    const dir = tmp();
    const good = handWritten();
    const badCpu: any = structuredClone(good);
    // An event that has a cpu field (the dma at index 1 has none; it would be an unknown field).
    badCpu.events[1] = { t: "unmap", cpu: "0", k: 0, free: false };
    writeFileSync(join(dir, "invalid.json"), "{ \"format\": ");
    return {
      dir,
      missing: join(dir, "missing.json"),
      invalid: join(dir, "invalid.json"),
      format: writeJson(dir, "format.json", { ...good, format: "dmacheck/counterexample@2" }),
      cpu: writeJson(dir, "cpu.json", badCpu),
    };
  });

  const cases: { name: string; args: () => string[]; mentions: () => (string | RegExp)[] }[] = [
    { name: "unknown policy", args: () => ["check", "--policy", "nope", "--runs", "10"], mentions: () => ["--policy", '"nope"'] },
    { name: "unknown property", args: () => ["check", "--policy", "strict", "--property", "nope", "--runs", "10"], mentions: () => ["--property", '"nope"'] },
    { name: "--runs 0", args: () => ["check", "--policy", "strict", "--runs", "0"], mentions: () => ["--runs", '"0"'] },
    { name: "--runs abc", args: () => ["check", "--policy", "strict", "--runs", "abc"], mentions: () => ["--runs", '"abc"'] },
    { name: "unknown flag", args: () => ["check", "--frobnicate"], mentions: () => ["--frobnicate"] },
    { name: "unknown --guest", args: () => ["check", "--guest", "nope", "--runs", "10"], mentions: () => ["--guest", '"nope"'] },
    { name: "unknown --viommu", args: () => ["check", "--viommu", "nope", "--runs", "10"], mentions: () => ["--viommu", '"nope"'] },
    { name: "replay of a missing file", args: () => ["replay", files().missing], mentions: () => [files().missing, "ENOENT"] },
    { name: "replay of invalid JSON", args: () => ["replay", files().invalid], mentions: () => [files().invalid, "not valid JSON"] },
    { name: "replay of a wrong format tag", args: () => ["replay", files().format], mentions: () => [files().format, "$.format", "dmacheck/counterexample@2"] },
    { name: "replay of a string cpu", args: () => ["replay", files().cpu], mentions: () => [`${files().cpu}: $.events[1].cpu: `, '"0"'] },
    { name: "list foo", args: () => ["list", "foo"], mentions: () => ['"foo"'] },
    {
      name: "--policy-module of a missing file",
      args: () => ["check", "--policy-module", "test/fixtures/does-not-exist.ts", "--runs", "10", "--out", files().dir],
      mentions: () => ["--policy-module", "test/fixtures/does-not-exist.ts"],
    },
    {
      name: "--policy-module without unmap",
      args: () => ["check", "--policy-module", "test/fixtures/broken-module.ts", "--runs", "10", "--out", files().dir],
      mentions: () => ["test/fixtures/broken-module.ts", /\bunmap\b/],
    },
    {
      name: "--policy-module without a default export",
      args: () => ["check", "--policy-module", "test/fixtures/no-default.js", "--runs", "10", "--out", files().dir],
      mentions: () => ["test/fixtures/no-default.js", "default export"],
    },
  ];

  it.each(cases)("$name", ({ args, mentions }) => {
    expectUsageError(runCli(args()), mentions());
  });

  it("the hand-written counterexample the file cases start from is itself valid", () => {
    // Guards the cases above: they must fail because of the one edit, not the base file.
    const dir = tmp();
    const r = runCli(["replay", writeJson(dir, "good.json", handWritten())]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("reproduced: yes");
  });

  // Regression: `dmacheck` with no command used to print the usage and exit 0.
  it("no command at all is bad input (exit 2, one line)", () => {
    const r = runCli([]);
    expectUsageError(r, ["missing command"]);
  });

  // Regression: a throwing user policy used to be reported as an internal error (exit 3).
  it("a user policy that throws is reported as a problem of that module (exit 2)", () => {
    const dir = tmp();
    const r = runCli(["check", "--policy-module", "test/fixtures/throwing-policy.ts", "--property", "page-confinement", "--runs", "50", "--out", dir]);
    expectUsageError(r, ["test/fixtures/throwing-policy.ts"]);
  });
});

// ---- user policy modules --------------------------------------------------------

describe("--policy-module", () => {
  const MODULE = "test/fixtures/my-strict.ts";

  const byteCheck = once(() => {
    const out = tmp();
    const r = runCli(["check", "--engine", "random", "--policy-module", MODULE, "--property", "byte-confinement", "--runs", "300", "--json", "--out", out]);
    return { out, r, file: join(out, "my-strict--byte-confinement.json") };
  });

  it("checks a user policy like a built-in one", () => {
    const out = tmp();
    const r = runCli(["check", "--engine", "random", "--policy-module", MODULE, "--property", "iotlb-coherence,pt-page-safety", "--runs", "300", "--json", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.results.map((x: { policy: string; property: string }) => [x.policy, x.property])).toEqual([
      ["my-strict", "iotlb-coherence"],
      ["my-strict", "pt-page-safety"],
    ]);
    for (const res of doc.results) {
      expect(Object.keys(res).sort()).toEqual([...RESULT_FIELDS].sort());
      expect(res).toMatchObject({ claimed: true, verdict: "holds", runs: 300, counterexample: null, length: null });
    }
    expect(readdirSync(out)).toEqual([]);
  });

  it("finds a violation of an unclaimed property; the file records the module", () => {
    const { r, file } = byteCheck();
    expect(r.status, r.stderr).toBe(0); // my-strict does not claim byte-confinement
    const res = JSON.parse(r.stdout).results[0];
    expect(res).toMatchObject({ policy: "my-strict", property: "byte-confinement", claimed: false, verdict: "violated", counterexample: file });
    const cx = readJson(file) as { policyModule: string };
    expect(cx).toMatchObject({ policy: "my-strict", property: "byte-confinement" });
    // Recorded relative to the counterexample file, so the two can move together.
    expect(resolve(dirname(file), cx.policyModule)).toBe(resolve(MODULE));
  });

  it("replay reloads the module and reproduces the violation", () => {
    const { r: check, file } = byteCheck();
    expect(check.status, check.stderr).toBe(0);
    const r = runCli(["replay", file]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("my-strict x byte-confinement");
    expect(r.stdout).toMatch(/^reproduced: yes$/m);
  });

  // Regression: policyModule used to be recorded as typed (relative to where
  // check ran); it is now relative to the counterexample file.
  it("replay works from another working directory", () => {
    const { r: check, file } = byteCheck();
    expect(check.status, check.stderr).toBe(0);
    const r = runCli(["replay", file], { cwd: tmp() });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^reproduced: yes$/m);
  });
});

// ---- list -----------------------------------------------------------------------

describe("list", () => {
  const POLICY_NAMES = ["passthrough", "strict", "lazy"];
  const PROPERTY_NAMES = ALL_PROPERTIES.map((p) => p.name); // vm-confinement too, though not in the default run
  /** Names at the start of an indented listing line. */
  const listed = (stdout: string) => stdout.split("\n").map((l) => /^ {2}([a-z][a-z0-9-]*) /.exec(l)?.[1]).filter((x) => x !== undefined);

  it("lists policies and properties", () => {
    const r = runCli(["list"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(listed(r.stdout)).toEqual(expect.arrayContaining([...POLICY_NAMES, ...PROPERTY_NAMES]));
  });

  it("list policies names the policies only", () => {
    const r = runCli(["list", "policies"]);
    expect(r.status, r.stderr).toBe(0);
    const names = listed(r.stdout);
    expect(names.slice(0, 3)).toEqual(POLICY_NAMES);
    expect(names).toContain("strict-free-before-wait");
    for (const p of PROPERTY_NAMES) expect(names).not.toContain(p);
  });

  it("list properties names the properties only", () => {
    const r = runCli(["list", "properties"]);
    expect(r.status, r.stderr).toBe(0);
    expect(listed(r.stdout)).toEqual(PROPERTY_NAMES);
  });
});

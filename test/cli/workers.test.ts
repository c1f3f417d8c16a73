// `dmacheck check --workers N`: cells on worker threads give byte-identical
// output to a single-threaded run under --no-timing (stdout and every
// counterexample file), a user's policy module included; and --no-reduction
// changes no verdict or length.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, runCli } from "./helpers.ts";

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "dmacheck-workers-"));
  tmpDirs.push(d);
  return d;
}

const MODULE = resolve(REPO, "test/fixtures/my-strict.ts");
// Both engines, two built-in policies and a user module, a scope where slot symmetry applies (two mappings, both unmappable).
const ARGS = [
  "check", "--policy", "lazy,passthrough", "--policy-module", MODULE, "--property", "page-confinement,byte-confinement,pin-safety",
  "--runs", "100", "--max-mappings", "2", "--depth", "4", "--no-timing", "--json", "--out", "out",
];

function run(extra: string[]) {
  const cwd = tmp();
  const r = runCli([...ARGS, ...extra], { cwd });
  const files = readdirSync(join(cwd, "out")).sort();
  return { r, files, contents: files.map((f) => readFileSync(join(cwd, "out", f), "utf8")) };
}

describe("--workers", () => {
  it("2 workers: the same stdout and counterexample files as 1", () => {
    const one = run(["--workers", "1"]);
    const two = run(["--workers", "2"]);
    expect(one.r.stderr).toBe("");
    expect([0, 1]).toContain(one.r.status);
    expect(two.r.status).toBe(one.r.status);
    expect(two.r.stdout).toBe(one.r.stdout);
    expect(two.files).toEqual(one.files);
    expect(two.contents).toEqual(one.contents);
    const doc = JSON.parse(one.r.stdout) as { results: { engine: string; policy: string }[] };
    expect(doc.results.filter((x) => x.policy === "my-strict").length).toBe(6); // the user's module ran in the workers too
    expect(new Set(doc.results.map((x) => x.engine))).toEqual(new Set(["random", "exhaustive"]));
    expect(one.files.some((f) => f.endsWith(".exhaustive.json"))).toBe(true);
  });

  it("a user policy that throws in a worker is a one-line error, exit 2", () => {
    const r = runCli(["check", "--policy-module", resolve(REPO, "test/fixtures/throwing-policy.ts"), "--property", "page-confinement",
      "--runs", "50", "--workers", "2", "--out", join(tmp(), "out")]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("throwing-policy.ts");
  });

  it("one policy: its search split over 2 threads gives the same stdout and files as 1 thread", () => {
    // One policy with workers to spare splits its exhaustive search's levels (checker/split-search.ts);
    // the race scope's 20,000 states make levels large enough to split. Both engines, so the random row runs beside it.
    const args = ["check", "--policy", "strict", "--runs", "100", "--race-states", "20000", "--no-timing", "--json", "--out", "out"];
    const runIn = (extra: string[]) => {
      const cwd = tmp();
      const r = runCli([...args, ...extra], { cwd });
      const files = readdirSync(join(cwd, "out")).sort();
      return { r, files, contents: files.map((f) => readFileSync(join(cwd, "out", f), "utf8")) };
    };
    const one = runIn(["--workers", "1"]);
    const two = runIn(["--workers", "2"]);
    expect(one.r.stderr).toBe("");
    expect(two.r.stderr).toBe("");
    expect(two.r.status).toBe(one.r.status);
    expect(two.r.stdout).toBe(one.r.stdout);
    expect(two.files).toEqual(one.files);
    expect(two.contents).toEqual(one.contents);
    const doc = JSON.parse(one.r.stdout) as { exhaustive: { searches: { races: { states: number }[] }[] } };
    expect(doc.exhaustive.searches[0].races[0].states).toBe(20000);
  });

  it("rejects --workers 0", () => {
    const r = runCli(["check", "--workers", "0"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--workers");
  });
});

describe("--no-reduction", () => {
  it("gives the same verdicts and lengths as the reduced search", () => {
    // Two mapping slots, both unmappable: slot symmetry applies (checker/symmetry.ts).
    const scope = join(tmp(), "scope.json");
    writeFileSync(scope, JSON.stringify({ config: { maxMappings: 2 }, alphabet: { unmapSlots: 2, dmaPages: [0, 1] }, depth: 5 }));
    const args = ["check", "--engine", "exhaustive", "--policy", "lazy,damn", "--scope", scope, "--json", "--no-timing", "--workers", "1"];
    const a = runCli([...args, "--out", join(tmp(), "out")]);
    const b = runCli([...args, "--no-reduction", "--out", join(tmp(), "out")]);
    type Doc = { results: { policy: string; property: string; verdict: string; length: number | null }[] };
    const key = (d: Doc) => d.results.map((x) => `${x.policy} ${x.property} ${x.verdict} ${x.length}`);
    expect(a.stderr).toBe("");
    expect(a.status).toBe(b.status);
    // The reduced search stored fewer states for damn (its pools make mirror-image slot states reachable).
    type Searches = { exhaustive: { searches: { policy: string; states: number; symmetry: boolean }[] } };
    const damn = (d: Searches) => d.exhaustive.searches.find((x) => x.policy === "damn")!;
    const [ra, rb] = [damn(JSON.parse(a.stdout) as Searches), damn(JSON.parse(b.stdout) as Searches)];
    expect(ra.states).toBeLessThan(rb.states);
    expect([ra.symmetry, rb.symmetry]).toEqual([true, false]);
    expect(key(JSON.parse(a.stdout) as Doc)).toEqual(key(JSON.parse(b.stdout) as Doc));
  });
});

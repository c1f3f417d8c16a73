// The CLI against hostile input (docs/limits.md): fast-check generates
// malformed counterexample, scope and cost files and flag lists and runs them
// through main(argv, io) in-process. Every run must end within a time bound
// with exit 0 or 1 and valid output (JSON that parses, finite numbers, nothing
// on stderr), or exit 2 with exactly one line on stderr; never an internal
// error or a stack trace, and the input files are left as they were.
//
// DMACHECK_FUZZ_RUNS sets the number of cases (default 200, a few seconds);
// `npm run fuzz` runs 10 000.
import fc from "fast-check";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runMain, type MainResult } from "./in-process.ts";
import { REPO } from "./helpers.ts";

const RUNS = Number(process.env.DMACHECK_FUZZ_RUNS ?? 200);
/** Every case runs with --time-limit 1 (check) or is small; this bounds the whole run, loaded machine included. */
const CASE_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), "dmacheck-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const corpus = (name: string): unknown => JSON.parse(readFileSync(join(REPO, "counterexamples", "corpus", name), "utf8"));
const SEEDS_CX = ["lazy--leftover-data.json", "strict-free-before-wait--page-confinement.json", "fns--byte-confinement.json"].map(corpus);
const DEFAULT_COSTS = JSON.parse(readFileSync(join(REPO, "costs", "default-costs.json"), "utf8")) as unknown;
const SEED_SCOPE = {
  config: { frames: 12, maxMappings: 2 },
  alphabet: { kmallocSizes: [64, 2048], dmaOffsets: [0, 64, 2048], mapRanges: [{ src: "pages", size: 8192, offset: 2048, len: 4096 }] },
  depth: 30, maxStates: 5000,
};

// ---- JSON mutations -------------------------------------------------------------

type Json = unknown;

/** Values that have broken parsers and checkers before. */
const nasty: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, 1e308, -1e308, 0.5, 1e-300, "", "x", "\n", "*/", "\u2028", "`${x}`", null, true, [], {}),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.string({ maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Every path (array of keys) into a JSON value, up to a depth. */
function paths(v: Json, depth = 5, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (depth === 0 || typeof v !== "object" || v === null) return out;
  const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) out.push(...paths(x, depth - 1, [...at, k]));
  return out;
}

function setAt(v: Json, path: readonly (string | number)[], f: (old: Json) => Json | undefined): Json {
  if (path.length === 0) return f(v);
  if (typeof v !== "object" || v === null) return v;
  const [k, ...rest] = path;
  const copy = (Array.isArray(v) ? [...v] : { ...v }) as Record<string | number, Json>;
  const next = setAt(copy[k], rest, f);
  if (next === undefined) {
    if (Array.isArray(copy)) copy.splice(Number(k), 1);
    else delete copy[k];
  } else copy[k] = next;
  return copy;
}

type Mutation = (v: Json) => Json;

/** One mutation of a JSON document: replace, delete or add a field, grow an array, nest deeply. */
function mutation(doc: Json): fc.Arbitrary<Mutation> {
  const ps = paths(doc);
  const path = fc.constantFrom(...ps);
  return fc.oneof(
    fc.tuple(path, nasty).map(([p, x]): Mutation => (v) => setAt(v, p, () => x)),
    path.map((p): Mutation => (v) => setAt(v, p, () => undefined)),
    fc.tuple(path, fc.string({ maxLength: 8 }), nasty).map(([p, k, x]): Mutation => (v) =>
      setAt(v, p, (o) => (typeof o === "object" && o !== null && !Array.isArray(o) ? { ...o, [k]: x } : o))),
    fc.tuple(path, fc.integer({ min: 1, max: 2000 })).map(([p, n]): Mutation => (v) =>
      setAt(v, p, (o) => (Array.isArray(o) && o.length > 0 ? Array.from({ length: n }, (_, i) => o[i % o.length]) : o))),
    fc.tuple(path, fc.integer({ min: 1, max: 100 })).map(([p, n]): Mutation => (v) => setAt(v, p, (o) => nest(o, n))),
  );
}

function nest(v: Json, n: number): Json {
  let out = v;
  for (let i = 0; i < n; i++) out = [out];
  return out;
}

/** A file's text: a mutated document, or text that is not JSON at all, or a huge nesting, or a truncation. */
function fileText(seeds: readonly Json[]): fc.Arbitrary<string> {
  const mutated = fc.constantFrom(...seeds).chain((doc) =>
    fc.array(mutation(doc), { minLength: 1, maxLength: 4 }).map((ms) => JSON.stringify(ms.reduce((v, m) => m(v), doc), null, 1) ?? "null"));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...seeds).map((doc) => JSON.stringify(doc, null, 2)) },
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: fc.tuple(mutated, fc.nat()).map(([t, i]) => t.slice(0, i % (t.length + 1))) },
    { weight: 1, arbitrary: fc.integer({ min: 30, max: 200_000 }).map((n) => "[".repeat(n) + "]".repeat(n)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")) },
  );
}

// ---- flags ------------------------------------------------------------------------

const numberText = fc.oneof(
  fc.constantFrom("0", "1", "2", "3", "-1", "1.5", "1e3", "x", "", " 1", "0x10", "999999999999", "10000001", "1001", "2147483648", "NaN", "Infinity"),
  fc.integer({ min: 1, max: 40 }).map(String),
);
const nameList = fc.oneof(
  fc.constantFrom("strict", "lazy", "passthrough", "strict,lazy", "nope", "", ",", "strict,strict", "page-confinement", "byte-confinement,no-leak", "all"),
  fc.string({ maxLength: 12 }),
);
const FLAG_VALUES: Record<string, fc.Arbitrary<string> | null> = {
  "--policy": nameList, "--property": nameList, "--engine": fc.constantFrom("random", "exhaustive", "both", "neither", ""),
  "--runs": numberText, "--seed": numberText, "--max-events": numberText, "--path": fc.constantFrom("0", "1:2:3", "x", "", "99999:0"),
  "--depth": numberText, "--max-states": numberText, "--max-memory": numberText, "--bitstate": numberText, "--bitstate-hashes": numberText,
  "--frames": numberText, "--cpus": numberText, "--devices": numberText, "--iova-pages": numberText, "--max-mappings": numberText,
  "--kmalloc-sizes": fc.constantFrom("64", "64,2048", "0", "9000", "x", ""), "--device": fc.constantFrom("trusted", "untrusted,ats", "ats,acs-tb", "bogus", ""),
  "--guest-memory": fc.constantFrom("ordinary", "devdax", "guest-memfd", "bogus"), "--time-limit": fc.constantFrom("0", "0.5", "x", "1e9", "-1"),
  "--workers": fc.constantFrom("1", "2", "0", "65"), "--workload": fc.constantFrom("net-rx", "nvme-read", "bogus", ""), "--ios": numberText,
  "--experiment": fc.constantFrom("metadata", "morsel-vs-vfio", "bogus"), "--host-size": fc.constantFrom("1TiB", "4096", "0", "x", "1e30"),
  "--json": null, "--coverage": null, "--no-swarm": null, "--no-timing": null, "--no-reduction": null, "--all-properties": null, "--vitest": null,
  "--bogus-flag": null, "-x": null, "--help": null, "--version": null,
};
const flag = fc.constantFrom(...Object.keys(FLAG_VALUES)).chain((f) => {
  const v = FLAG_VALUES[f];
  return v === null ? fc.constant([f]) : fc.oneof({ weight: 9, arbitrary: v.map((x) => [f, x]) }, { weight: 1, arbitrary: fc.constant([f]) });
});
const flags = fc.array(flag, { maxLength: 5 }).map((fs) => fs.flat());

// ---- cases ---------------------------------------------------------------------------

type Kind = "counterexample" | "scope" | "costs" | "flags";
interface Case { readonly kind: Kind; readonly text: string; readonly command: string; readonly flags: string[] }

const caseArb: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ kind: fc.constant("counterexample" as const), text: fileText(SEEDS_CX), command: fc.constant("replay"), flags: fc.subarray(["--json", "--vitest"]) }),
  fc.record({ kind: fc.constant("scope" as const), text: fileText([SEED_SCOPE, {}]), command: fc.constant("check"), flags: fc.constant([] as string[]) }),
  fc.record({ kind: fc.constant("costs" as const), text: fileText([DEFAULT_COSTS]), command: fc.constantFrom("cost", "cost --experiment morsel-vs-vfio"), flags: fc.subarray(["--json"]) }),
  fc.record({ kind: fc.constant("flags" as const), text: fc.constant(""), command: fc.constantFrom("check", "cost", "list", "replay", "bogus"), flags }),
);

let n = 0;
/** The argv for a case; check runs are kept small (one cell, few runs and states, a time limit) unless the flags say otherwise. */
function argv(c: Case): { args: string[]; file: string | null } {
  const out = join(dir, "out");
  const small = ["--policy", "strict", "--property", "page-confinement", "--runs", "20", "--max-states", "3000", "--workers", "1", "--time-limit", "1", "--out", out];
  const file = c.kind === "flags" ? null : join(dir, `case-${n++}.json`);
  if (file !== null) writeFileSync(file, c.text);
  switch (c.kind) {
    case "counterexample": return { args: ["replay", file!, ...c.flags], file };
    case "scope": return { args: ["check", "--engine", "exhaustive", ...small, "--scope", file!], file };
    case "costs": return { args: [...c.command.split(" "), "--costs", file!, ...c.flags, ...(c.command === "cost" ? ["--ios", "3", "--workload", "net-rx", "--policy", "passthrough,strict"] : [])], file };
    case "flags": {
      // The CLI takes the last value of a repeated flag: the generated ones override the small defaults,
      // except --out, --time-limit and --workers, which keep every run in the temp dir, bounded, and in one thread.
      const keep = ["--out", out, "--time-limit", "1", "--workers", "1"];
      const fs = c.flags.flatMap((x, i, a) => (["--out", "--time-limit", "--workers"].includes(a[i - 1]) || ["--out", "--time-limit", "--workers"].includes(x) ? [] : [x]));
      if (c.command === "check") return { args: ["check", ...small, ...fs, ...keep], file };
      if (c.command === "replay") return { args: ["replay", join(REPO, "counterexamples", "corpus", "lazy--leftover-data.json"), ...fs], file };
      if (c.command === "cost") return { args: ["cost", "--ios", "3", "--workload", "net-rx", ...fs], file };
      return { args: [c.command, ...fs], file };
    }
  }
}

/** Every number in a JSON value. */
function numbers(v: unknown): number[] {
  if (typeof v === "number") return [v];
  if (Array.isArray(v)) return v.flatMap(numbers);
  if (typeof v === "object" && v !== null) return Object.values(v).flatMap(numbers);
  return [];
}

/** The answer to one case is well-formed (see the file's header). */
function expectWellAnswered(r: MainResult, args: readonly string[]): void {
  const what = JSON.stringify({ args: args.map((a) => (a.length > 80 ? a.slice(0, 80) + "..." : a)), status: r.status, stderr: r.stderr.slice(0, 300), ms: Math.round(r.ms) });
  expect(r.ms, what).toBeLessThan(CASE_MS);
  expect(r.stderr, what).not.toMatch(/internal error|^\s+at /m);
  if (r.status === 2) {
    expect(r.stdout, what).toBe("");
    expect(r.stderr, what).toMatch(/^dmacheck: [^\n]+\n$/);
    return;
  }
  expect([0, 1], what).toContain(r.status);
  expect(r.stderr, what).toBe("");
  if (args.includes("--help") || args.includes("--version")) return;
  expect(r.stdout.length, what).toBeGreaterThan(0);
  expect(r.stdout, what).not.toMatch(/\bNaN\b|Infinity/);
  if (args.includes("--json") && !args.includes("--vitest")) {
    const doc = JSON.parse(r.stdout);
    expect(numbers(doc).every(Number.isFinite), what).toBe(true);
  }
}

describe("fuzz: the CLI answers hostile files and flags well", () => {
  it(`${RUNS} generated cases: exit 0/1 with valid output, or exit 2 with one line; in time; files untouched`, async () => {
    mkdirSync(join(dir, "out"), { recursive: true });
    const stats = { 0: 0, 1: 0, 2: 0 } as Record<number, number>;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { args, file } = argv(c);
        const r = await runMain(args);
        expectWellAnswered(r, args);
        if (file !== null) expect(readFileSync(file, "utf8"), "the input file changed").toBe(c.text);
        stats[r.status] = (stats[r.status] ?? 0) + 1;
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    if (process.env.DMACHECK_FUZZ_RUNS !== undefined) process.stdout.write(`fuzz: ${RUNS} cases, exit statuses ${JSON.stringify(stats)}\n`);
    // The generators must reach both outcomes, or the test is not testing much.
    expect(stats[2]).toBeGreaterThan(0);
    expect((stats[0] ?? 0) + (stats[1] ?? 0)).toBeGreaterThan(0);
  }, 60_000 + RUNS * 2_000);
});

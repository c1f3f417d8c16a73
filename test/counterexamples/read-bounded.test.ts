// Every user file is read by counterexamples/read-bounded.ts: special files,
// huge files and deep nesting are refused in one line, without blocking or
// overflowing the stack.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { depthProblem, MAX_INPUT_BYTES, MAX_JSON_DEPTH, readBoundedJson } from "../../counterexamples/read-bounded.ts";
import { readCounterexampleFile } from "../../counterexamples/file.ts";
import { readScopeFile } from "../../checker/scope-file.ts";
import { readCostsFile } from "../../costs/cost-table.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-bounded-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function expectOneLineError(r: { ok: boolean; error?: string }, path: string, mention: string | RegExp): void {
  expect(r.ok).toBe(false);
  const e = (r as { error: string }).error;
  expect(e.startsWith(`${path}: `)).toBe(true);
  expect(e).not.toContain("\n");
  if (typeof mention === "string") expect(e).toContain(mention);
  else expect(e).toMatch(mention);
}

describe("bounded JSON reader", () => {
  it("accepts nesting up to the limit and refuses one level more", () => {
    const ok = file("ok.json", "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH));
    expect(readBoundedJson(ok).ok).toBe(true);
    const deep = file("deep.json", "[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1));
    expectOneLineError(readBoundedJson(deep), deep, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it("refuses a million levels of nesting in every file kind, without a stack overflow", () => {
    const deep = file("million.json", '{"a":' + "[".repeat(1_000_000) + "]".repeat(1_000_000) + "}");
    for (const read of [readCounterexampleFile, readScopeFile, readCostsFile]) {
      expectOneLineError(read(deep), deep, "nested deeper than");
    }
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    expect(depthProblem(JSON.stringify({ s: "[[[[{{{{\\\"[[[[".repeat(20) }))).toBeNull();
    expect(depthProblem(JSON.stringify(["\"", [["x"]]]), 2)).toMatch(/deeper than 2/);
  });

  it("refuses a file larger than the limit", () => {
    const big = join(dir, "big.json");
    writeFileSync(big, "");
    truncateSync(big, MAX_INPUT_BYTES + 1);
    expectOneLineError(readBoundedJson(big), big, /file too large \(8388609 bytes/);
  });

  it("refuses a directory, a device and a FIFO at once (never blocks)", () => {
    expectOneLineError(readBoundedJson(dir), dir, "not a regular file (a directory)");
    expectOneLineError(readBoundedJson("/dev/zero"), "/dev/zero", "not a regular file (a device)");
    const fifo = join(dir, "fifo.json");
    execFileSync("mkfifo", [fifo]);
    const t = performance.now();
    expectOneLineError(readBoundedJson(fifo), fifo, "not a regular file (a FIFO)");
    expectOneLineError(readCounterexampleFile(fifo), fifo, "a FIFO");
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it("still names a missing file and bad JSON", () => {
    const missing = join(dir, "missing.json");
    expectOneLineError(readBoundedJson(missing), missing, "cannot read: no such file or directory (ENOENT)");
    const bad = file("bad.json", "{\n\"a\": \n");
    expectOneLineError(readBoundedJson(bad), bad, "not valid JSON");
  });
});

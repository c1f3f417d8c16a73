// The CLI run in-process (cli/main.ts `main(argv, io)`): exit statuses and
// captured output, and hostile input files refused in one line.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runMain, type MainResult } from "./in-process.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-main-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectUsageError(r: MainResult, mention: string): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
  expect(r.stderr).not.toContain("internal error");
  expect(r.stderr).toContain(mention);
}

describe("main(argv, io)", () => {
  it("runs a command and captures its output", async () => {
    const r = await runMain(["list", "properties"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^properties:\n {2}page-confinement/);
    expect(r.stderr).toBe("");
  });

  it("answers a missing command and a bad flag in one line, exit 2", async () => {
    expectUsageError(await runMain([]), "missing command");
    expectUsageError(await runMain(["check", "--runs", "x"]), "--runs must be an integer in 1..10000000");
    expectUsageError(await runMain(["frobnicate"]), "unknown command");
  });

  it("prints help and the version on stdout, exit 0", async () => {
    const v = await runMain(["--version"]);
    expect(v).toMatchObject({ status: 0, stdout: "0.1.0\n", stderr: "" });
    const h = await runMain(["cost", "--help"]);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain("Usage: dmacheck cost");
  });

  it("refuses deep, special and huge input files for every command that reads one", async () => {
    const deep = join(dir, "deep.json");
    writeFileSync(deep, "[".repeat(100_000) + "]".repeat(100_000));
    const fifo = join(dir, "fifo.json");
    execFileSync("mkfifo", [fifo]);
    for (const f of [deep, fifo, "/dev/zero", dir]) {
      for (const args of [["replay", f], ["check", "--engine", "exhaustive", "--policy", "strict", "--scope", f], ["cost", "--costs", f], ["report", f, "--html", join(dir, "r.html")]]) {
        const r = await runMain(args);
        expectUsageError(r, f);
        expect(r.stderr).toMatch(/nested deeper than 32|not a regular file/);
      }
    }
  });
});

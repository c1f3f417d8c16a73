// Output that arrives whole (cli/errors.ts guarded): a pipe holds 64 KiB, and
// `dmacheck check --json | jq .` used to be cut at exactly 65,536 bytes when
// the process exited before stdout had drained. Here the JSON goes through a
// slow reader (test/cli/slow-reader.mjs) and must parse whole.
//
// The default run (about 90 KB of JSON) takes half a minute on 2 cores; two
// policies on the random engine with few runs print about 80 KB, more than a
// pipe holds, in about a second.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROPERTIES } from "../../properties/index.ts";
import { REPO } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-drain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `dmacheck ARGS | slow-reader`; returns dmacheck's exit status, its stderr and what the reader received. */
function throughSlowReader(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const node = quote(process.execPath);
  const got = join(dir, "got"), status = join(dir, "status"), err = join(dir, "err");
  const cmd = `{ ${node} bin/dmacheck.js ${args.map(quote).join(" ")} 2>${quote(err)}; echo $? >${quote(status)}; } | ${node} test/cli/slow-reader.mjs ${quote(got)}`;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.DMACHECK_DEBUG;
  const r = spawnSync("sh", ["-c", cmd], { cwd: REPO, env, encoding: "utf8", timeout: 90_000 });
  if (r.error) throw r.error;
  expect(r.status, r.stderr).toBe(0); // the reader's
  return { status: Number(readFileSync(status, "utf8")), stdout: readFileSync(got, "utf8"), stderr: readFileSync(err, "utf8") };
}

describe("output drain", () => {
  it("check --json through a slow reader arrives whole and parses (more than a pipe's 64 KiB)", () => {
    const policies = ["strict", "lazy"];
    const r = throughSlowReader(["check", "--json", "--engine", "random", "--runs", "20", "--policy", policies.join(","), "--workers", "1", "--no-timing", "--out", join(dir, "out")]);
    expect(r.stderr).toBe("");
    expect([0, 1]).toContain(r.status);
    expect(r.stdout.length).toBeGreaterThan(65_536);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    const doc = JSON.parse(r.stdout);
    expect(doc.results).toHaveLength(policies.length * PROPERTIES.length);
    // The exit status still says whether a claimed property was violated.
    const claimedViolated = doc.results.some((c: { claimed: boolean; verdict: string }) => c.claimed && c.verdict === "violated");
    expect(r.status).toBe(claimedViolated ? 1 : 0);
  });
});

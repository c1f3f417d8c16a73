// `dmacheck cost` end to end, spawned as a user runs it (about a second per
// spawn, so the runs use few I/Os).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COUNTERS } from "../../model/counters.ts";
import { POLICIES } from "../../model/policies/index.ts";
import { runCli, type CliResult } from "../cli/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-cost-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectUsageError(r: CliResult, mentions: readonly string[]): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
  expect(r.stderr).not.toContain("internal error");
  for (const m of mentions) expect(r.stderr).toContain(m);
}

describe("dmacheck cost", () => {
  it("--json has exactly the row fields, every counter, and the cost table used", () => {
    const r = runCli(["cost", "--json", "--workload", "net-rx,net-tx", "--ios", "30"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc).sort()).toEqual(["costs", "rows"]);
    expect(doc.rows.map((x: any) => `${x.workload}/${x.policy}`)).toEqual(
      ["net-rx", "net-tx"].flatMap((w) => POLICIES.map((p) => `${w}/${p.name}`)),
    );
    for (const row of doc.rows) {
      expect(Object.keys(row).sort()).toEqual(["counters", "nsPerIo", "policy", "vsPassthrough", "workload"]);
      expect(Object.keys(row.counters)).toEqual([...COUNTERS]);
      expect(typeof row.nsPerIo).toBe("number");
    }
    expect(Object.keys(doc.costs.counters)).toEqual([...COUNTERS]);
  });

  it("prints a table per workload; a partial costs file changes only its counters' estimates", () => {
    const file = join(dir, "costs.json");
    // Make a page walk reference free: only strict's estimate on net-rx moves, by 3 walk references.
    writeFileSync(file, JSON.stringify({ format: "dmacheck/costs@1", unit: "ns", counters: { walkRefs: { ns: 0, assumption: true, rationale: "test" } } }));
    const plain = runCli(["cost", "--json", "--workload", "net-rx", "--policy", "strict", "--ios", "20"]);
    const mine = runCli(["cost", "--json", "--workload", "net-rx", "--policy", "strict", "--ios", "20", "--costs", file]);
    expect([plain.status, mine.status]).toEqual([0, 0]);
    const [a, b] = [JSON.parse(plain.stdout).rows[0], JSON.parse(mine.stdout).rows[0]];
    expect(b.counters).toEqual(a.counters);
    expect(a.nsPerIo - b.nsPerIo).toBeCloseTo(3 * 80, 3);
    const text = runCli(["cost", "--workload", "net-rx", "--policy", "strict", "--ios", "20"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^net-rx: 20 I\/Os/m);
    expect(text.stdout).toMatch(/^ {2}est\. ns per I\/O +\d/m);
    expect(text.stdout).toMatch(/^ {2}iotlbInvCmds +1$/m);
  });

  it("a malformed costs file is one line naming the file and the JSON path, exit 2", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ format: "dmacheck/costs@1", unit: "ns", counters: { completionWaits: { ns: "fast", source: "x" } } }));
    expectUsageError(runCli(["cost", "--costs", file]), [file, "$.counters.completionWaits.ns", "a finite number in 0..1000000000"]);
  });

  it("unknown workloads and policies are one line naming the known ones, exit 2", () => {
    expectUsageError(runCli(["cost", "--workload", "disk"]), ['"disk"', "net-rx, net-tx, net-rx-desc, nvme-read"]);
    expectUsageError(runCli(["cost", "--policy", "strict,nope"]), ['"nope"', "passthrough, strict, lazy"]);
  });
});

// Cost tables accept only finite numbers in 0..MAX_COST_NS, and whatever table
// is given every estimate `cost` prints is a finite number (docs/limits.md).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COUNTERS } from "../../model/counters.ts";
import { MAX_COST_NS } from "../../costs/cost-table.ts";
import { runMain } from "../cli/in-process.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-cost-finite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function table(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const doc = (counters: string) => `{"format": "dmacheck/costs@1", "unit": "ns", "counters": {${counters}}}`;
const entry = (c: string, ns: string) => `"${c}": {"ns": ${ns}, "source": "test"}`;

/** Every number in a JSON value. */
function numbers(v: unknown): number[] {
  if (typeof v === "number") return [v];
  if (Array.isArray(v)) return v.flatMap(numbers);
  if (typeof v === "object" && v !== null) return Object.values(v).flatMap(numbers);
  return [];
}

describe("cost tables", () => {
  it("refuses huge, overflowing and negative figures, naming the JSON path", async () => {
    for (const ns of ["1e999", "1e308", String(MAX_COST_NS * 2), "-1", "-0.5"]) {
      const r = await runMain(["cost", "--costs", table("bad.json", doc(entry("walkRefs", ns))), "--ios", "5"]);
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
      expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
      expect(r.stderr).toContain("$.counters.walkRefs.ns: expected a finite number in 0..1000000000");
    }
  });

  it("prints only finite estimates at the extremes of the table (every counter at the maximum, passthrough's base tiny)", async () => {
    const extremes = [
      doc(COUNTERS.map((c) => entry(c, String(MAX_COST_NS))).join(", ")),
      doc(COUNTERS.map((c) => entry(c, c === "dmaBytes" ? "1e-300" : String(MAX_COST_NS))).join(", ")),
      doc(COUNTERS.map((c) => entry(c, "5e-324")).join(", ")),
      doc(COUNTERS.map((c) => entry(c, "0")).join(", ")),
    ];
    for (const [i, text] of extremes.entries()) {
      const file = table(`extreme-${i}.json`, text);
      const json = await runMain(["cost", "--json", "--costs", file, "--ios", "5"]);
      expect(json.status, json.stderr).toBe(0);
      const rows = JSON.parse(json.stdout).rows as { nsPerIo: number; vsPassthrough: number | null }[];
      for (const row of rows) {
        expect(Number.isFinite(row.nsPerIo)).toBe(true);
        expect(row.vsPassthrough === null || Number.isFinite(row.vsPassthrough)).toBe(true);
      }
      expect(numbers(JSON.parse(json.stdout)).every(Number.isFinite)).toBe(true);
      const text2 = await runMain(["cost", "--costs", file, "--ios", "5"]);
      expect(text2.status).toBe(0);
      expect(text2.stdout).not.toMatch(/Infinity|NaN|null|e\+/);
      const exp = await runMain(["cost", "--experiment", "morsel-vs-vfio", "--json", "--costs", file]);
      expect(exp.status, exp.stderr).toBe(0);
      expect(numbers(JSON.parse(exp.stdout)).every(Number.isFinite)).toBe(true);
    }
  });

  it("--experiment vm writes through the command's output like every other experiment (captured in-process), with finite figures", async () => {
    const file = table("extreme-vm.json", doc(COUNTERS.map((c) => entry(c, String(MAX_COST_NS))).join(", ")));
    const json = await runMain(["cost", "--experiment", "vm", "--workload", "net-rx", "--ios", "2", "--json", "--costs", file]);
    expect(json.status, json.stderr).toBe(0);
    const doc2 = JSON.parse(json.stdout) as { experiment: string; rows: unknown[] };
    expect(doc2.experiment).toBe("vm");
    expect(doc2.rows.length).toBeGreaterThan(0);
    expect(numbers(doc2).every(Number.isFinite)).toBe(true);
    const text = await runMain(["cost", "--experiment", "vm", "--workload", "net-rx", "--ios", "2"]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain("net-rx");
    expect(text.stdout).not.toMatch(/Infinity|NaN/);
  });
});

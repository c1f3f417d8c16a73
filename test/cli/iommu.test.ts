/**
 * `--iommu amd-v1|vtd` on check and cost, config.iommu in scope and
 * counterexample files: bad values are one line (exit 2); a VT-d
 * counterexample records the IOMMU and replays on it; files without the
 * field mean amd-v1.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeScope } from "../../checker/scope-file.ts";
import { decodeCounterexample } from "../../counterexamples/file.ts";
import { runCli, type CliResult } from "./helpers.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "dmacheck-iommu-"));
  dirs.push(d);
  return d;
}
function usage(r: CliResult, mention: string | RegExp): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
  expect(r.stderr).toMatch(mention);
}

describe("--iommu", () => {
  it("a bad value is one line naming the flag, exit 2 (check and cost)", () => {
    usage(runCli(["check", "--iommu", "intel", "--engine", "random", "--runs", "1"]), /--iommu must be one of amd-v1, vtd, got "intel"/);
    usage(runCli(["cost", "--iommu", "arm-smmu", "--policy", "strict"]), /--iommu must be one of amd-v1, vtd/);
  });
  it("a VT-d-only broken variant needs --iommu vtd", () => {
    usage(runCli(["check", "--policy", "strict-ih-inverted", "--engine", "random", "--runs", "1"]), /strict-ih-inverted does not run on iommu amd-v1 \(it runs on vtd; see --iommu\)/);
  });
  it("check --iommu vtd writes a counterexample that records config.iommu and replays on VT-d", () => {
    const out = tmp();
    const r = runCli(["check", "--iommu", "vtd", "--engine", "exhaustive", "--policy", "strict-ih-inverted", "--property", "pt-page-safety", "--no-timing", "--workers", "1", "--out", out]);
    expect(r.status).toBe(1);
    const file = join(out, readdirSync(out).find((f) => f.endsWith(".json"))!);
    const doc = JSON.parse(readFileSync(file, "utf8"));
    expect([doc.config.iommu, doc.config.iommuLevels]).toEqual(["vtd", 4]);
    const decoded = decodeCounterexample(doc, file);
    expect(decoded.ok).toBe(true);
    const replay = runCli(["replay", file]);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toMatch(/IOTLB_INV page DID 1 .* IH/);
    expect(replay.stdout).toContain("reproduced: yes");
    // The same file without config.iommu is an AMD counterexample (old files keep their meaning).
    const { iommu: _i, ...amd } = doc.config;
    expect(decodeCounterexample({ ...doc, config: { ...amd, iommuLevels: 3 } }, file).ok).toBe(true);
  });
  it("cost --iommu vtd runs the workloads on VT-d", () => {
    const r = runCli(["cost", "--iommu", "vtd", "--policy", "strict", "--workload", "net-rx", "--ios", "20", "--json"]);
    expect(r.status).toBe(0);
    const row = JSON.parse(r.stdout).rows.find((x: { policy: string }) => x.policy === "strict");
    expect(row.counters.iotlbInvCmds).toBeGreaterThan(0);
    expect(row.counters.completionWaits).toBeGreaterThan(0);
  });
  // Issue 12, "What it shows": the cost experiments run on both IOMMUs.
  it("cost --experiment morsel-vs-vfio|net --iommu vtd runs on VT-d: no morsel rows, vfio and vfio-4k as on AMD; metadata takes no --iommu", () => {
    const v = runCli(["cost", "--experiment", "morsel-vs-vfio", "--iommu", "vtd", "--json"]);
    expect(v.status, v.stderr).toBe(0);
    const doc = JSON.parse(v.stdout);
    expect(doc.iommu).toBe("vtd");
    expect([...new Set(doc.rows.map((r: { policy: string }) => r.policy))]).toEqual(["vfio", "vfio-4k"]);
    const amd = JSON.parse(runCli(["cost", "--experiment", "morsel-vs-vfio", "--json"]).stdout);
    expect(amd.iommu).toBe("amd-v1");
    expect(doc.rows).toEqual(amd.rows.filter((r: { policy: string }) => r.policy !== "morsel"));
    const text = runCli(["cost", "--experiment", "morsel-vs-vfio", "--iommu", "vtd"]);
    expect(text.stdout).toMatch(/IOMMU: Intel VT-d/);
    const net = runCli(["cost", "--experiment", "net", "--iommu", "vtd", "--ios", "20", "--json"]);
    expect(net.status, net.stderr).toBe(0);
    const strict = JSON.parse(net.stdout).rows.find((r: { policy: string; workload: string }) => r.policy === "strict" && r.workload === "net-rx");
    expect(strict.counters.iotlbInvCmds).toBe(1);
    usage(runCli(["cost", "--experiment", "metadata", "--iommu", "vtd"]), /--experiment metadata takes no --workload, --policy, --ios, --costs or --iommu/);
    usage(runCli(["cost", "--experiment", "net", "--iommu", "arm"]), /--iommu must be one of amd-v1, vtd/);
  });
});

describe("config.iommu in scope files", () => {
  it("vtd without iommuLevels gets VT-d's 4 levels (48-bit AGAW); absent means amd-v1", () => {
    const v = decodeScope({ config: { iommu: "vtd", cachingMode: true } }, "s.json");
    expect(v.ok && [v.value.scope.config.iommu, v.value.scope.config.iommuLevels, v.value.scope.config.cachingMode]).toEqual(["vtd", 4, true]);
    const a = decodeScope({ config: { frames: 12 } }, "s.json");
    expect(a.ok && [a.value.scope.config.iommu, a.value.scope.config.iommuLevels]).toEqual([undefined, 3]);
    const v3 = decodeScope({ config: { iommu: "vtd", iommuLevels: 3 } }, "s.json");
    expect(v3.ok && v3.value.scope.config.iommuLevels).toBe(3);
  });
  it("bad values name the field", () => {
    const bad = decodeScope({ config: { iommu: "intel" } }, "s.json");
    expect(!bad.ok && bad.error).toMatch(/^s\.json: \$\.config\.iommu/);
    const cm = decodeScope({ config: { cachingMode: true } }, "s.json");
    expect(!cm.ok && cm.error).toBe("s.json: $.config: cachingMode needs iommu vtd (it is VT-d's CAP.CM)");
    const lv = decodeScope({ config: { iommu: "vtd", iommuLevels: 2 } }, "s.json");
    expect(!lv.ok && lv.error).toMatch(/iommuLevels must be 3, 4 or 5 with iommu vtd/);
  });
});

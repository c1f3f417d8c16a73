/**
 * The shape of Albes' Morsel-vs-VFIO figures (docs/reference/morsels.md), asserted on counters: VFIO map and unmap grow
 * linearly with the buffer (one pin and one PTE write per page, one unpin and
 * one PTE write per page), morsel map and unmap stay constant, and the IOTLB
 * invalidation is the largest part of the morsel unmap estimate.
 */
import { describe, expect, it } from "vitest";
import { COUNTERS } from "../../model/counters.ts";
import { defaultCosts } from "../../costs/cost-table.ts";
import { EXPERIMENT_SIZES, LARGEST_MEASURED, morselVsVfio, type ExperimentRow } from "../../checker/morsel-vs-vfio.ts";
import { runCli } from "../cli/helpers.ts";

const costs = defaultCosts();
const rows = morselVsVfio(costs);
const pick = (policy: string, op: "map" | "unmap", measuredOnly = true): ExperimentRow[] =>
  rows.filter((r) => r.policy === policy && r.op === op && (!measuredOnly || r.measured));
const pages = (r: ExperimentRow) => r.bytes / 4096;

describe("morsel-vs-vfio", () => {
  it("runs every size from 4 KiB to 1 GiB for every policy; sizes beyond 4 MiB are marked extrapolated", () => {
    expect(EXPERIMENT_SIZES[0]).toBe(4096);
    expect(EXPERIMENT_SIZES.at(-1)).toBe(2 ** 30);
    for (const p of ["vfio", "vfio-4k", "morsel"]) for (const op of ["map", "unmap"] as const) {
      expect(pick(p, op, false).map((r) => r.bytes)).toEqual([...EXPERIMENT_SIZES]);
      for (const r of pick(p, op, false)) expect(r.measured).toBe(r.bytes <= LARGEST_MEASURED);
    }
    expect(pick("vfio", "map").length).toBe(6);
  });

  it("vfio-4k: map pins and writes one PTE per page, unmap clears one PTE and unpins per page; both linear in the buffer", () => {
    for (const r of pick("vfio-4k", "map")) {
      expect(r.counters.pins).toBe(pages(r));
      expect(r.counters.iommuPteWrites).toBe(pages(r));
      expect(r.counters.containerLocks).toBe(1);
    }
    for (const r of pick("vfio-4k", "unmap")) {
      expect(r.counters.unpins).toBe(pages(r));
      expect(r.counters.iommuPteWrites).toBe(pages(r));
      expect(r.counters.iotlbInvCmds).toBe(1);
      expect(r.counters.completionWaits).toBe(1);
    }
    // 1024 times the buffer costs nearly 1024 times as much.
    const [small, big] = [pick("vfio-4k", "map")[0], pick("vfio-4k", "map").at(-1)!];
    expect(big.nsEstimate / small.nsEstimate).toBeGreaterThan(800);
  });

  // Linux iommu_pgsize (drivers/iommu/iommu.c) picks the largest page in AMD_IOMMU_PGSIZES the IOVA and
  // the physical address are aligned to; io_pgtable.c writes PAGE_SIZE_PTE_COUNT = 2^((log2 - 12) % 9)
  // copies of it. So up to 1 MiB the PTE count equals vfio-4k's, 4 MiB is 2 entries, 16 MiB 8, 1 GiB 1.
  it("vfio: pins every page but maps the buffer with its largest aligned IOMMU page (AMD v1 replicated entries)", () => {
    const expected = new Map([[4096, 1], [2 ** 20, 256], [4 * 2 ** 20, 2], [16 * 2 ** 20, 8], [2 ** 30, 1]]);
    for (const op of ["map", "unmap"] as const) {
      for (const r of pick("vfio", op, false)) {
        expect(r.counters[op === "map" ? "pins" : "unpins"]).toBe(pages(r));
        if (expected.has(r.bytes)) expect(r.counters.iommuPteWrites, `${op} ${r.bytes}`).toBe(expected.get(r.bytes));
      }
    }
    const at4M = (p: string) => pick(p, "map").find((r) => r.bytes === 4 * 2 ** 20)!.nsEstimate;
    expect(at4M("vfio")).toBeLessThan(at4M("vfio-4k"));
  });

  it("morsel: map and unmap are the same at every size (one entry linked or unlinked, one invalidation, one wait)", () => {
    for (const op of ["map", "unmap"] as const) {
      const rs = pick("morsel", op);
      for (const r of rs) expect(r.counters).toEqual(rs[0].counters);
    }
    expect(pick("morsel", "map")[0].counters.iommuPteWrites).toBe(1);
    expect(pick("morsel", "map")[0].counters.pins).toBe(0);
    const u = pick("morsel", "unmap")[0].counters;
    expect([u.iommuPteWrites, u.iotlbInvCmds, u.completionWaits]).toEqual([1, 1, 1]);
  });

  it("every counter is affine in the page count over the measured sizes, so the extrapolation is exact for the model's rules", () => {
    for (const p of ["vfio-4k", "morsel"]) for (const op of ["map", "unmap"] as const) {
      const rs = pick(p, op);
      const [a, b] = [rs.at(-2)!, rs.at(-1)!];
      for (const c of COUNTERS) {
        const slope = (b.counters[c] - a.counters[c]) / (pages(b) - pages(a));
        for (const r of [...rs, ...pick(p, op, false)]) expect(r.counters[c], `${p} ${op} ${c} at ${r.bytes}`).toBeCloseTo(a.counters[c] + slope * (pages(r) - pages(a)), 6);
      }
    }
  });

  it("the IOTLB invalidation (command and completion wait) is the largest part of the morsel unmap estimate", () => {
    for (const r of pick("morsel", "unmap", false)) {
      const part = (c: (typeof COUNTERS)[number]) => r.counters[c] * costs[c].ns;
      const invalidation = part("iotlbInvCmds") + part("iotlbInvPages") + part("completionWaits");
      expect(invalidation).toBeGreaterThan(r.nsEstimate - invalidation);
      expect(invalidation / r.nsEstimate).toBeGreaterThan(0.9);
    }
  });

  it("morsel map and unmap cost less than vfio's at every size, by orders of magnitude at 1 GiB", () => {
    for (const op of ["map", "unmap"] as const) for (const p of ["vfio", "vfio-4k"]) {
      const v = pick(p, op, false), m = pick("morsel", op, false);
      v.forEach((r, i) => expect(m[i].nsEstimate).toBeLessThan(r.nsEstimate));
      expect(v.at(-1)!.nsEstimate / m.at(-1)!.nsEstimate).toBeGreaterThan(1000);
    }
  });

  it("dmacheck cost --experiment morsel-vs-vfio --json: rows with policy, bytes, op, counters, nsEstimate", () => {
    const r = runCli(["cost", "--experiment", "morsel-vs-vfio", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.rows).toEqual(JSON.parse(JSON.stringify(rows)));
    for (const row of doc.rows) {
      expect(Object.keys(row).sort()).toEqual(["bytes", "counters", "measured", "nsEstimate", "op", "policy"]);
      expect(["map", "unmap"]).toContain(row.op);
    }
    const text = runCli(["cost", "--experiment", "morsel-vs-vfio"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/vfio-4k +map +~1 GiB +72089650/);
    expect(text.stdout).toMatch(/vfio +map +~1 GiB +65536075/);
    const bad = runCli(["cost", "--experiment", "nope"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^dmacheck: --experiment: unknown experiment "nope" \(known: morsel-vs-vfio, metadata, vm, net\)\n$/);
  });
});

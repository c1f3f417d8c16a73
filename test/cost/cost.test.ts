// The cost side (docs/costs.md): driver workloads, the cost table and the
// report. Everything is asserted on model counts or on estimates computed from
// them, never on wall-clock time.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configProblem } from "../../model/config.ts";
import { C, COUNTERS, NUM_COUNTERS } from "../../model/counters.ts";
import { Observation } from "../../model/observation.ts";
import { findPolicy, POLICIES } from "../../model/policies/index.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Executor } from "../../checker/execute.ts";
import { COST_CONFIG, findWorkload, runWorkload, WORKLOADS } from "../../checker/workloads.ts";
import { costReport, type CostRow } from "../../checker/cost-report.ts";
import { decodeCosts, defaultCosts, estimateNs } from "../../costs/cost-table.ts";

const policy = (name: string) => findPolicy(name)!;
const workload = (name: string) => findWorkload(name)!;

/** Memoizes a thunk: computed by the first test that needs it. */
function once<T>(f: () => T): () => T {
  let v: { value: T } | null = null;
  return () => (v ??= { value: f() }).value;
}

// The full default report: every built-in policy on every workload, default I/O counts.
const report = once(() => costReport(POLICIES, WORKLOADS, defaultCosts()));
const row = (p: string, w: string): CostRow => report().find((r) => r.policy === p && r.workload === w)!;

describe("cost configuration and workloads", () => {
  it("the cost configuration is accepted by the model and leaves lazy's flush queue room to fill", () => {
    expect(configProblem(COST_CONFIG)).toBeNull();
    expect(COST_CONFIG.iovaPages).toBeGreaterThanOrEqual(COST_CONFIG.fqSize * 2);
    expect(COST_CONFIG.fqSize).toBe(255); // Linux IOVA_FQ_SIZE 256 slots hold 255 entries (dma-iommu.c fq_full)
    // A 1 MiB buffer (256 pages) is one buddy block.
    expect(2 ** COST_CONFIG.maxOrder).toBeGreaterThanOrEqual(256);
  });

  it("every I/O moves exactly its bytes, on every policy", () => {
    const expected: Record<string, number> = {
      "net-rx": 1500, "net-tx": 65536, "net-rx-desc": 64 * 4096, "nvme-read": ((4 + 16 + 64 + 256 + 1024) * 1024) / 5,
    };
    for (const r of report()) expect(r.counters.dmaBytes, `${r.policy} ${r.workload}`).toBe(expected[r.workload]);
  });

  // Linux drivers/nvme/host/pci.c caps a transfer at dma_opt_mapping_size():
  // 128 KiB for an IOMMU DMA domain (drivers/iommu/dma-iommu.c
  // iommu_dma_opt_mapping_size), 256 KiB - 4 KiB under swiotlb with NVMe's
  // min_align_mask (kernel/dma/swiotlb.c swiotlb_max_mapping_size).
  it("nvme-read maps at most 128 KiB at a time through an IOMMU DMA domain, 252 KiB under swiotlb, whole reads untranslated", () => {
    const maps = (name: string) => {
      const run = runWorkload(workload("nvme-read"), policy(name), 5);
      return run.events.filter((e) => e.t === "map").map((e) => (e.t === "map" ? e.size : 0));
    };
    const K = 1024;
    expect(maps("strict")).toEqual([4 * K, 16 * K, 64 * K, 128 * K, 128 * K, ...Array(8).fill(128 * K)]);
    expect(maps("bounce")).toEqual([4 * K, 16 * K, 64 * K, 252 * K, 4 * K, 252 * K, 252 * K, 252 * K, 252 * K, 16 * K]);
    expect(maps("passthrough")).toEqual([4 * K, 16 * K, 64 * K, 256 * K, 1024 * K]);
  });

  it("the event sequence alone reproduces the counts (replaying it from boot gives the same sums)", () => {
    for (const name of ["strict", "lazy"]) {
      const run = runWorkload(workload("net-rx"), policy(name), 300);
      const ex = new Executor(makeSystem(COST_CONFIG, policy(name)), []);
      ex.run(run.events);
      expect(Object.fromEntries(COUNTERS.map((n, i) => [n, ex.totals[i]]))).toEqual(run.totals);
    }
  });

  it("per-I/O figures are deterministic: same input, same events and numbers", () => {
    for (const w of WORKLOADS) {
      const a = runWorkload(w, policy("lazy"), 60);
      const b = runWorkload(w, policy("lazy"), 60);
      expect(b.events).toEqual(a.events);
      expect(b.perIo).toEqual(a.perIo);
    }
    const few = WORKLOADS.map((w) => ({ ...w, ios: 10 }));
    expect(costReport(POLICIES, few, defaultCosts())).toEqual(costReport(POLICIES, few, defaultCosts()));
  });
});

describe("the published shapes", () => {
  it("passthrough costs least on every workload", () => {
    for (const w of WORKLOADS) {
      const base = row("passthrough", w.name);
      for (const p of POLICIES.filter((q) => q.name !== "passthrough")) {
        expect(row(p.name, w.name).nsPerIo, `${p.name} on ${w.name}`).toBeGreaterThan(base.nsPerIo);
      }
      // Passthrough's only cost is the payload itself: no command, walk or table write.
      expect(COUNTERS.filter((c) => c !== "dmaBytes" && base.counters[c] !== 0)).toEqual([]);
      expect(base.vsPassthrough).toBe(1);
    }
  });

  it("strict costs more than lazy on net-rx: lazy batches its invalidations", () => {
    const strict = row("strict", "net-rx");
    const lazy = row("lazy", "net-rx");
    expect(strict.nsPerIo).toBeGreaterThan(lazy.nsPerIo);
    expect(lazy.counters.iotlbInvCmds).toBeLessThan(strict.counters.iotlbInvCmds / 100);
    expect(lazy.counters.completionWaits).toBeLessThan(strict.counters.completionWaits / 100);
    // 1000 packets: the 256-entry ring fills at unmaps 257, 513 and 769, and the
    // 10 ms timer (1 ms every 100 packets) fires after packet 1000: 4 flushes,
    // each one invalidate-all of the one domain and one COMPLETION_WAIT.
    expect(lazy.counters.iotlbInvCmds).toBe(4 / 1000);
    expect(lazy.counters.completionWaits).toBe(4 / 1000);
  });

  it("F&S: one IOVA range and one ranged invalidation per 64-page descriptor, where strict invalidates and waits per page", () => {
    const s = row("strict", "net-rx-desc");
    const f = row("fns", "net-rx-desc");
    expect([s.counters.iotlbInvCmds, s.counters.completionWaits]).toEqual([64, 64]);
    expect([f.counters.iotlbInvCmds, f.counters.completionWaits]).toEqual([1, 1]);
    expect(f.counters.iotlbInvPages).toBe(64); // the one command covers the descriptor's range
    expect(f.counters.iommuPteWrites).toBe(s.counters.iommuPteWrites); // every page is still mapped and cleared
    expect(f.nsPerIo).toBeLessThan(s.nsPerIo / 3);
  });

  it("strict also costs more than lazy on net-tx and nvme-read", () => {
    for (const w of ["net-tx", "nvme-read"]) expect(row("strict", w).nsPerIo).toBeGreaterThan(row("lazy", w).nsPerIo);
  });

  it("every strict unmap on net-rx queues exactly one INVALIDATE_IOMMU_PAGES and one COMPLETION_WAIT", () => {
    expect(row("strict", "net-rx").counters.iotlbInvCmds).toBe(1);
    expect(row("strict", "net-rx").counters.completionWaits).toBe(1);
    // Not just on average: replay the events and count them I/O by I/O (an I/O starts at its map).
    const sys = makeSystem(COST_CONFIG, policy("strict"));
    const obs = new Observation();
    const st = new Stepper(sys, obs);
    const run = runWorkload(workload("net-rx"), policy("strict"), 200);
    const perIo: [number, number][] = [];
    let s = sys.init;
    for (const e of run.events) {
      if (e.t === "map") perIo.push([0, 0]);
      s = st.step(s, e);
      const cur = perIo[perIo.length - 1];
      cur[0] += obs.counters[C.iotlbInvCmds];
      cur[1] += obs.counters[C.completionWaits];
    }
    expect(perIo).toHaveLength(200);
    expect(perIo.every(([inv, wait]) => inv === 1 && wait === 1)).toBe(true);
  });

  it("strict's range invalidation also drops the directory-entry cache, so each I/O walks from the root", () => {
    // AMD IOMMU v1, 3 levels: a cold walk reads 3 entries; lazy keeps cached directory entries between flushes.
    expect(row("strict", "net-rx").counters.walkRefs).toBe(3);
    expect(row("lazy", "net-rx").counters.walkRefs).toBeLessThan(1.1);
  });
});

describe("cost table", () => {
  it("the default table gives every counter, each with a source or a stated assumption", () => {
    const json = JSON.parse(readFileSync(new URL("../../costs/default-costs.json", import.meta.url), "utf8"));
    expect(Object.keys(json.counters).sort()).toEqual([...COUNTERS].sort());
    for (const [name, e] of Object.entries<any>(json.counters)) {
      const ok = typeof e.source === "string" ? e.assumption === undefined : e.assumption === true && typeof e.rationale === "string";
      expect(ok, name).toBe(true);
    }
    expect(Object.keys(defaultCosts())).toHaveLength(NUM_COUNTERS);
  });

  it("the estimate is the sum of counter x ns, and the ratio is to passthrough on the same workload", () => {
    const costs = defaultCosts();
    for (const r of report()) {
      const manual = COUNTERS.reduce((ns, c) => ns + r.counters[c] * costs[c].ns, 0);
      expect(r.nsPerIo).toBeCloseTo(manual, 2);
      expect(r.nsPerIo).toBeCloseTo(estimateNs(r.counters, costs), 2);
      expect(r.vsPassthrough!).toBeCloseTo(r.nsPerIo / row("passthrough", r.workload).nsPerIo, 3);
    }
  });

  it("a user's table may give a subset of the counters; the rest keep their defaults", () => {
    const r = decodeCosts(
      { format: "dmacheck/costs@1", unit: "ns", counters: { walkRefs: { ns: 10, source: "my measurement" } } },
      "mine.json",
      defaultCosts(),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.walkRefs).toEqual({ ns: 10, source: "my measurement" });
    expect(r.value.completionWaits).toEqual(defaultCosts().completionWaits);
  });

  it("a malformed table is one line naming the JSON path", () => {
    const bad = (counters: unknown, extra: object = {}) => {
      const r = decodeCosts({ format: "dmacheck/costs@1", unit: "ns", counters, ...extra }, "mine.json", defaultCosts());
      return r.ok ? "decoded" : r.error;
    };
    expect(bad({ walkRefs: { ns: "x", source: "s" } })).toBe('mine.json: $.counters.walkRefs.ns: expected a finite number in 0..1000000000, got "x"');
    expect(bad({ walkRefs: { ns: -1, source: "s" } })).toBe("mine.json: $.counters.walkRefs.ns: expected a finite number in 0..1000000000, got -1");
    expect(bad({ walkRef: { ns: 1, source: "s" } })).toBe("mine.json: $.counters.walkRef: unknown field");
    expect(bad({ walkRefs: { ns: 1 } })).toMatch(/^mine\.json: \$\.counters\.walkRefs: expected "ns" with either "source", or "assumption": true and "rationale"/);
    expect(bad({ walkRefs: { ns: 1, assumption: true } })).toMatch(/^mine\.json: \$\.counters\.walkRefs: expected/);
    expect(bad({}, { unit: "us" })).toBe('mine.json: $.unit: expected "ns", got "us"');
    for (const e of [bad({ walkRefs: { ns: "x", source: "s" } }), bad({ walkRefs: { ns: 1 } })]) expect(e).not.toContain("\n");
  });
});

describe("workload errors", () => {
  it("a workload the machine cannot run stops with the I/O that failed", () => {
    // A 512-page window holds 32 of lazy's queued 16-page ranges: the 33rd map finds no IOVA.
    expect(() => runWorkload(workload("net-tx"), policy("lazy"), 1000, { ...COST_CONFIG, iovaPages: 512 })).toThrow(
      "I/O 33: map failed (DMA_MAPPING_ERROR)",
    );
  });
});

/**
 * `dmacheck cost --experiment net` (checker/experiments/net.ts,
 * docs/costs.md#networking-page_pool-and-maio): page_pool's receive path maps
 * nothing per packet and costs about what damn costs; copying a packet to or
 * from user space costs more than MAIO's zero copy.
 */
import { describe, expect, it } from "vitest";
import { defaultCosts } from "../../costs/cost-table.ts";
import { netExperiment, type NetRow } from "../../checker/experiments/net.ts";
import { runCli } from "../cli/helpers.ts";

// 200 packets per workload keep the test short; the orderings are the same at the default 1000 (docs/costs.md).
const rows = netExperiment(defaultCosts(), 200);
const row = (workload: string, policy: string, path?: NetRow["path"]): NetRow => {
  const r = rows.find((x) => x.workload === workload && x.policy === policy && (path === undefined || x.path === path));
  expect(r, `${workload} ${policy}`).toBeDefined();
  return r!;
};

describe("--experiment net", () => {
  it("net-rx on page_pool: no invalidation, no wait, almost no entry written per packet (the pool's pages are mapped once)", () => {
    for (const p of ["page-pool@strict", "page-pool@lazy", "page-pool@bounce", "page-pool@damn"]) {
      const c = row("net-rx", p).counters;
      expect(c.iotlbInvCmds, p).toBe(0);
      expect(c.completionWaits, p).toBe(0);
      expect(c.bytesCopied, p).toBe(0);
      expect(c.iommuPteWrites, p).toBeLessThan(0.1);
    }
    // Today's kmalloc path under strict: one map and one unmap per packet, each unmap invalidating and waiting.
    expect(row("net-rx", "strict").counters.iotlbInvCmds).toBe(1);
    expect(row("net-rx", "strict").counters.completionWaits).toBe(1);
  });

  it("page_pool under strict costs about what damn costs per packet (within 5%), and far less than strict's kmalloc path", () => {
    const pp = row("net-rx", "page-pool@strict").nsPerPacket;
    const damn = row("net-rx", "damn").nsPerPacket;
    expect(Math.abs(pp - damn) / damn).toBeLessThan(0.05);
    expect(row("net-rx", "strict").nsPerPacket).toBeGreaterThan(5 * pp);
  });

  it("net-tx: transmit buffers do not come from page_pool, so page-pool@X costs what X costs", () => {
    for (const x of ["strict", "lazy", "bounce", "damn"]) {
      expect(row("net-tx", `page-pool@${x}`).counters).toEqual(row("net-tx", x).counters);
    }
  });

  it("net-xdp-tx: a received page_pool page retransmitted needs no map or unmap (mapped DMA_BIDIRECTIONAL); the map-per-packet path maps twice", () => {
    for (const p of ["page-pool@strict", "page-pool@lazy", "page-pool@bounce", "page-pool@damn"]) {
      const c = row("net-xdp-tx", p).counters;
      expect(c.iotlbInvCmds, p).toBe(0);
      expect(c.completionWaits, p).toBe(0);
      expect(c.bytesCopied, p).toBe(0);
      expect(c.iommuPteWrites, p).toBeLessThan(0.1);
    }
    // strict's path: the rx map and unmap, then the tx map and unmap: two invalidations and two waits per packet.
    expect(row("net-xdp-tx", "strict").counters.iotlbInvCmds).toBe(2);
    expect(row("net-xdp-tx", "strict").counters.completionWaits).toBe(2);
    const pp = row("net-xdp-tx", "page-pool@strict").nsPerPacket;
    expect(Math.abs(pp - row("net-xdp-tx", "damn").nsPerPacket) / pp).toBeLessThan(0.05);
    expect(row("net-xdp-tx", "strict").nsPerPacket).toBeGreaterThan(5 * pp);
  });

  it("copying to and from user space costs more than MAIO's zero copy, on every path that copies", () => {
    for (const w of ["net-rx-user", "net-tx-user"]) {
      const maio = row(w, "maio", "zero copy (MAIO)");
      expect(maio.counters.bytesCopied).toBe(0);
      expect(maio.counters.iotlbInvCmds).toBe(0);
      for (const p of ["strict", "page-pool@strict", "damn"]) {
        const copy = row(w, p, "copy");
        expect(copy.userCopyBytes).toBe(w === "net-rx-user" ? 1500 : 65536);
        expect(copy.nsPerPacket, `${w} ${p}`).toBeGreaterThan(maio.nsPerPacket);
      }
    }
  });

  it("runs from the command line; --policy does not apply", () => {
    const r = runCli(["cost", "--experiment", "net", "--ios", "20"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("net-rx-user:");
    const bad = runCli(["cost", "--experiment", "net", "--policy", "strict"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--experiment net runs its own workloads and policies/);
  });
});

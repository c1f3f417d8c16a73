/**
 * `dmacheck cost --experiment net`: what a packet costs on Linux's network
 * memory paths (docs/costs.md#networking-page_pool-and-maio).
 *
 * 1. `net-rx` and `net-tx` (checker/workloads.ts) on today's path (a kmalloc
 *    or page buffer mapped and unmapped per packet: strict, lazy, bounce),
 *    on DAMN, and on page_pool (model/policies/page-pool.ts): a driver takes
 *    its rx buffers from a per-queue pool of pages mapped once
 *    (PP_FLAG_DMA_MAP, include/net/page_pool/types.h) and carved into
 *    fragments (net/core/page_pool.c page_pool_alloc_frag), so a packet needs
 *    no map or unmap. The same workloads run on every policy: page-pool@X
 *    routes the rx buffer into its pool. Transmit buffers do not come from
 *    page_pool (drivers map each skb for transmit), so `net-tx` on
 *    page-pool@X is X's cost.
 * 2. A packet delivered to a user process: `net-rx-user` (receive 1500 bytes,
 *    the process reads them) and `net-tx-user` (the process sends 64 KiB).
 *    With a copy (recvmsg's and sendmsg's copy between the skb and the
 *    process's buffer: skb_copy_datagram_iter, copy_from_iter) on strict,
 *    page-pool@strict and damn (DAMN merges its copy out of the pool into
 *    this one); without, on MAIO (model/policies/maio.ts): the process reads
 *    and writes the pool page the NIC uses. The copy is no model event: the
 *    experiment adds its bytes to bytesCopied (1500 per received packet,
 *    65536 per sent one), which the cost table prices at 0.1 ns a byte (an
 *    assumption in costs/default-costs.json: memcpy at about 10 GB/s).
 *
 * 3. XDP_TX: `net-xdp-tx` receives a 1500-byte packet, an XDP program sends
 *    it back out of the same NIC (an `xdp-tx` event: the held rx buffer
 *    becomes a to-device mapping), the NIC reads it, and the transmit
 *    completion frees it. On the map-per-packet path the tx mapping is a
 *    second map and unmap; on page_pool the page is already mapped
 *    DMA_BIDIRECTIONAL (net/core/page_pool.c page_pool_init: "for allowing
 *    page used for DMA sending, which is the XDP_TX use-case"), so the
 *    driver only looks its address up (mlx5e_xmit_xdp_buff:
 *    page_pool_get_dma_addr, dma_sync_single_for_device) and the completion
 *    recycles the page (mlx5e_free_xdpsq_desc).
 *
 * Every other count is the model's, from running the workload on
 * NET_COST_CONFIG (the cost machine with 16 user pages, so MAIO's pool is a
 * 64 KiB compound page, DAMN's size); ns are the cost table's estimate.
 */
import { COUNTERS, type CounterName } from "../../model/counters.ts";
import { type IommuKind, type ModelConfig, withIommu } from "../../model/config.ts";
import { runsOn } from "../../model/policy.ts";
import { findAnyPolicy } from "../../model/policies/index.ts";
import { estimateNs, type CostTable } from "../../costs/cost-table.ts";
import { COST_CONFIG, findWorkload, runWorkload, type Workload } from "../workloads.ts";

export const NET_EXPERIMENT = "net";

/** The cost machine with a user process of 16 pages: MAIO's shared compound page is 64 KiB (order 4), as DAMN's. */
export const NET_COST_CONFIG: ModelConfig = { ...COST_CONFIG, userPages: 16 };

const KiB = 1024;
/** Bytes of one received packet (an Ethernet MTU), as net-rx. */
const RX_PACKET = 1500;
/** Bytes of one sent segment, as net-tx. */
const TX_SEGMENT = 64 * KiB;

/** A packet received for a user process: net-rx, then the process reads the packet's page. */
export const NET_RX_USER: Workload = {
  name: "net-rx-user",
  summary: "net-rx, and the process reads the packet (user page 0: its receive buffer, or MAIO's shared page)",
  ios: 1000,
  usPerIo: 10,
  io(d) {
    const addr = d.map("kmalloc", 2 * KiB, "from-device");
    d.dma(true, addr, RX_PACKET);
    d.touchUser(0, false);
    d.unmapAndFree();
  },
};

/** A segment a user process sends: it writes the data, then net-tx. */
export const NET_TX_USER: Workload = {
  name: "net-tx-user",
  summary: "the process writes 64 KiB (user page 0: its send buffer, or MAIO's shared page), then net-tx",
  ios: 1000,
  usPerIo: 50,
  io(d) {
    d.touchUser(0, true);
    d.transfer(TX_SEGMENT, "to-device");
  },
};

/** XDP_TX: a packet received and sent back out by an XDP program; the transmit completion frees it. */
export const NET_XDP_TX: Workload = {
  name: "net-xdp-tx",
  summary: "net-rx's packet, held by an XDP program (unmap, not freed), sent back with XDP_TX (the NIC reads 1500 bytes), freed at the tx completion",
  ios: 1000,
  usPerIo: 10,
  io(d) {
    const addr = d.map("kmalloc", 2 * KiB, "from-device");
    d.dma(true, addr, RX_PACKET);
    d.unmapAndHold();
    const tx = d.xdpTx();
    d.dma(false, tx, RX_PACKET);
    d.unmapAndFree();
  },
};

/** How a packet's memory is handled; "copy": copied between the skb and the process (to it on receive, from it on send). */
export type NetPath = "kmalloc" | "damn" | "page_pool" | "copy" | "zero copy (MAIO)";

export interface NetRow {
  readonly workload: string;
  readonly path: NetPath;
  readonly policy: string;
  /** Bytes the experiment adds to bytesCopied per packet for the copy to or from user space (0 on the other paths). */
  readonly userCopyBytes: number;
  /** Every counter per packet, the user copy included in bytesCopied. */
  readonly counters: Readonly<Record<CounterName, number>>;
  readonly nsPerPacket: number;
  /** nsPerPacket / passthrough's on the same workload (net-rx, net-tx, net-xdp-tx; null for the user workloads). */
  readonly vsPassthrough: number | null;
}

interface Setting {
  readonly workload: Workload;
  readonly path: NetPath;
  readonly policy: string;
  readonly copy: number;
}

function settings(): Setting[] {
  const rx = findWorkload("net-rx")!;
  const tx = findWorkload("net-tx")!;
  const out: Setting[] = [];
  for (const w of [rx, tx]) {
    for (const p of ["passthrough", "strict", "lazy", "bounce"]) out.push({ workload: w, path: "kmalloc", policy: p, copy: 0 });
    out.push({ workload: w, path: "damn", policy: "damn", copy: 0 });
    for (const p of ["page-pool@strict", "page-pool@lazy", "page-pool@bounce", "page-pool@damn"]) out.push({ workload: w, path: "page_pool", policy: p, copy: 0 });
  }
  out.push({ workload: NET_XDP_TX, path: "kmalloc", policy: "passthrough", copy: 0 });
  for (const p of ["strict", "lazy", "bounce"]) out.push({ workload: NET_XDP_TX, path: "kmalloc", policy: p, copy: 0 });
  out.push({ workload: NET_XDP_TX, path: "damn", policy: "damn", copy: 0 });
  for (const p of ["page-pool@strict", "page-pool@lazy", "page-pool@bounce", "page-pool@damn"]) out.push({ workload: NET_XDP_TX, path: "page_pool", policy: p, copy: 0 });
  for (const [w, bytes] of [[NET_RX_USER, RX_PACKET], [NET_TX_USER, TX_SEGMENT]] as const) {
    for (const p of ["strict", "page-pool@strict", "damn"]) out.push({ workload: w, path: "copy", policy: p, copy: bytes });
    out.push({ workload: w, path: "zero copy (MAIO)", policy: "maio", copy: 0 });
  }
  return out;
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

/** The experiment's rows, in the order of `settings`; `ios` overrides each workload's packets. */
export function netExperiment(costs: CostTable, ios?: number, iommu: IommuKind = "amd-v1"): NetRow[] {
  const rows: NetRow[] = [];
  const base = new Map<string, number>();
  const cfg = withIommu(NET_COST_CONFIG, iommu);
  for (const s of settings()) {
    const policy = findAnyPolicy(s.policy)!;
    if (!runsOn(policy, iommu)) continue;
    const perIo = { ...runWorkload(s.workload, policy, ios ?? s.workload.ios, cfg).perIo };
    perIo.bytesCopied += s.copy;
    const ns = estimateNs(perIo, costs);
    if (s.policy === "passthrough") base.set(s.workload.name, ns);
    const b = base.get(s.workload.name);
    const counters = Object.fromEntries(COUNTERS.map((n) => [n, round(perIo[n], 3)])) as Record<CounterName, number>;
    rows.push({
      workload: s.workload.name, path: s.path, policy: s.policy, userCopyBytes: s.copy, counters,
      nsPerPacket: round(ns, 3), vsPassthrough: b === undefined || round(b, 3) === 0 ? null : round(ns / b, 4),
    });
  }
  return rows;
}

export function renderNetExperiment(rows: readonly NetRow[], table: string): string {
  const out = [
    "Per packet. Counters are model counts, except the copy to or from user space, which the experiment adds to",
    `bytesCopied; ns is an estimate (${table}). See docs/costs.md.`,
  ];
  const header = ["path", "policy", "inv", "waits", "pteWrites", "walkRefs", "copied", "ns/packet", "vs passthrough"];
  for (const w of [...new Set(rows.map((r) => r.workload))]) {
    out.push("", `${w}:`);
    const lines = [header];
    for (const r of rows.filter((x) => x.workload === w)) {
      const c = r.counters;
      lines.push([r.path, r.policy, String(c.iotlbInvCmds), String(c.completionWaits), String(c.iommuPteWrites), String(c.walkRefs),
        String(c.bytesCopied), r.nsPerPacket.toFixed(1), r.vsPassthrough === null ? "-" : `${r.vsPassthrough.toFixed(2)}x`]);
    }
    const wd = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
    for (const l of lines) out.push(("  " + l.map((cell, i) => (i < 2 ? cell.padEnd(wd[i]) : cell.padStart(wd[i]))).join("  ")).trimEnd());
  }
  return out.join("\n") + "\n";
}

/**
 * `dmacheck cost --experiment vm`: the driver workloads natively and in a VM,
 * for each guest policy over each vIOMMU kind (model/policies/guest.ts), to
 * show the shape the IOMMU-in-VM seed describes ("nested IO page table walks
 * are more expensive and frequent VM exits may also happen").
 *
 * Every counter comes from running the workload on the model
 * (checker/workloads.ts). One is adjusted here: under nested translation
 * (guest strict or lazy over `nested`), an IOTLB miss walks the guest's
 * first stage through the host's second stage, (n+1)(m+1)-1 references
 * (model/nested-walk.ts nestedWalkRefs) rather than the n the model's
 * one-dimensional walk counted, with n = m = the cost machine's IOMMU levels.
 * Costs are the cost table's (costs/default-costs.json: walkRefs and vmExits
 * are marked there as assumptions).
 *
 * After the guest policies, one row per workload for morsels in a VM
 * (where "morsel", guest "vm-morsel", model/policies/vm-morsel.ts): each
 * I/O lends a host page to the VM, mounts it into the VM's EPT and to its
 * device through an AMD v1 view (the VM's host stage: no guest IOMMU, so no
 * exit and no nested walk), and unmounts it with an IOTLB invalidation and
 * INVEPT (counted in tlbShootdowns and costed as one: KVM flushes a VM's EPT
 * TLBs by kicking its vCPUs, Linux virt/kvm/kvm_main.c
 * kvm_flush_remote_tlbs). The model lends one host page at a time, so a
 * workload whose buffers are larger than a page reports the error.
 */
import { type CounterName } from "../../model/counters.ts";
import { nestedWalkRefs } from "../../model/nested-walk.ts";
import { findAnyPolicy } from "../../model/policies/index.ts";
import { GUEST_KINDS, guestPolicyName, VIOMMU_KINDS } from "../../model/policies/guest.ts";
import { type Policy, runsOn } from "../../model/policy.ts";
import { type IommuKind, type ModelConfig, withIommu } from "../../model/config.ts";
import { vmMorsel } from "../../model/policies/vm-morsel.ts";
import { estimateNs, type CostTable } from "../../costs/cost-table.ts";
import { COST_CONFIG, runWorkload, WorkloadError, WORKLOADS, type Workload } from "../workloads.ts";

export const VM_EXPERIMENT = "vm";

export interface VmRow {
  readonly workload: string;
  /** "native", the vIOMMU kind, or "morsel" (vm-morsel: a morsel of host memory mounted into the VM, no vIOMMU). */
  readonly where: "native" | "emulated" | "nested" | "virtio" | "morsel";
  /** The guest's (or the native kernel's) policy: strict, lazy, passthrough. */
  readonly guest: string;
  readonly policy: string;
  /**
   * Why the workload could not run (then every count is 0): guest lazy over a
   * shadowing kind keeps each freed buffer pinned until the flush, and the
   * model's one page allocator (guest and host) runs out before it comes on
   * net-tx's 16-page buffers; a real guest reuses its own freed pages.
   */
  readonly error: string | null;
  readonly vmExits: number;
  /** Host IOTLB invalidation commands (INVALIDATE_IOMMU_PAGES) per I/O. */
  readonly iotlbInvCmds: number;
  readonly iotlbMisses: number;
  /** Walk references per I/O, nested IOTLB misses counted as two-dimensional walks. */
  readonly walkRefs: number;
  /** Of walkRefs, the extra references of nested walks (the adjustment above). */
  readonly nestedExtraRefs: number;
  readonly pins: number;
  /** CPU TLB flushes per I/O: for vm-morsel, the unmount's INVEPT. */
  readonly tlbShootdowns: number;
  readonly nsPerIo: number;
  /** nsPerIo / native passthrough's on the same workload. */
  readonly vsNativePassthrough: number | null;
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

function measure(w: Workload, p: Policy, costs: CostTable, nested: boolean, ios?: number, cfg: ModelConfig = COST_CONFIG): { c: Record<CounterName, number>; extra: number; ns: number } {
  const c = { ...runWorkload(w, p, ios ?? w.ios, cfg).perIo };
  const L = cfg.iommuLevels;
  const extra = nested ? c.iotlbMisses * (nestedWalkRefs(L, L) - L) : 0;
  c.walkRefs += extra;
  return { c, extra, ns: estimateNs(c, costs) };
}

/** Rows workload by workload: native passthrough, strict, lazy, then each guest policy over each kind. */
export function vmExperiment(costs: CostTable, ios?: number, workloads: readonly Workload[] = WORKLOADS, iommu: IommuKind = "amd-v1"): VmRow[] {
  const rows: VmRow[] = [];
  const cfg = withIommu(COST_CONFIG, iommu);
  for (const w of workloads) {
    const settings: { where: VmRow["where"]; guest: string; policy: Policy }[] = [];
    for (const g of GUEST_KINDS) settings.push({ where: "native", guest: g, policy: findAnyPolicy(g)! });
    for (const v of VIOMMU_KINDS) for (const g of GUEST_KINDS) settings.push({ where: v, guest: g, policy: findAnyPolicy(guestPolicyName(g, v))! });
    settings.push({ where: "morsel", guest: vmMorsel.name, policy: vmMorsel });
    // The baseline first: native passthrough.
    const base = measure(w, findAnyPolicy("passthrough")!, costs, false, ios, cfg).ns;
    for (const s of settings) {
      if (!runsOn(s.policy, iommu)) continue;
      let m: ReturnType<typeof measure>;
      try {
        m = measure(w, s.policy, costs, s.where === "nested" && s.guest !== "passthrough", ios, cfg);
      } catch (e) {
        if (!(e instanceof WorkloadError)) throw e;
        rows.push({
          workload: w.name, where: s.where, guest: s.guest, policy: s.policy.name, error: e.message,
          vmExits: 0, iotlbInvCmds: 0, iotlbMisses: 0, walkRefs: 0, nestedExtraRefs: 0, pins: 0, tlbShootdowns: 0, nsPerIo: 0, vsNativePassthrough: null,
        });
        continue;
      }
      rows.push({
        workload: w.name, where: s.where, guest: s.guest, policy: s.policy.name, error: null,
        vmExits: round(m.c.vmExits, 3), iotlbInvCmds: round(m.c.iotlbInvCmds, 3), iotlbMisses: round(m.c.iotlbMisses, 3),
        walkRefs: round(m.c.walkRefs, 3), nestedExtraRefs: round(m.extra, 3), pins: round(m.c.pins, 3), tlbShootdowns: round(m.c.tlbShootdowns, 3),
        nsPerIo: round(m.ns, 3), vsNativePassthrough: base > 0 ? round(m.ns / base, 4) : null,
      });
    }
  }
  return rows;
}

export function renderVmExperiment(rows: readonly VmRow[], table: string): string {
  const out = [
    "Per I/O, natively and in a VM (guest policy over each vIOMMU kind). Counters are model counts;",
    `ns is an estimate (${table}); nested IOTLB misses are costed as two-dimensional walks. See docs/virtualisation.md.`,
  ];
  const header = ["where", "guest", "vmExits", "hostInv", "misses", "walkRefs", "pins", "ns/IO", "vs native pt"];
  for (const w of [...new Set(rows.map((r) => r.workload))]) {
    out.push("", `${w}:`);
    const lines = [header];
    for (const r of rows.filter((x) => x.workload === w)) {
      if (r.error !== null) {
        lines.push([r.where, r.guest, "-", "-", "-", "-", "-", "-", `(${r.error})`]);
        continue;
      }
      lines.push([r.where, r.guest, String(r.vmExits), String(r.iotlbInvCmds), String(r.iotlbMisses), String(r.walkRefs), String(r.pins), r.nsPerIo.toFixed(1),
        r.vsNativePassthrough === null ? "-" : `${r.vsNativePassthrough.toFixed(2)}x`]);
    }
    const wd2 = header.map((_, i) => Math.max(...lines.filter((l) => !l[8].startsWith("(")).map((l) => l[i].length)));
    for (const l of lines) out.push(("  " + l.map((c, i) => (i < 2 ? c.padEnd(wd2[i]) : c.padStart(wd2[i]))).join("  ")).trimEnd());
  }
  return out.join("\n") + "\n";
}

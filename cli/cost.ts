/** `dmacheck cost`: counters and estimated nanoseconds per I/O of each policy on named driver workloads. */
import { COUNTERS } from "../model/counters.ts";
import { findAnyPolicy, POLICIES } from "../model/policies/index.ts";
import { type Policy } from "../model/policy.ts";
import { costsDocument, defaultCosts, DEFAULT_COSTS_FILE, readCostsFile, type CostTable } from "../costs/cost-table.ts";
import { EXPERIMENT_NAME, morselVsVfio, renderExperiment } from "../checker/morsel-vs-vfio.ts";
import { costReport, type CostRow } from "../checker/cost-report.ts";
import { COST_CONFIG, findWorkload, WORKLOADS, WorkloadError, type Workload } from "../checker/workloads.ts";
import { EXIT_OK, fail } from "./errors.ts";
import { parseIommuFlag } from "./check.ts";
import { withIommu } from "../model/config.ts";
import { runsOn } from "../model/policy.ts";
import { knownPolicies, selectByName } from "./select.ts";
import { type Io } from "./io.ts";
import { DEFAULT_HOST_BYTES, metadataReport, parseHostSize, renderMetadata } from "../checker/experiments/metadata.ts";
import { renderVmExperiment, vmExperiment, VM_EXPERIMENT } from "../checker/experiments/vm.ts";
import { NET_EXPERIMENT, netExperiment, renderNetExperiment } from "../checker/experiments/net.ts";

export interface CostFlags {
  readonly workload?: string[];
  readonly policy?: string[];
  readonly costs?: string;
  readonly ios?: number;
  readonly json?: boolean;
  readonly experiment?: string;
  readonly hostSize?: string;
  /** `--iommu amd-v1|vtd`: the IOMMU of the cost machine. */
  readonly iommu?: string;
}

/** Experiments `--experiment` runs instead of the workload table. */
export const EXPERIMENTS = [EXPERIMENT_NAME, "metadata", VM_EXPERIMENT, NET_EXPERIMENT] as const;

export function runCost(flags: CostFlags, io: Io): number {
  if (flags.experiment !== undefined) return runExperiment(flags, io);
  if (flags.hostSize !== undefined) fail("--host-size needs --experiment metadata");
  const iommu = parseIommuFlag(flags.iommu) ?? "amd-v1";
  const policies = selectPolicies(flags.policy).filter((p) => {
    if (runsOn(p, iommu)) return true;
    if (flags.policy !== undefined) fail(`--policy: ${p.name} does not run on iommu ${iommu} (see --iommu)`);
    return false;
  });
  const workloads = selectWorkloads(flags.workload);
  const costs = selectCosts(flags);
  let rows: CostRow[];
  try {
    rows = costReport(policies, workloads, costs, flags.ios, withIommu(COST_CONFIG, iommu));
  } catch (e) {
    if (e instanceof WorkloadError) fail(e.message);
    throw e;
  }
  if (flags.json) {
    io.out(JSON.stringify({ costs: costsDocument(costs), rows }, null, 2) + "\n");
  } else {
    io.out(renderCost(rows, workloads, flags));
  }
  return EXIT_OK;
}

function selectCosts(flags: CostFlags): CostTable {
  if (flags.costs === undefined) return defaultCosts();
  const r = readCostsFile(flags.costs);
  if (!r.ok) fail(`--costs ${r.error}`);
  return r.value;
}

function runExperiment(flags: CostFlags, io: Io): number {
  // --iommu: the experiment's machines boot with that IOMMU; policies that do not run on it are left out.
  const iommu = flags.experiment === "metadata" ? "amd-v1" : parseIommuFlag(flags.iommu) ?? "amd-v1";
  switch (flags.experiment) {
    case EXPERIMENT_NAME: {
      // map and unmap costs by buffer size (checker/morsel-vs-vfio.ts)
      if (flags.workload !== undefined || flags.policy !== undefined || flags.ios !== undefined) {
        fail("--experiment runs its own policies and buffers: --workload, --policy and --ios do not apply");
      }
      if (flags.hostSize !== undefined) fail("--host-size needs --experiment metadata");
      const costs = selectCosts(flags);
      const rows = morselVsVfio(costs, iommu);
      if (flags.json) io.out(JSON.stringify({ experiment: EXPERIMENT_NAME, iommu, costs: costsDocument(costs), rows }, null, 2) + "\n");
      else io.out(renderExperiment(rows, flags.costs === undefined ? DEFAULT_COSTS_FILE : `${DEFAULT_COSTS_FILE} with ${flags.costs} over it`, iommu));
      return EXIT_OK;
    }
    case "metadata": {
      // struct-page bytes per backing scheme (checker/experiments/metadata.ts)
      if (flags.workload !== undefined || flags.policy !== undefined || flags.ios !== undefined || flags.costs !== undefined || flags.iommu !== undefined) {
        fail("--experiment metadata takes no --workload, --policy, --ios, --costs or --iommu");
      }
      const host = flags.hostSize === undefined ? DEFAULT_HOST_BYTES : parseHostSize(flags.hostSize);
      if (host === null) fail(`--host-size must be a positive size such as 1TiB, 512GiB or 4096, got ${JSON.stringify(flags.hostSize)}`);
      const r = metadataReport(host);
      io.out(flags.json ? JSON.stringify(r, null, 2) + "\n" : renderMetadata(r));
      return EXIT_OK;
    }
    case VM_EXPERIMENT: {
      // every workload natively and in a VM, per guest policy and vIOMMU kind (checker/experiments/vm.ts)
      if (flags.policy !== undefined || flags.hostSize !== undefined) fail("--experiment vm runs its own policies: --policy and --host-size do not apply");
      const costs = selectCosts(flags);
      const rows = vmExperiment(costs, flags.ios, selectWorkloads(flags.workload), iommu);
      if (flags.json) io.out(JSON.stringify({ experiment: VM_EXPERIMENT, iommu, costs: costsDocument(costs), rows }, null, 2) + "\n");
      else io.out(renderVmExperiment(rows, flags.costs === undefined ? DEFAULT_COSTS_FILE : `${DEFAULT_COSTS_FILE} with ${flags.costs} over it`));
      return EXIT_OK;
    }
    case NET_EXPERIMENT: {
      // net-rx and net-tx on page_pool beside the kmalloc path and damn; MAIO's zero copy against a copy to user space (checker/experiments/net.ts)
      if (flags.workload !== undefined || flags.policy !== undefined || flags.hostSize !== undefined) {
        fail("--experiment net runs its own workloads and policies: --workload, --policy and --host-size do not apply");
      }
      const costs = selectCosts(flags);
      const rows = netExperiment(costs, flags.ios, iommu);
      if (flags.json) io.out(JSON.stringify({ experiment: NET_EXPERIMENT, iommu, costs: costsDocument(costs), rows }, null, 2) + "\n");
      else io.out(renderNetExperiment(rows, flags.costs === undefined ? DEFAULT_COSTS_FILE : `${DEFAULT_COSTS_FILE} with ${flags.costs} over it`));
      return EXIT_OK;
    }
    default:
      return fail(`--experiment: unknown experiment ${JSON.stringify(flags.experiment)} (known: ${EXPERIMENTS.join(", ")})`);
  }
}

function selectPolicies(names: string[] | undefined): Policy[] {
  return selectByName("--policy", "policy", names, POLICIES, findAnyPolicy, knownPolicies());
}

function selectWorkloads(names: string[] | undefined): Workload[] {
  return selectByName("--workload", "workload", names, WORKLOADS, findWorkload, `known: ${WORKLOADS.map((x) => x.name).join(", ")}`);
}

/** A count per I/O: exact, with at most three decimals. */
function count(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 1000) / 1000);
}

/** One table per workload: policies across, estimate and counters down (counters 0 for every policy are left out). */
export function renderCost(rows: readonly CostRow[], workloads: readonly Workload[], flags: CostFlags): string {
  const table = flags.costs === undefined ? DEFAULT_COSTS_FILE : `${DEFAULT_COSTS_FILE} with ${flags.costs} over it`;
  const out = [
    "Per I/O. Counters are exact model counts (averaged over the I/Os); ns is an",
    `estimate: counters x the cost table (${table}). See docs/costs.md.`,
  ];
  for (const w of workloads) {
    const rs = rows.filter((r) => r.workload === w.name);
    const ios = flags.ios ?? w.ios;
    out.push("", `${w.name}: ${ios} I/Os, ${w.usPerIo} us of model time each`, `  one I/O: ${w.summary}`, "");
    const lines: string[][] = [
      ["", ...rs.map((r) => r.policy)],
      ["est. ns per I/O", ...rs.map((r) => r.nsPerIo.toFixed(1))],
      ["vs passthrough", ...rs.map((r) => (r.vsPassthrough === null ? "-" : `${r.vsPassthrough.toFixed(2)}x`))],
    ];
    for (const c of COUNTERS) {
      if (rs.every((r) => r.counters[c] === 0)) continue;
      lines.push([c, ...rs.map((r) => count(r.counters[c]))]);
    }
    const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
    for (const l of lines) {
      out.push("  " + l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i] + 2))).join("").trimEnd());
    }
  }
  return out.join("\n") + "\n";
}

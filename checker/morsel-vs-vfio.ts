/**
 * The comparison of Morsels with VFIO in Albes' Morsel IOMMU talk
 * (docs/reference/morsels.md; `dmacheck cost --experiment morsel-vs-vfio`): the cost of mapping a buffer for a device and of
 * unmapping it again, for buffers from 4 KiB to 1 GiB, under `vfio` (VFIO
 * type1: pin and map every page; unmap, sync, unpin every page) and under
 * `morsel` with 1 GiB morsels (map = link one entry; unmap = unlink,
 * invalidate, wait).
 *
 * Every measured figure is counted by the model's step function: each size
 * runs on a fresh machine, one DMA API call at a time, driven to completion
 * (`iommu` events while commands are pending, `resume` events while the call
 * is blocked). A warm-up map and unmap of the same size comes first, so that
 * IOMMU page-table frames (kept: reclaimEmptyTables off, as AMD's
 * io_pgtable keeps them) are not counted in the measured map.
 *
 * What a map or an unmap is: for vfio, the whole call (the buffer already
 * exists; pinning is VFIO's map work). For morsel, the call minus its first
 * map step (creating the morsel and populating it through the page-fault
 * path) and minus its last unmap step (dropping the creator's reference,
 * which frees the morsel's tables): in Morsels these belong to the object's
 * life, like allocating and freeing the buffer under vfio, not to mapping it
 * for a device (the talk's "mapping only" figure).
 *
 * The model holds at most 4096 frames and buddy blocks of 2^10 pages, so
 * buffers up to 4 MiB are run; the rows for 16 MiB to 1 GiB are
 * extrapolated (measured: false) with the affine function of the page count
 * through the two largest measured sizes. Every counter of vfio-4k and morsel
 * is affine in the page count over the measured sizes (tested), so the
 * extrapolation adds no shape of its own. vfio maps with the largest aligned
 * IOMMU pages (a pages buffer is a naturally aligned buddy block, as
 * huge-page memory is, and the IOVA is size-aligned): its PTE writes are the
 * AMD v1 encoding's PAGE_SIZE_PTE_COUNT for the one page of the buffer's
 * size (2^((log2 bytes - 12) mod 9): 4 KiB to 1 MiB one per 4 KiB page, 4 MiB
 * 2, 16 MiB 8, 1 GiB 1), computed for the extrapolated rows; its other
 * counters are affine.
 */
import { type IommuKind, type ModelConfig, withIommu } from "../model/config.ts";
import { runsOn } from "../model/policy.ts";
import { C, COUNTERS, NUM_COUNTERS, type CounterName, countersToRecord } from "../model/counters.ts";
import { amdReplicaCount } from "../model/formats/amd-v1-pte.ts";
import { type Event } from "../model/events.ts";
import { CALLS, CMDQ } from "../model/geometry.ts";
import { cmdCount } from "../model/command-queue.ts";
import { Observation } from "../model/observation.ts";
import { type Policy } from "../model/policy.ts";
import { type State } from "../model/state.ts";
import { makeSystem, OP_IDLE, Stepper } from "../model/system.ts";
import { vfio, vfio4k } from "../model/policies/vfio.ts";
import { makeMorselPolicy } from "../model/policies/morsel.ts";
import { estimateNs, type CostTable } from "../costs/cost-table.ts";

export const EXPERIMENT_NAME = "morsel-vs-vfio";

/** The machine: 16 MiB of memory, one CPU and device, a 16 MiB IOVA window at 1 GiB (so one 1 GiB morsel span covers it). */
export const EXPERIMENT_CONFIG: ModelConfig = {
  frames: 4096,
  cpus: 1,
  devices: 1,
  iovaPages: 4096,
  iovaBasePfn: 2 ** 18,
  iommuLevels: 3,
  fqSize: 255, // Linux IOVA_FQ_SIZE 256 slots, full at 255 entries (dma-iommu.c fq_full)
  fqTimeoutMs: 10,
  maxMappings: 2,
  maxObjects: 16,
  cmdQueueEntries: 512,
  maxOrder: 10,
  userPages: 0,
  reclaimEmptyTables: false,
};

const KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
/** Buffer sizes, 4 KiB to 1 GiB by factors of 4. */
export const EXPERIMENT_SIZES: readonly number[] = [4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB, 64 * MiB, 256 * MiB, GiB];
/** The largest buffer the model runs (2^maxOrder pages). */
export const LARGEST_MEASURED = 4 * MiB;

/** 1 GiB morsels, the talk's choice for large buffers: one level-3 entry mounts a buffer of any size up to 1 GiB. */
export const morselGiB: Policy = makeMorselPolicy({
  name: "morsel",
  summary: "morsel with 1 GiB subtrees",
  level: 2,
  encoding: "safe",
  pde: true,
});

interface Subject {
  readonly policy: Policy;
  /** Leading map steps and trailing unmap steps that create and destroy the object rather than map it (see above). */
  readonly mapObjectSteps: number;
  readonly unmapObjectSteps: number;
  /** Maps with the largest aligned IOMMU pages (vfio): the extrapolated rows' PTE writes follow AMD's page encoding, not a line. */
  readonly largePages?: boolean;
}
export const SUBJECTS: readonly Subject[] = [
  { policy: vfio, mapObjectSteps: 0, unmapObjectSteps: 0, largePages: true },
  { policy: vfio4k, mapObjectSteps: 0, unmapObjectSteps: 0 },
  { policy: morselGiB, mapObjectSteps: 1, unmapObjectSteps: 1 },
];

export interface ExperimentRow {
  readonly policy: string;
  readonly bytes: number;
  readonly op: "map" | "unmap";
  readonly counters: Readonly<Record<CounterName, number>>;
  /** Counters x the cost table, in ns. */
  readonly nsEstimate: number;
  /** False for sizes beyond the model, extrapolated from the measured ones. */
  readonly measured: boolean;
}

/** Runs one DMA API call to completion; the counters of each step, in order. */
function runCall(st: Stepper, s: State, first: Event): { state: State; steps: number[][] } {
  const steps: number[][] = [];
  let state = st.step(s, first);
  if (st.obs.noop) throw new Error(`${first.t} did not apply: ${st.obs.reason}`);
  steps.push([...st.obs.counters]);
  for (let guard = 0; state[CALLS][0] !== OP_IDLE; guard++) {
    if (guard > 10_000) throw new Error("the call never returned");
    state = st.step(state, cmdCount(state[CMDQ]) > 0 ? { t: "iommu" } : { t: "resume", cpu: 0 });
    steps.push([...st.obs.counters]);
  }
  return { state, steps };
}

function sum(steps: readonly number[][]): number[] {
  const out = new Array<number>(NUM_COUNTERS).fill(0);
  for (const c of steps) for (let i = 0; i < NUM_COUNTERS; i++) out[i] += c[i];
  return out;
}

/** Map and unmap counters of one buffer size under one subject, measured (on `cfg`, the experiment's machine with the chosen IOMMU). */
export function measure(subject: Subject, bytes: number, cfg: ModelConfig = EXPERIMENT_CONFIG): { map: number[]; unmap: number[] } {
  const sys = makeSystem(cfg, subject.policy);
  const st = new Stepper(sys, new Observation());
  const map: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: bytes, dir: "bidirectional" };
  const unmap: Event = { t: "unmap", cpu: 0, k: 0, free: true };
  let s = runCall(st, sys.init, map).state; // warm-up: builds the domain's tables
  s = runCall(st, s, unmap).state;
  const m = runCall(st, s, map);
  const u = runCall(st, m.state, unmap);
  return {
    map: sum(m.steps.slice(subject.mapObjectSteps)),
    unmap: sum(u.steps.slice(0, u.steps.length - subject.unmapObjectSteps)),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Entries one naturally aligned IOMMU page of 2^log2 bytes takes (the
 * largest page iommu_pgsize gives a size-aligned, physically contiguous
 * buffer): AMD v1 PAGE_SIZE_PTE_COUNT; VT-d, which offers 4 KiB, 2 MiB and
 * 1 GiB, one entry per page of the largest of those that fits.
 */
export function largePageEntries(vtd: boolean, log2: number): number {
  if (!vtd) return amdReplicaCount(log2);
  const page = log2 >= 30 ? 30 : log2 >= 21 ? 21 : 12;
  return 2 ** (log2 - page);
}

/**
 * Every row: per subject that runs on `iommu` (morsel is AMD v1 only), per
 * size, map then unmap.
 */
export function morselVsVfio(costs: CostTable, iommu: IommuKind = "amd-v1"): ExperimentRow[] {
  const rows: ExperimentRow[] = [];
  const cfg = withIommu(EXPERIMENT_CONFIG, iommu);
  for (const subject of SUBJECTS) {
    if (!runsOn(subject.policy, iommu)) continue;
    const measured = new Map<number, { map: number[]; unmap: number[] }>();
    for (const bytes of EXPERIMENT_SIZES) if (bytes <= LARGEST_MEASURED) measured.set(bytes, measure(subject, bytes, cfg));
    const sizes = [...measured.keys()];
    const [b1, b2] = sizes.slice(-2);
    for (const bytes of EXPERIMENT_SIZES) {
      for (const op of ["map", "unmap"] as const) {
        const got = measured.get(bytes);
        let c: number[];
        if (got !== undefined) c = got[op];
        else {
          const c1 = measured.get(b1)![op], c2 = measured.get(b2)![op];
          const t = (bytes - b1) / (b2 - b1);
          c = c1.map((x, i) => round3(x + (c2[i] - x) * t));
          // A naturally aligned, physically contiguous buffer of 2^n bytes is one IOMMU page (iommu_pgsize),
          // written as PAGE_SIZE_PTE_COUNT entries (AMD io_pgtable.c): 8 for 16 MiB, 1 for 1 GiB.
          if (subject.largePages === true) c[C.iommuPteWrites] = largePageEntries(iommu === "vtd", Math.log2(bytes));
        }
        const counters = countersToRecord(c);
        rows.push({ policy: subject.policy.name, bytes, op, counters, nsEstimate: round3(estimateNs(counters, costs)), measured: got !== undefined });
      }
    }
  }
  return rows;
}

/** Human-readable size: 4 KiB, 1 MiB, 1 GiB. */
export function sizeName(bytes: number): string {
  if (bytes >= GiB) return `${bytes / GiB} GiB`;
  if (bytes >= MiB) return `${bytes / MiB} MiB`;
  return `${bytes / KiB} KiB`;
}

/** The table `dmacheck cost --experiment morsel-vs-vfio` prints. */
export function renderExperiment(rows: readonly ExperimentRow[], costsLabel: string, iommu: IommuKind = "amd-v1"): string {
  const out = [
    "morsel-vs-vfio: mapping a buffer for a device and unmapping it (Morsel seeds vs VFIO type1).",
    ...(iommu === "vtd" ? ["IOMMU: Intel VT-d (4-level second-level tables; 4 KiB, 2 MiB and 1 GiB pages). Morsels are AMD v1 only: no morsel rows."] : []),
    `Counters are model counts; ns is an estimate: counters x the cost table (${costsLabel}).`,
    "Rows marked ~ are beyond the model's memory (4 MiB) and extrapolated from the two largest measured sizes.",
    "",
  ];
  const shown: CounterName[] = ["pins", "unpins", "iommuPteWrites", "iotlbInvCmds", "completionWaits", "containerLocks"];
  const header = ["policy", "op", "size", "est. ns", ...shown];
  const lines: string[][] = [header];
  for (const op of ["map", "unmap"] as const) {
    for (const r of rows.filter((x) => x.op === op)) {
      lines.push([r.policy, r.op, `${r.measured ? "" : "~"}${sizeName(r.bytes)}`, r.nsEstimate.toFixed(0), ...shown.map((c) => String(r.counters[c]))]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) out.push("  " + l.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ").trimEnd());
  out.push("", `Counters not shown are in --json (${COUNTERS.length} per row).`);
  return out.join("\n") + "\n";
}

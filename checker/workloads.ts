/**
 * Named, deterministic driver workloads for measuring what a policy costs
 * (`dmacheck cost`, docs/costs.md). A workload is a driver loop: it steps the
 * model one event at a time and looks at the state to decide what to do next
 * (an unmap that blocks on a COMPLETION_WAIT needs `iommu` events until the
 * command buffer is empty and `resume` events until the call returns). The
 * result is the event sequence it produced and the sum of the counters of
 * every step; replaying the events from boot gives the same sums.
 */
import { configProblem, PAGE_SIZE, type ModelConfig } from "../model/config.ts";
import { COUNTERS, C, NUM_COUNTERS, type CounterName } from "../model/counters.ts";
import { type BufferSource, type Direction, type Event, formatEvent } from "../model/events.ts";
import { CALLS, CALL_W, CMDQ, DTE, HDR, H_TIMER, MAPS } from "../model/geometry.ts";
import { cmdCount } from "../model/command-queue.ts";
import { anyFqTimer } from "../model/flush-queue.ts";
import { nthMapped } from "../model/dma-mapping.ts";
import { isPassthrough } from "../model/iommu.ts";
import { FAULT_NAMES, FAULT_NONE, Observation } from "../model/observation.ts";
import { type Policy } from "../model/policy.ts";
import { type State } from "../model/state.ts";
import { dmaAddress, makeSystem, MAX_DMA_LEN, OP_IDLE, Stepper, type System } from "../model/system.ts";

/**
 * The machine costs are measured on. The random and exhaustive configurations
 * are small on purpose (for checking); this one is sized so that the
 * workloads run as they would on Linux:
 * - 2048 frames (8 MiB) and maxOrder 8, so a 1 MiB (256-page) buffer is one buddy block;
 * - an IOVA window of 4096 pages (the model's maximum), so lazy's flush queue
 *   (256 entries, Linux IOVA_DEFAULT_FQ_SIZE) can fill with 1-page ranges;
 *   the window is aligned so that size-aligned ranges waste none of it;
 * - a 512-entry command buffer, as Linux's (CMD_BUFFER_SIZE 8192 / 16 bytes);
 * - reclaimEmptyTables off: AMD's io_pgtable keeps page-table pages once
 *   allocated, so a steady workload does not allocate and free a table per
 *   I/O (with reclamation on and one buffer in flight it would).
 */
export const COST_CONFIG: ModelConfig = {
  frames: 2048,
  cpus: 1,
  devices: 1,
  iovaPages: 4096,
  iovaBasePfn: 4096,
  iommuLevels: 3,
  fqSize: 255, // Linux IOVA_FQ_SIZE 256 slots, full at 255 entries (dma-iommu.c fq_full)
  fqTimeoutMs: 10,
  maxMappings: 4,
  maxObjects: 64,
  cmdQueueEntries: 512,
  maxOrder: 8,
  userPages: 0,
  reclaimEmptyTables: false,
};

/** A workload could not run to completion on a policy (a map failed, an access faulted, a call never returned). */
export class WorkloadError extends Error {}

/** Steps one workload drives a call for before deciding it will never return. */
const SETTLE_LIMIT = 10_000;

/** Steps the model and records events and counter sums; the driver's view of the machine. */
export class Driver {
  readonly obs = new Observation();
  readonly stepper: Stepper;
  readonly events: Event[] = [];
  readonly totals = new Float64Array(NUM_COUNTERS);
  state: State;
  /** I/O being run (1-based), for error messages. */
  io = 0;
  private us = 0;

  constructor(readonly sys: System) {
    this.stepper = new Stepper(sys, this.obs);
    this.state = sys.init;
  }

  step(e: Event): void {
    this.state = this.stepper.step(this.state, e);
    this.events.push(e);
    for (let c = 0; c < NUM_COUNTERS; c++) this.totals[c] += this.obs.counters[c];
  }

  /** A context with a DMA API call in progress (CALLS op word != idle), or -1. */
  private busyContext(): number {
    const calls = this.state[CALLS];
    for (let ctx = 0; ctx < this.sys.g.contexts; ctx++) if (calls[ctx * CALL_W] !== OP_IDLE) return ctx;
    return -1;
  }

  /** Runs the IOMMU until its command buffer is empty and resumes calls until every context is idle. */
  settle(): void {
    for (let n = 0; n < SETTLE_LIMIT; n++) {
      if (cmdCount(this.state[CMDQ]) > 0) this.step({ t: "iommu" });
      else {
        const ctx = this.busyContext();
        if (ctx < 0) return;
        this.step({ t: "resume", cpu: ctx });
      }
    }
    this.fail(`a DMA API call did not return after ${SETTLE_LIMIT} steps`);
  }

  /** Whether device 0 reaches memory untranslated (dma-direct). */
  get passthrough(): boolean {
    return isPassthrough(this.state[DTE], 0, this.sys.g.vtd);
  }

  /** dma_map_single of a fresh buffer on cpu 0 for dev 0; returns the DMA address. */
  map(src: BufferSource, size: number, dir: Direction): number {
    this.step({ t: "map", cpu: 0, dev: 0, src, size, dir });
    if (this.obs.noop) this.fail(`map: ${this.obs.reason}`);
    this.settle();
    // Workloads keep one mapping live at a time, so it is mapping 0.
    const m = nthMapped(this.state[MAPS], this.sys.cfg.maxMappings, 0);
    if (m < 0) this.fail("map failed (DMA_MAPPING_ERROR)");
    return dmaAddress(this.state[MAPS], m);
  }

  /** The device reads or writes `len` bytes from DMA address `addr`, in accesses of at most MAX_DMA_LEN. */
  dma(write: boolean, addr: number, len: number): void {
    // The dma event addresses a window page (a physical frame for a passthrough device) plus an offset.
    const base = this.passthrough ? 0 : this.sys.g.winBase;
    for (let done = 0; done < len; done += MAX_DMA_LEN) {
      const a = addr + done;
      const n = Math.min(MAX_DMA_LEN, len - done);
      const e: Event = { t: "dma", dev: 0, write, page: Math.floor(a / PAGE_SIZE) - base, offset: a % PAGE_SIZE, len: n };
      this.step(e);
      if (this.obs.fault !== FAULT_NONE || this.obs.counters[C.dmaBytes] !== n) {
        this.fail(`${formatEvent(e)}: ${FAULT_NAMES[this.obs.fault] || "not performed"}`);
      }
    }
  }

  /** The user process reads or writes its user page `page` on cpu 0 (a user-touch: TLB, walk, or page fault). */
  touchUser(page: number, write: boolean): void {
    this.step({ t: "user-touch", cpu: 0, page, write });
    if (this.obs.noop) this.fail(`user-touch: ${this.obs.reason}`);
  }

  /** dma_unmap of the live mapping, the driver freeing the buffer as soon as it returns; runs it to completion. */
  unmapAndFree(): void {
    this.step({ t: "unmap", cpu: 0, k: 0, free: true });
    if (this.obs.noop) this.fail(`unmap: ${this.obs.reason}`);
    this.settle();
  }

  /** dma_unmap of the live mapping, the driver keeping the buffer (handed to the stack or an XDP program); runs it to completion. */
  unmapAndHold(): void {
    this.step({ t: "unmap", cpu: 0, k: 0, free: false });
    if (this.obs.noop) this.fail(`unmap: ${this.obs.reason}`);
    this.settle();
  }

  /** XDP_TX of the (first) buffer the kernel holds, on cpu 0: its to-device mapping; returns the DMA address. */
  xdpTx(): number {
    this.step({ t: "xdp-tx", cpu: 0, k: 0 });
    if (this.obs.noop) this.fail(`xdp-tx: ${this.obs.reason}`);
    this.settle();
    const m = nthMapped(this.state[MAPS], this.sys.cfg.maxMappings, 0);
    if (m < 0) this.fail("xdp-tx: map failed (DMA_MAPPING_ERROR)");
    return dmaAddress(this.state[MAPS], m);
  }

  /**
   * One I/O of `size` bytes in page buffers: map, the device moves every
   * byte (writes for from-device, reads for to-device), unmap and free. A
   * policy with a largest mapping (bounce: 256 KiB) gets the I/O split into
   * mappings of at most that size, one after the other, as the block layer
   * splits a request to the device's dma_max_mapping_size.
   */
  transfer(size: number, dir: Direction, max: number = this.sys.policy.maxMappingBytes ?? size): void {
    for (let done = 0; done < size; done += max) {
      const n = Math.min(max, size - done);
      const addr = this.map("pages", n, dir);
      this.dma(dir === "from-device", addr, n);
      this.unmapAndFree();
    }
  }

  /** `us` microseconds of model time pass; the model's clock has whole milliseconds, so a tick of 1 ms every 1000 us. */
  advance(us: number): void {
    this.us += us;
    while (this.us >= 1000) {
      this.us -= 1000;
      this.step({ t: "tick", ms: 1 });
      this.settle();
    }
  }

  /** After the last I/O: time passes until no policy timer is armed, so deferred work (lazy's flush) is counted. */
  drainTimers(): void {
    for (let ms = 0; this.state[HDR][H_TIMER] !== 0 || anyFqTimer(this.state, this.sys.g); ms++) {
      if (ms > 100_000) this.fail("the policy timer never fired");
      this.step({ t: "tick", ms: 1 });
      this.settle();
    }
  }

  private fail(msg: string): never {
    throw new WorkloadError(`I/O ${this.io}: ${msg}`);
  }
}

export interface Workload {
  readonly name: string;
  /** What one I/O is, in one line. */
  readonly summary: string;
  /** I/Os averaged over by default. */
  readonly ios: number;
  /** Model time per I/O, in microseconds. */
  readonly usPerIo: number;
  /** Runs I/O number `i` (0-based) to completion. */
  io(d: Driver, i: number): void;
}

const KiB = 1024;

export const WORKLOADS: readonly Workload[] = [
  {
    name: "net-rx",
    summary: "map a 2 KiB kmalloc buffer from-device; the device writes a 1500-byte packet at its start; unmap and free",
    ios: 1000,
    // 10 us per packet: lazy's 10 ms timer fires about every 1000 packets,
    // while its 256-entry flush queue fills every 256.
    usPerIo: 10,
    io(d) {
      const addr = d.map("kmalloc", 2 * KiB, "from-device");
      d.dma(true, addr, 1500);
      d.unmapAndFree();
    },
  },
  {
    name: "net-tx",
    summary: "map a 64 KiB page buffer to-device; the device reads it in 8 KiB accesses; unmap and free",
    ios: 1000,
    // 50 us per segment (64 KiB at ~10 Gb/s), so lazy's timer flushes every
    // 200 segments. At 39 us or less the ring would fill first: 256 queued
    // 16-page ranges take all 4096 pages of the model's IOVA window, and the
    // next map fails before the unmap that would flush (Linux's IOVA space is
    // 2^48 bytes; the model's is at most 4096 pages).
    usPerIo: 50,
    io(d) {
      d.transfer(64 * KiB, "to-device");
    },
  },
  {
    name: "net-rx-desc",
    summary: "a 64-page (256 KiB) receive descriptor, mlx5 style: the device writes every 4 KiB page; mapped page by page, or as one range by a policy that batches descriptors (F&S)",
    ios: 100,
    // 64 pages of 4 KiB at ~10 Gb/s.
    usPerIo: 200,
    io(d) {
      const pages = 64;
      const batch = d.sys.policy.descriptorPages ?? 1;
      for (let done = 0; done < pages; done += batch) {
        const n = Math.min(batch, pages - done) * PAGE_SIZE;
        const addr = d.map("pages", n, "from-device");
        d.dma(true, addr, n);
        d.unmapAndFree();
      }
    },
  },
  {
    name: "nvme-read",
    summary: "map a page buffer from-device (4K, 16K, 64K, 256K, 1M in turn, split at NVMe's largest transfer: 128K with an IOMMU DMA domain, 252K under swiotlb); the device writes it in 8 KiB accesses; unmap and free",
    ios: 250,
    // 200 us per read on average (1.33 MiB per 5 reads, ~1.4 GB/s). Lazy then
    // holds 50 reads (~3400 IOVA pages) before its timer flushes, which the
    // 4096-page window allows; at 150 us a map finds no IOVA (read 62).
    usPerIo: 200,
    io(d, i) {
      d.transfer([4, 16, 64, 256, 1024][i % 5] * KiB, "from-device", nvmeMaxTransfer(d));
    },
  },
];

/**
 * The largest transfer NVMe maps at once. Linux drivers/nvme/host/pci.c caps
 * max_hw_sectors at dma_opt_mapping_size(); for an IOMMU DMA domain that is
 * iommu_dma_opt_mapping_size() = iova_rcache_range() = PAGE_SIZE <<
 * (IOVA_RANGE_CACHE_MAX_SIZE - 1) = 128 KiB (drivers/iommu/dma-iommu.c,
 * include/linux/iova.h IOVA_RANGE_CACHE_MAX_SIZE 6), so larger IOVAs never
 * miss the rcache. Under swiotlb (a policy declaring maxMappingBytes:
 * bounce), dma_max_mapping_size() is swiotlb_max_mapping_size(), which takes
 * NVMe's min_align_mask (NVME_CTRL_PAGE_SIZE - 1) rounded up to IO_TLB_SIZE
 * off the 256 KiB segment: 252 KiB (kernel/dma/swiotlb.c). A passthrough
 * device (dma-direct) has no such limit.
 */
export function nvmeMaxTransfer(d: Driver): number {
  const swiotlb = d.sys.policy.maxMappingBytes;
  if (swiotlb !== undefined) return swiotlb - roundUp(NVME_MIN_ALIGN_MASK, IO_TLB_SIZE);
  return d.passthrough ? Number.MAX_SAFE_INTEGER : IOMMU_DMA_OPT_MAPPING_SIZE;
}
/** Linux include/linux/iova.h IOVA_RANGE_CACHE_MAX_SIZE 6: PAGE_SIZE << 5. */
export const IOMMU_DMA_OPT_MAPPING_SIZE = PAGE_SIZE << 5;
/** Linux drivers/nvme/host/nvme.h NVME_CTRL_PAGE_SIZE 4096, set as the DMA min_align_mask minus one. */
const NVME_MIN_ALIGN_MASK = 4096 - 1;
/** Linux include/linux/swiotlb.h IO_TLB_SIZE (1 << IO_TLB_SHIFT 11). */
const IO_TLB_SIZE = 2048;
function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}

export interface WorkloadRun {
  readonly workload: string;
  readonly policy: string;
  readonly ios: number;
  /** Every event, from boot: replaying them gives `totals` again. */
  readonly events: readonly Event[];
  /** Counter sums over every step. */
  readonly totals: Readonly<Record<CounterName, number>>;
  /** totals / ios. */
  readonly perIo: Readonly<Record<CounterName, number>>;
}

/**
 * Drives `ios` I/Os of `w` on `sys` from boot (boot itself is not counted),
 * advancing model time after each, then lets pending timers fire. Returns
 * the driver: its events and counter sums. Throws WorkloadError when the
 * policy or machine cannot run the workload.
 */
export function driveWorkload(w: Workload, sys: System, ios = w.ios): Driver {
  const d = new Driver(sys);
  for (let i = 0; i < ios; i++) {
    d.io = i + 1;
    w.io(d, i);
    d.advance(w.usPerIo);
  }
  d.drainTimers();
  return d;
}

/** Runs `w` on `policy` on the cost configuration (or `cfg`) and averages the counters per I/O. */
export function runWorkload(w: Workload, policy: Policy, ios = w.ios, cfg: ModelConfig = COST_CONFIG): WorkloadRun {
  const bad = configProblem(cfg);
  if (bad !== null) throw new Error(`cost configuration: ${bad}`);
  const d = driveWorkload(w, makeSystem(cfg, policy), ios);
  const totals = {} as Record<CounterName, number>;
  const perIo = {} as Record<CounterName, number>;
  COUNTERS.forEach((n, c) => {
    totals[n] = d.totals[c];
    perIo[n] = d.totals[c] / ios;
  });
  return { workload: w.name, policy: policy.name, ios, events: d.events, totals, perIo };
}

/**
 * Small-scope configurations for the exhaustive engine: how much machine
 * (frames, CPUs, devices, IOVA pages, ...) and which finite alphabet of
 * events. The small-scope hypothesis (Jackson, "Software Abstractions"):
 * most bugs have small counterexamples, so exploring every execution of a
 * small configuration up to a depth finds them, and finding none is evidence
 * (within that bound) that there are none. docs/exhaustive.md says what a
 * bound proves and what it does not.
 */
import { type ModelConfig } from "../model/config.ts";
import { type BufferSource, type Direction, type Event } from "../model/events.ts";
import { type Policy } from "../model/policy.ts";

/** A buffer mapped as a range inside its allocation (dma_map_page of a sub-range, dma_map_single of an interior pointer). */
export interface MapRange {
  readonly src: BufferSource;
  /** Bytes the driver allocates. */
  readonly size: number;
  /** First byte mapped, and how many. */
  readonly offset: number;
  readonly len: number;
  /** Only this direction; absent: every direction of the alphabet. */
  readonly dir?: Direction;
}

export interface Alphabet {
  /** Driver buffer sizes mapped with kmalloc (each in every direction listed). */
  readonly kmallocSizes: readonly number[];
  /** Driver buffers of whole pages (bytes, rounded up to a power-of-two page count). */
  readonly pageSizes: readonly number[];
  readonly directions: readonly Direction[];
  /** Device accesses: window pages (or frames, for passthrough), byte offsets and lengths. */
  readonly dmaPages: readonly number[];
  readonly dmaOffsets: readonly number[];
  readonly dmaLens: readonly number[];
  /** Unmap the k-th live mapping, for k in 0..unmapSlots-1, with and without freeing the buffer. */
  readonly unmapSlots: number;
  /** Kernel allocations of these sizes (and a kfree of the first kernel object). */
  readonly kernelSizes: readonly number[];
  /** Model time steps (ms). */
  readonly tickMs: readonly number[];
  /** Frames an untrusted device's forged translated requests target (with --device untrusted,ats). */
  readonly forgedFrames: readonly number[];
  /** Buffers mapped as a range inside their allocation (each in every direction listed). Absent: none. */
  readonly mapRanges?: readonly MapRange[];
  /** User pages the process reads and writes on CPU 0 (user-touch; MAIO's shared pages are user pages 0..). Absent: none. */
  readonly userTouchPages?: readonly number[];
  /**
   * Guest-physical window pages a vCPU of the VM reads and writes on CPU 0
   * through the VM's EPT (guest-access, model/vm-ept.ts). Absent: none, or,
   * for a policy that mounts memory into a VM's EPT (Policy.eptTable,
   * vm-morsel), the dmaPages (policyScope).
   */
  readonly guestAccessPages?: readonly number[];
  /** User pages whose I/O page the process owning them gets (user-get) and puts back (user-put) on CPU 0: MAIO. Absent: none. */
  readonly userGetPages?: readonly number[];
  readonly userPutPages?: readonly number[];
  /** XDP_TX of the k-th held received buffer on CPU 0, for k in 0..xdpTxSlots-1 (xdp-tx). Absent: none. */
  readonly xdpTxSlots?: number;
}

export interface Scope {
  readonly config: ModelConfig;
  readonly alphabet: Alphabet;
}

/**
 * The default scope: one CPU, one device, 10 frames (5 free after boot), one
 * live mapping at a time, a 4-page IOVA window across a 2 MiB boundary. Every
 * built-in policy's space is exhausted in about a second. With two live
 * mappings lazy's space grows past tens of millions of states (each level
 * still larger than the last at depth 32), so that is a flag away, not the default.
 */
export const DEFAULT_SCOPE: Scope = {
  config: {
    frames: 10,
    cpus: 1,
    devices: 1,
    iovaPages: 4,
    iovaBasePfn: 512 - 2,
    iommuLevels: 3,
    fqSize: 2,
    fqTimeoutMs: 10,
    maxMappings: 1,
    maxObjects: 4,
    cmdQueueEntries: 8,
    maxOrder: 2,
    userPages: 0,
    reclaimEmptyTables: true,
  },
  alphabet: {
    // A 64-byte kmalloc buffer: mapped whole to the device, and from the device as an interior
    // pointer (bytes 32..47 of the object, dma_map_single of a field inside a larger struct).
    // The interior map costs nothing over mapping the object whole from the device (the same
    // 7,074 states for strict, the same verdicts everywhere) and makes byte grants smaller than
    // the allocation. Page-crossing ranges multiply the spaces (docs/exhaustive.md): a scope file away.
    kmallocSizes: [],
    mapRanges: [
      { src: "kmalloc", size: 64, offset: 0, len: 64, dir: "to-device" },
      { src: "kmalloc", size: 64, offset: 32, len: 16, dir: "from-device" },
    ],
    pageSizes: [],
    directions: ["to-device", "from-device"],
    dmaPages: [0, 1, 2, 3],
    dmaOffsets: [0, 64],
    dmaLens: [1],
    unmapSlots: 1,
    kernelSizes: [64],
    tickMs: [10],
    forgedFrames: [0],
  },
};

/**
 * The race scope (issue 10): what the default scope leaves out, searched
 * after it by `dmacheck check` up to a state bound (`--race-states`):
 * two CPUs, two live mappings each of which can be unmapped, and buffers as
 * drivers make them: a 64-byte kmalloc object's interior bytes 32..47 from
 * the device, one page to the device that is the second page of a two-page
 * block (dma_map_page of a sub-range that starts past its allocation's
 * first page), and a page-aligned length at an unaligned start inside a
 * two-page block from the device (it crosses a page boundary). The default
 * scope's 10 frames (5 free after boot) run out with two buffers and their
 * tables, so maps fail part-way and unwind. So a map racing an unmap on the
 * other CPU, an IOVA reused before its invalidation completed, a range that
 * loses its last page or is mapped from its allocation's first frame, and a
 * multi-page map that fails part-way and unwinds are all within reach. A
 * policy with per-device state (`perDeviceState`) gets two devices and 16
 * frames; every other policy's race pass then searches DEVICE_RACE_SCOPE.
 */
export const RACE_SCOPE: Scope = {
  config: { ...DEFAULT_SCOPE.config, cpus: 2, maxMappings: 2 },
  alphabet: {
    ...DEFAULT_SCOPE.alphabet,
    unmapSlots: 2,
    // One byte offset, granted in every buffer below (inside bytes 32..47 of the object, and
    // of the page-crossing range's second page): races are about which frame a page reaches;
    // byte positions are the default scope's job. Half the device accesses reach twice as deep.
    dmaOffsets: [32],
    mapRanges: [
      { src: "kmalloc", size: 64, offset: 32, len: 16, dir: "from-device" },
      { src: "pages", size: 8192, offset: 4096, len: 4096, dir: "to-device" },
      { src: "pages", size: 8192, offset: 2048, len: 4096, dir: "from-device" },
    ],
  },
};

/**
 * The device race scope: the race scope's buffers, mappings and accesses
 * with two devices on one CPU, each device in its own IOMMU domain. What it
 * reaches that the two-CPU race scope does not: one device's unmap while the
 * other device's mapping is live, so an invalidation or a table that names
 * the wrong domain is used (out-inv-dom0 in test/fixtures/outside: 6
 * events). One CPU, not two: with two CPUs and two devices, 100,000 states
 * reach depth 9 and the frames left cannot make a map fail part-way; with
 * one CPU, depth 14.
 */
export const DEVICE_RACE_SCOPE: Scope = {
  config: { ...RACE_SCOPE.config, cpus: 1, devices: 2 },
  alphabet: RACE_SCOPE.alphabet,
};

/**
 * The race scope for `policy` on the machine `base` (the default scope's
 * configuration with the run's IOMMU and device attributes): RACE_SCOPE's
 * CPUs, mappings and frames over it, and two devices for a policy that keeps
 * per-device state.
 */
export function raceScopeFor(policy: Policy, base: ModelConfig): Scope {
  const perDevice = policy.perDeviceState === true;
  return {
    config: {
      ...base, cpus: RACE_SCOPE.config.cpus, maxMappings: RACE_SCOPE.config.maxMappings,
      frames: perDevice ? Math.max(base.frames, 16) : base.frames, devices: perDevice ? 2 : base.devices,
    },
    alphabet: RACE_SCOPE.alphabet,
  };
}

/**
 * The race pass's scopes for `policy` on `base`, searched in order, each for
 * what the ones before it left undecided: the race scope, then, when it has
 * one device, the device race scope over `base`.
 */
export function raceScopesFor(policy: Policy, base: ModelConfig): Scope[] {
  const first = raceScopeFor(policy, base);
  if (first.config.devices !== 1) return [first];
  const d = DEVICE_RACE_SCOPE.config;
  return [first, { config: { ...base, cpus: d.cpus, devices: d.devices, maxMappings: d.maxMappings }, alphabet: DEVICE_RACE_SCOPE.alphabet }];
}

/**
 * The scope `policy` is searched in: `scope` itself, except that a policy
 * that mounts memory into a VM's EPT (Policy.eptTable: vm-morsel) gets
 * guest-access events on the dmaPages when the alphabet names no
 * guestAccessPages (no other policy can serve them, so they stay out of
 * every other policy's alphabet and state space).
 */
export function policyScope(policy: Policy, scope: Scope): Scope {
  if (policy.eptTable === undefined || scope.alphabet.guestAccessPages !== undefined) return scope;
  return { ...scope, alphabet: { ...scope.alphabet, guestAccessPages: scope.alphabet.dmaPages } };
}

/** The alphabet's map events for one CPU and device, in order, without duplicates. */
export function mapEvents(a: Alphabet, cpu: number, dev: number): Event[] {
  const out: Event[] = [];
  for (const size of a.kmallocSizes) for (const dir of a.directions) out.push({ t: "map", cpu, dev, src: "kmalloc", size, dir });
  for (const size of a.pageSizes) for (const dir of a.directions) out.push({ t: "map", cpu, dev, src: "pages", size, dir });
  for (const r of a.mapRanges ?? []) {
    for (const dir of r.dir === undefined ? a.directions : [r.dir]) {
      // A range that is the whole allocation is the plain map (the same event as kmallocSizes/pageSizes list).
      const e: Event = r.offset === 0 && r.len === r.size
        ? { t: "map", cpu, dev, src: r.src, size: r.size, dir }
        : { t: "map", cpu, dev, src: r.src, size: r.size, dir, offset: r.offset, len: r.len };
      if (!out.some((o) => o.t === "map" && o.src === r.src && o.size === r.size && o.dir === dir && o.offset === e.offset && o.len === e.len)) out.push(e);
    }
  }
  return out;
}

/**
 * The finite alphabet a scope implies, in a fixed order: maps, unmaps, the
 * IOMMU, resumes, device accesses, kernel allocation, time.
 */
export function alphabetEvents(scope: Scope): Event[] {
  const a = scope.alphabet;
  const c = scope.config;
  const out: Event[] = [];
  for (let cpu = 0; cpu < c.cpus; cpu++) {
    for (let dev = 0; dev < c.devices; dev++) out.push(...mapEvents(a, cpu, dev));
    for (let k = 0; k < a.unmapSlots; k++) for (const free of [true, false]) out.push({ t: "unmap", cpu, k, free });
  }
  out.push({ t: "iommu" });
  for (let cpu = 0; cpu <= c.cpus; cpu++) out.push({ t: "resume", cpu });
  for (let dev = 0; dev < c.devices; dev++) {
    for (const page of a.dmaPages) {
      for (const offset of a.dmaOffsets) {
        for (const len of a.dmaLens) {
          for (const write of [false, true]) {
            out.push({ t: "dma", dev, write, page, offset, len });
            if (c.ats === true) out.push({ t: "ats-dma", dev, write, page, offset, len });
          }
        }
      }
    }
    if (c.untrusted === true && c.ats === true) {
      for (const frame of a.forgedFrames) for (const write of [false, true]) out.push({ t: "dma-translated", dev, write, frame, offset: 0, len: 1 });
    }
  }
  for (const size of a.kernelSizes) out.push({ t: "kmalloc", size });
  if (a.kernelSizes.length > 0) out.push({ t: "kfree", k: 0 });
  for (const ms of a.tickMs) out.push({ t: "tick", ms });
  for (const page of a.userTouchPages ?? []) for (const write of [false, true]) out.push({ t: "user-touch", cpu: 0, page, write });
  for (const page of a.guestAccessPages ?? []) for (const write of [false, true]) out.push({ t: "guest-access", cpu: 0, page, write });
  for (const page of a.userGetPages ?? []) out.push({ t: "user-get", cpu: 0, page });
  for (const page of a.userPutPages ?? []) out.push({ t: "user-put", cpu: 0, page });
  for (let k = 0; k < (a.xdpTxSlots ?? 0); k++) out.push({ t: "xdp-tx", cpu: 0, k });
  // With a guest memory region: the kernel reading each frame through its direct map.
  if (c.guestMemory !== undefined) for (let frame = 0; frame < c.frames; frame++) out.push({ t: "kernel-read", frame });
  return out;
}

/** What a race-pass search is called in reports: the device race scope has one CPU (the race scope always two). */
export function raceScopeName(r: { readonly cpus: number }): string {
  return r.cpus === 1 ? "device race scope" : "race scope";
}

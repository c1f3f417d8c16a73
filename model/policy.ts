/**
 * The DMA-mapping policy interface. A policy decides what the DMA API does:
 * which IOVA, which entries, what is invalidated and when. Built-in policies
 * and a user's own (`dmacheck check --policy-module`) implement exactly this.
 *
 * A DMA API call runs on a context (a CPU, or the timer context) as a small
 * state machine: the policy's handler is called with phase 0 when the call
 * starts and with the phase it returned each time the call is resumed (a
 * `resume` event). It returns DONE when the call returns to the driver, FAIL
 * when a map fails (DMA_MAPPING_ERROR), or a phase number to block until the
 * next resume (typically: waiting for a COMPLETION_WAIT). Only the phase
 * number is kept between steps, so handlers derive everything else from the
 * model state through the Kernel they are given. Handlers must be
 * deterministic and must not throw.
 */
import { type Kernel } from "./kernel.ts";
import { type AttachMode } from "./iommu.ts";
import { type DeviceAttributes, type IommuKind, type ModelConfig } from "./config.ts";
import { type EventTag } from "./events.ts";

export const DONE = -1;
export const FAIL = -2;

/** Names of the properties a policy may claim (see properties/). */
export type PropertyName =
  | "page-confinement" | "byte-confinement" | "iotlb-coherence" | "pt-page-safety" | "pin-safety" | "pte-agreement"
  | "view-refinement" | "direct-map-exclusion" | "dma-integrity" | "stale-window" | "no-leak" | "availability"
  | "leftover-data" | "vm-confinement" | "consumed-data-integrity" | "user-confinement" | "call-progress";

/**
 * How long a translation may stay usable after its unmap has returned
 * (properties/stale-window.ts): at most `ms` of model time and at most
 * `unmaps` later deferred unmaps. Lazy: Linux drivers/iommu/dma-iommu.c
 * IOVA_DEFAULT_FQ_TIMEOUT and IOVA_DEFAULT_FQ_SIZE.
 */
export interface StaleBound {
  readonly ms: number;
  readonly unmaps: number;
}

/**
 * Properties every policy claims, whether its `claims` lists them or not: a
 * DMA API call that never returns (properties/call-progress.ts) is a bug in
 * any design, so no policy, built-in or loaded, may leave it unclaimed.
 */
export const UNIVERSAL_CLAIMS: readonly PropertyName[] = ["call-progress"];

/** The properties `p` claims: its own list, then the universal claims it does not list. */
export function claimsOf(p: Policy): readonly PropertyName[] {
  const extra = UNIVERSAL_CLAIMS.filter((n) => !p.claims.includes(n));
  return extra.length === 0 ? p.claims : [...p.claims, ...extra];
}

export interface Policy {
  /** Short name used on the command line and in files. */
  readonly name: string;
  /** One line: what it does. */
  readonly summary: string;
  /** The properties this policy claims to hold (UNIVERSAL_CLAIMS are claimed whether listed or not: claimsOf). */
  readonly claims: readonly PropertyName[];
  /**
   * The largest mapping the policy supports (Linux dma_max_mapping_size);
   * drivers split larger I/O, as the cost workloads do. Unlimited when absent.
   */
  readonly maxMappingBytes?: number;
  /**
   * Pages per receive descriptor that the driver maps as one contiguous IOVA
   * range and unmaps with one ranged invalidation (F&S: 64). Absent: the
   * driver maps and unmaps each page on its own (mlx5 without F&S).
   */
  readonly descriptorPages?: number;
  /** Words of policy-private state (part of the model state, hashed with it). */
  readonly stateWords?: number | ((cfg: ModelConfig) => number);
  /**
   * A name for each policy-private word ("pool frame + 1", "bitmap[0]"), in
   * word order, for decoded states (model/decode/; `dmacheck replay --diff`).
   * Off the hot path. Absent or short: the rest are named "word N".
   */
  readonly stateWordNames?: (cfg: ModelConfig) => readonly string[];
  /**
   * False when the policy's behaviour or private words depend on which slot
   * of the mapping table a mapping occupies (e.g. state indexed by slot), so
   * the exhaustive engine must not treat slots as interchangeable
   * (checker/symmetry.ts). Absent: slots are interchangeable.
   */
  readonly symmetric?: boolean;
  /**
   * Whether the exhaustive engine may treat CPUs as interchangeable
   * (checker/cpu-symmetry.ts). False: never. True: the policy promises that
   * its handlers never read `Kernel.ctx` or `Kernel.cpus` and its private
   * words hold no CPU number, so renaming CPUs commutes with every step
   * although it has private words or timer work. Absent: decided by the
   * checker's rules, which exclude a policy with private words, timer work
   * or user/VM hooks; a policy without those that branches on `Kernel.ctx`
   * must declare false. The flush queue is never renamed: a search whose
   * policy writes it stops with an error (its flushes walk the CPUs in order).
   */
  readonly cpuSymmetric?: boolean;
  /**
   * True when the policy keeps state per device beyond its domain (pools,
   * shadow buffers): the race scope (checker/scope.ts raceScopeFor) then has
   * two devices, so one device's buffers can meet another's on two CPUs.
   * Absent: one, and the device race scope after it has two on one CPU.
   */
  readonly perDeviceState?: boolean;
  /** How the device table attaches `dev` at boot, given the devices' attributes. */
  attach(dev: number, attrs: DeviceAttributes): AttachMode;
  /** dma_map_*: the mapping `m` (status "mapping") has its buffer segments; assign an IOVA and make it reachable. */
  map(k: Kernel, m: number, phase: number): number;
  /** dma_unmap_*: make mapping `m` unreachable; the driver regains the buffer when this returns DONE. */
  unmap(k: Kernel, m: number, phase: number): number;
  /** Work on the timer context when the timer armed with Kernel.armTimer expires. */
  timer?(k: Kernel, phase: number): number;
  /**
   * Work on the timer context when domain `dom`'s flush timer, armed with
   * Kernel.armFqTimer, expires (Linux fq_flush_timeout). Without it, such an
   * expiry does nothing.
   */
  fqTimer?(k: Kernel, dom: number, phase: number): number;
  /**
   * The driver allocates the `bytes`-byte buffer for mapping `m` (dma_map_single
   * and each dma_map_sg entry) and adds it as a segment (Kernel.addPoolBuffer,
   * Kernel.allocDriverBuffer). For DMA-aware allocators whose buffers come from
   * a pool; false when there is no memory. Absent: kmalloc or pages, as the
   * event says.
   */
  allocBuffer?(k: Kernel, m: number, bytes: number, pages: boolean): boolean;
  /** The driver frees the buffer of mapping `m` (after its unmap, or a failed map). Absent: kfree / free_pages. */
  freeBuffer?(k: Kernel, m: number): void;
  /**
   * The stale window the policy promises (stale-window). Absent: none, a
   * translation is never used after its unmap returned unless its
   * invalidation is already queued.
   */
  readonly staleBound?: StaleBound | ((cfg: ModelConfig) => StaleBound);
  /**
   * What the policy still holds for DMA in its private state (a bounce slot,
   * a shadow page) when nothing is mapped and nothing is in progress, in
   * words ("bounce slot frame 9 is still in use"), or null: no-leak asks it
   * at every quiescent state. Read-only: it must not change the state.
   */
  held?(k: Kernel): string | null;
  /**
   * The user process owning user page `page` (model/mmu.ts processOf) asks
   * for the I/O page behind it (a `user-get` event: MAIO delivering a
   * received buffer, or a free pool page to send from). Returns null when
   * done, or the reason the event does not apply (a no-op, rolled back).
   * Absent: every user-get is a no-op.
   */
  userGet?(k: Kernel, page: number): string | null;
  /** The process returns the I/O page behind user page `page` (a `user-put` event: put_page by the process); as userGet. */
  userPut?(k: Kernel, page: number): string | null;
  /**
   * Opt-in event kinds the random engine draws for this policy besides the
   * default ones (checker/arbitraries.ts OPT_IN_KINDS: "user-get",
   * "user-put", "xdp-tx"). Absent: none, so other policies' random runs are
   * unchanged. The exhaustive engine takes them from the scope's alphabet.
   */
  readonly events?: readonly EventTag[];
  /** Set-up at boot, after the device table: e.g. permanently mapped pools. */
  boot?(k: Kernel): void;
  /**
   * The IOMMUs the policy runs on (`--iommu`). Absent: every one, through the
   * Kernel services. Morsels write AMD v1 entries into tables the CPU shares,
   * so they are AMD-only; the VT-d broken variants are VT-d-only.
   */
  readonly iommus?: readonly IommuKind[];
  /**
   * Morsels in a VM (model/vm-ept.ts): the level-1 EPT table (a morsel view
   * table in EPT format) the VMM has linked into the VM's EPT for
   * guest-physical window page `page`, or -1 when the VM's EPT maps nothing
   * there. Read-only. Absent: the policy mounts nothing into a VM's CPUs, and
   * a `guest-access` event is a no-op.
   */
  eptTable?(k: Kernel, page: number): number;
  /**
   * With eptTable: the first of the policy words that hold the vCPUs' EPT TLB
   * (model/vm-ept.ts eptTlbWords: one per CPU per window page). The hardware
   * fills them on an EPT walk; only Kernel.invept clears them.
   */
  readonly eptTlbWord?: number;
}

/** Whether `p` runs on IOMMU `kind`. */
export function runsOn(p: Policy, kind: IommuKind): boolean {
  return p.iommus === undefined || p.iommus.includes(kind);
}

/**
 * Guest policies: a guest kernel's own DMA policy (strict, lazy, or
 * passthrough: iommu.passthrough=1 in the guest) over one kind of vIOMMU,
 * with the device assigned to the VM through VFIO.
 *
 * vIOMMU kinds:
 * - emulated: an emulated IOMMU in caching mode (VT-d CAP.CM, QEMU
 *   VTD_CAP_CM). The guest writes its own I/O page table and must invalidate
 *   after every change, maps included; each invalidation traps to the VMM
 *   (QEMU vtd_handle_iqt_write): one VM exit, a software walk of the guest
 *   table (QEMU vtd_page_walk), and VFIO_IOMMU_MAP_DMA / _UNMAP_DMA to shadow
 *   what changed into the host IOMMU (pin, map; unmap, IOTLB sync, unpin).
 * - nested: hardware two-stage translation (VT-d scalable-mode nesting, AMD
 *   GCR3 with GIOV): the IOMMU walks the guest's first-stage table itself,
 *   then the host's second stage (all of the VM's memory, mapped and pinned
 *   by the VMM when the VM starts). A map writes guest entries and exits to
 *   nobody; the guest's invalidations go through its emulated queue and the
 *   VMM forwards them (Linux iommufd IOMMU_HWPT_INVALIDATE): one exit each.
 *   An IOTLB miss costs the two-dimensional walk (model/nested-walk.ts).
 * - virtio: virtio-iommu (Linux drivers/iommu/virtio-iommu.c). The guest has
 *   no I/O page table: viommu_map_pages and viommu_unmap_pages queue MAP and
 *   UNMAP requests (viommu_add_req), and viommu_sync_req kicks the request
 *   queue and waits (iotlb_sync_map after a map, iotlb_sync after a strict
 *   unmap, flush_iotlb_all at a lazy flush): one exit per kick. The host
 *   serves each request through VFIO as the emulated kind does, without a
 *   table walk.
 *
 * Guest passthrough over any kind: the guest's domain is an identity
 * (guest IOVA = guest-physical address), so the VMM maps the VM's whole
 * memory in the host IOMMU at boot (QEMU maps the system address space when
 * the vIOMMU is bypassed) and the guest's maps and unmaps exit to nobody.
 *
 * State (part of the model state):
 * - The host: the model's frames, IOMMU table and IOTLB. For emulated and
 *   virtio the IOMMU table is the host's shadow (gIOVA -> hPA). For nested it
 *   stands for the composition the hardware walks, first stage over second
 *   stage (gIOVA -> gPA -> hPA), and the IOTLB caches that composed
 *   translation as a nested IOTLB does; the first-stage tables are the
 *   IOMMU table frames (guest memory), the second stage is the VM's memory
 *   map (identity for every frame that is not ROLE_HOST).
 * - The guest's I/O page table (policy words, one entry per domain and window
 *   page: guest-physical frame + 1, or 0): written by the guest, walked by
 *   the VMM at each exit (emulated), by the hardware (nested); for virtio it
 *   is the guest driver's own record of its mappings (viommu_domain's
 *   interval tree) that its requests describe.
 * - Frames the VMM is to unpin once a lazy flush's host invalidation completes.
 * - Memory unplug: once, at the policy timer's first expiry, the VMM unplugs
 *   one free guest page (virtio-mem style): it unmaps whatever host IOMMU
 *   entry reaches it, invalidates, waits, and only then hands the frame to the
 *   host (model/vm-memory.ts). One frame outside the VM is reserved at boot.
 *
 * Guest-physical = host-physical for the VM's frames; guest passthrough puts
 * guest-physical frame f at IOVA page window base + (f - the first frame free
 * at boot), and a buffer beyond the window fails to map.
 */
import { DONE, FAIL, type Policy, type PropertyName } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { type ModelConfig } from "../config.ts";
import { DTE, FRAMES, PTMEM } from "../geometry.ts";
import { TAG_FQ, walkMemory, WalkResult } from "../iommu-page-table.ts";
import { firstFreeFrame, handToHost, HOST_OWNED, HOST_UNPLUGGING, takeHostFrame } from "../vm-memory.ts";
import { frameRole, ROLE_HOST, ROLE_IOMMU_PT } from "../physical-memory.ts";
import { MAP_START, mapWithIova, strict, UNMAP_START, unmapStart } from "./strict.ts";
import { finishUnmapAndUnpin, pinAndMap } from "./vfio.ts";

export type GuestKind = "strict" | "lazy" | "passthrough";
export type ViommuKind = "emulated" | "nested" | "virtio";
export const GUEST_KINDS: readonly GuestKind[] = ["strict", "lazy", "passthrough"];
export const VIOMMU_KINDS: readonly ViommuKind[] = ["emulated", "nested", "virtio"];

/** The policy name for a guest policy over a vIOMMU kind. */
export function guestPolicyName(guest: GuestKind, viommu: ViommuKind): string {
  return `guest-${guest}@${viommu}`;
}

/** Deliberate VMM bugs (BROKEN_GUEST_POLICIES). */
export interface VmmFaults {
  /** Guest passthrough: the VMM maps the whole guest-physical window without checking it against the VM's memory. */
  readonly mapsOutsideVm?: boolean;
  /** Memory unplug: the VMM unmaps the page from the host stage but does not invalidate the IOTLB before the host reuses it. */
  readonly unplugNoInvalidate?: boolean;
}

/** Model time after boot at which the VMM unplugs a guest page (an assumption: soon enough for the model's runs). */
export const UNPLUG_AFTER_MS = 10;

// --- policy words: [0, D*W) guest table; [D*W, 2*D*W) frames to unpin after a flush; then unplug state, window start.
function guestTableWords(k: Kernel): number {
  return k.devices * k.windowPages;
}
function gpt(k: Kernel, dev: number, i: number): number {
  return k.pol(dev * k.windowPages + i);
}
function setGpt(k: Kernel, dev: number, i: number, v: number): void {
  k.setPol(dev * k.windowPages + i, v);
}
function unpinWord(k: Kernel, dev: number, i: number): number {
  return guestTableWords(k) + dev * k.windowPages + i;
}
/** Unplug state: 0 not yet, 1 done (or nothing to unplug), f + 2 frame f being unplugged. */
function unplugWord(k: Kernel): number {
  return 2 * guestTableWords(k);
}
/** First frame of the guest-physical window (+1; 0 = none), fixed at boot. */
function windowStartWord(k: Kernel): number {
  return 2 * guestTableWords(k) + 1;
}

/**
 * The VFIO container lock (iommu->lock, taken by vfio_dma_do_map and
 * vfio_dma_do_unmap): holder context + 1, or 0. The VMM's shadowing map or
 * unmap, its flush and its unplug hold it until their host invalidation has
 * completed, so they never interleave in the host table.
 */
function lockWord(k: Kernel): number {
  return 2 * guestTableWords(k) + 2;
}
function acquire(k: Kernel): boolean {
  const w = k.pol(lockWord(k));
  if (w !== 0 && w !== k.ctx + 1) return false;
  k.setPol(lockWord(k), k.ctx + 1);
  return true;
}
function release(k: Kernel): void {
  k.setPol(lockWord(k), 0);
}

/** Words of private state a guest policy needs. */
export function guestStateWords(cfg: ModelConfig): number {
  return 2 * cfg.devices * cfg.iovaPages + 3;
}

/** The guest's entry for IOVA page `v` of `dev`: guest-physical frame + 1, or 0 (tests read it through this). */
export function guestEntry(k: Kernel, dev: number, v: number): number {
  return gpt(k, dev, v - k.windowBase);
}

/** Writes (or clears) the guest's entries for mapping `m`. */
function recordGuest(k: Kernel, m: number, present: boolean): void {
  const dev = k.dev(m);
  let i = k.iova(m) - k.windowBase;
  for (let s = 0; s < k.segments(m); s++) {
    const first = k.segFirstFrame(m, s);
    for (let p = 0; p < k.segPages(m, s); p++, i++) if (i >= 0 && i < k.windowPages) setGpt(k, dev, i, present ? first + p + 1 : 0);
  }
}

const walk = new WalkResult();
/** The host frame the IOMMU table maps IOVA page `v` of `dev` to, or -1 (the VMM's view; no cost). */
function hostFrameAt(k: Kernel, dev: number, v: number): number {
  return walkMemory(k.tx, k.tx.c[PTMEM], k.tx.c[DTE], dev, v, walk).frame;
}

/** A VM exit to the VMM; `walkPages` pages of the guest table walked in software. */
function exit(k: Kernel, walkPages: number, why: string): void {
  k.count("vmExits");
  if (walkPages > 0) k.count("walkRefs", walkPages * k.tx.g.cfg.iommuLevels);
  k.note(`VM exit (${why})`);
}

// --- guest passthrough: the VM's memory mapped at boot

function windowPageOf(k: Kernel, f: number): number {
  const start = k.pol(windowStartWord(k)) - 1;
  const i = f - start;
  return start < 0 || i < 0 || i >= k.windowPages ? -1 : k.windowBase + i;
}

/**
 * Boot for guest passthrough: the VMM maps the VM's memory in every translated
 * domain, frame start + i at window page i. The host tables are built first
 * (their frames are the host's), then the window starts at the first frame
 * still free; a correct VMM leaves out frames outside the VM.
 */
function mapVmMemory(k: Kernel, faults: VmmFaults): void {
  for (let dev = 0; dev < k.devices; dev++) {
    if (k.attachMode(dev) !== "translate") continue;
    for (let i = 0; i < k.windowPages; i++) k.mapPage(dev, k.windowBase + i, 0, true, true);
  }
  const start = firstFreeFrame(k.tx);
  k.setPol(windowStartWord(k), start + 1);
  takeHostFrame(k.tx, HOST_OWNED, k.obs);
  for (let dev = 0; dev < k.devices; dev++) {
    if (k.attachMode(dev) !== "translate") continue;
    for (let i = 0; i < k.windowPages; i++) {
      const f = start + i;
      const inVm = start >= 0 && f < k.tx.g.cfg.frames && (frameRole(k.tx.c[FRAMES], f) !== ROLE_HOST || faults.mapsOutsideVm === true) &&
        frameRole(k.tx.c[FRAMES], f) !== ROLE_IOMMU_PT;
      if (inVm) k.mapPage(dev, k.windowBase + i, f, true, true);
      else k.unmapPages(dev, k.windowBase + i, 1);
    }
  }
  k.freeDetachedTables(); // nothing was cached yet: no invalidation needed
}

function passthroughMap(k: Kernel, m: number): number {
  let v0 = -1;
  for (let s = 0; s < k.segments(m); s++) {
    const first = k.segFirstFrame(m, s);
    for (let p = 0; p < k.segPages(m, s); p++) {
      const v = windowPageOf(k, first + p);
      if (v < 0) return FAIL; // beyond what the device can address (dma-direct would bounce it: not modelled)
      if (s === 0 && p === 0) v0 = v;
    }
  }
  k.setIova(m, v0);
  return DONE;
}

// --- lazy: the guest's flush queue, flushed by one invalidation of every domain

export const L_START = 0, L_FLUSH_WAIT = 1;

export function makeGuestPolicy(guest: GuestKind, viommu: ViommuKind, faults: VmmFaults = {}, name = guestPolicyName(guest, viommu)): Policy {
  const shadowed = viommu !== "nested";
  const guestWritesTable = viommu === "emulated";

  /** The guest's flush: one exit; the VMM unshadows what the guest dropped (emulated, virtio), invalidates and waits. */
  function startFlush(k: Kernel): boolean {
    let need = 1;
    for (let dev = 0; dev < k.devices; dev++) if (k.attachMode(dev) === "translate") need += k.invalidationCommands(dev);
    if (k.cmdSpace() < need || (shadowed && !acquire(k))) return false;
    exit(k, shadowed && guestWritesTable ? k.windowPages : 0, viommu === "virtio" ? "the guest kicks its queued UNMAP requests" : "the guest's invalidation of its whole domain");
    for (let dev = 0; dev < k.devices; dev++) {
      if (k.attachMode(dev) !== "translate") continue;
      if (shadowed) {
        for (let i = 0; i < k.windowPages; i++) {
          if (gpt(k, dev, i) !== 0) continue;
          const f = hostFrameAt(k, dev, k.windowBase + i);
          if (f < 0) continue;
          k.unmapPages(dev, k.windowBase + i, 1);
          k.setPol(unpinWord(k, dev, i), f + 1);
        }
        k.count("containerLocks");
      }
      k.invalidateAll(dev);
    }
    k.completionWait();
    k.fqStartFlush();
    return true;
  }
  /** After the flush's wait: free the host tables it emptied, unpin (vfio_unmap_unpin order), release the queue. */
  function finishFlush(k: Kernel): boolean {
    if (!k.completionDone()) return false;
    if (shadowed) {
      k.freeDetachedTables();
      release(k);
      for (let dev = 0; dev < k.devices; dev++) {
        for (let i = 0; i < k.windowPages; i++) {
          const w = unpinWord(k, dev, i);
          const f = k.pol(w) - 1;
          if (f < 0) continue;
          k.unpin(f);
          k.setPol(w, 0);
        }
      }
    }
    k.fqFinishFlush();
    return true;
  }

  function strictMap(k: Kernel, m: number, phase: number): number {
    let r: number;
    if (!shadowed) {
      r = mapWithIova(k, m, phase); // the guest writes its first-stage entries; the hardware walks them: no exit
    } else {
      if (phase === MAP_START) {
        if (!acquire(k)) return MAP_START; // another exit holds the VFIO lock: wait
        if (guestWritesTable) k.count("iommuPteWrites", k.pages(m));
        exit(k, guestWritesTable ? k.pages(m) : 0, guestWritesTable ? "map: caching-mode invalidation" : "map: the guest kicks a MAP request");
        k.count("containerLocks"); // VFIO_IOMMU_MAP_DMA (vfio_dma_do_map)
      }
      r = pinAndMap(k, m, phase);
      if (r < 0) release(k);
    }
    if (r === DONE) recordGuest(k, m, true);
    return r;
  }

  function strictUnmap(k: Kernel, m: number, phase: number): number {
    if (phase !== UNMAP_START) {
      if (!shadowed) return strict.unmap(k, m, phase);
      const d = finishUnmapAndUnpin(k, m, phase);
      if (d < 0) release(k);
      return d;
    }
    if (shadowed && !acquire(k)) return UNMAP_START;
    const r = unmapStart(k, m, "always");
    if (r === UNMAP_START) return r; // the host's command buffer is full: retried
    recordGuest(k, m, false);
    if (guestWritesTable) k.count("iommuPteWrites", k.pages(m));
    exit(k, guestWritesTable ? k.pages(m) : 0, viommu === "virtio" ? "unmap: the guest kicks an UNMAP request" : "unmap: the guest's invalidation and wait");
    if (shadowed) k.count("containerLocks"); // VFIO_IOMMU_UNMAP_DMA (vfio_dma_do_unmap)
    return r;
  }

  function lazyUnmap(k: Kernel, m: number, phase: number): number {
    const dev = k.dev(m);
    if (phase === L_START) {
      if (!shadowed) k.unmapPages(dev, k.iova(m), k.pages(m), TAG_FQ); // the hardware sees the cleared first-stage entries
      recordGuest(k, m, false); // emulated: the guest clears its entries; virtio: UNMAP queued, not kicked
      if (guestWritesTable) k.count("iommuPteWrites", k.pages(m));
      if (k.fqFull()) {
        if (!startFlush(k)) return L_START;
        return L_FLUSH_WAIT;
      }
    } else if (!finishFlush(k)) return L_FLUSH_WAIT;
    k.fqPush(dev, k.iova(m), k.pages(m));
    k.armTimer(k.fqTimeoutMs);
    return DONE;
  }

  const untrustedKind = (k: Kernel): GuestKind => (k.untrusted && guest !== "strict" ? "strict" : guest);

  // Timer phases: the VMM's unplug, then (lazy) the guest's flush.
  const T_START = 0, T_UNPLUG_WAIT = 1, T_FLUSH = 2, T_FLUSH_WAIT = 3;

  /** Starts the unplug of one free guest page; returns the next timer phase. */
  function startUnplug(k: Kernel): number {
    let need = 1;
    for (let dev = 0; dev < k.devices; dev++) if (k.attachMode(dev) === "translate") need += k.invalidationCommands(dev);
    if (k.cmdSpace() < need || !acquire(k)) return T_START;
    const f = takeHostFrame(k.tx, HOST_UNPLUGGING, k.obs);
    if (f < 0) {
      k.setPol(unplugWord(k), 1);
      release(k);
      return T_FLUSH;
    }
    k.note(`VMM: unplugging guest frame ${f}`);
    for (let dev = 0; dev < k.devices; dev++) {
      if (k.attachMode(dev) !== "translate") continue;
      for (let i = 0; i < k.windowPages; i++) if (hostFrameAt(k, dev, k.windowBase + i) === f) k.unmapPages(dev, k.windowBase + i, 1);
      if (faults.unplugNoInvalidate !== true) k.invalidateAll(dev);
    }
    if (faults.unplugNoInvalidate === true) {
      handToHost(k.tx, f, k.obs);
      k.setPol(unplugWord(k), 1);
      release(k);
      return T_FLUSH;
    }
    k.completionWait();
    k.setPol(unplugWord(k), f + 2);
    return T_UNPLUG_WAIT;
  }

  const policy: Policy = {
    name,
    summary: `guest ${guest === "passthrough" ? "passthrough (iommu.passthrough=1)" : guest} over ${
      viommu === "emulated" ? "an emulated caching-mode vIOMMU (VM exit per map and invalidation, VMM shadows through VFIO)"
        : viommu === "nested" ? "a nested IOMMU (hardware walks guest then host tables; exits only for invalidations)"
        : "virtio-iommu (MAP/UNMAP requests, one exit per kick, host maps through VFIO)"
    }`,
    claims: guestClaims(guest, viommu),
    stateWords: guestStateWords,
    cpuSymmetric: false, // the guest's lock word holds Kernel.ctx + 1
    stateWordNames: (cfg: ModelConfig) => {
      const table = (what: string) => Array.from({ length: cfg.devices * cfg.iovaPages }, (_, j) =>
        `${what} dev${Math.floor(j / cfg.iovaPages)} IOVA page 0x${(cfg.iovaBasePfn + (j % cfg.iovaPages)).toString(16)}`);
      return [...table("guest entry (frame + 1)"), ...table("unpin after flush"), "unplug state", "guest window first frame + 1", "VFIO lock holder context + 1"];
    },
    attach: () => "translate",
    // Linux dma-iommu.c in the guest: IOVA_DEFAULT_FQ_TIMEOUT, IOVA_DEFAULT_FQ_SIZE.
    ...(guest === "lazy" ? { staleBound: (cfg: ModelConfig) => ({ ms: cfg.fqTimeoutMs, unmaps: cfg.fqSize }) } : {}),
    boot(k: Kernel): void {
      // The host's own memory, inside the guest-physical window's span: a VMM that maps that span blindly reaches it.
      if (untrustedKind(k) === "passthrough") mapVmMemory(k, faults);
      else takeHostFrame(k.tx, HOST_OWNED, k.obs);
      k.armTimer(UNPLUG_AFTER_MS);
    },
    map(k: Kernel, m: number, phase: number): number {
      if (untrustedKind(k) === "passthrough") return passthroughMap(k, m);
      return strictMap(k, m, phase);
    },
    unmap(k: Kernel, m: number, phase: number): number {
      const g = untrustedKind(k);
      if (g === "passthrough") return DONE;
      if (g === "lazy") return lazyUnmap(k, m, phase);
      return strictUnmap(k, m, phase);
    },
    timer(k: Kernel, phase: number): number {
      if (phase === T_START) {
        if (k.pol(unplugWord(k)) === 0) {
          phase = startUnplug(k);
          if (phase !== T_FLUSH) return phase;
        } else phase = T_FLUSH;
      }
      if (phase === T_UNPLUG_WAIT) {
        if (!k.completionDone()) return T_UNPLUG_WAIT;
        k.freeDetachedTables();
        handToHost(k.tx, k.pol(unplugWord(k)) - 2, k.obs);
        k.setPol(unplugWord(k), 1);
        release(k);
        phase = T_FLUSH;
      }
      if (untrustedKind(k) !== "lazy") return DONE;
      if (phase === T_FLUSH) return startFlush(k) ? T_FLUSH_WAIT : T_FLUSH;
      return finishFlush(k) ? DONE : T_FLUSH_WAIT;
    },
  };
  return policy;
}

/**
 * What each guest policy claims: what the guest's policy claims natively
 * (strict, lazy, passthrough), plus vm-confinement, with two exceptions the
 * checker shows (docs/virtualisation.md):
 * - guest passthrough does not claim iotlb-coherence: the device reaches VM
 *   memory through cached translations no DMA mapping covers (the VMM's
 *   permanent map), which that property counts as stale;
 * - guest lazy over nested does not claim no-leak: with the VMM's frame taken,
 *   a map that fails for want of a table frame leaves an empty upper-level
 *   table linked (10 events in the default scope), which native lazy, with
 *   one frame more, does not reach.
 * Every claim is checked (test/checker/vm.test.ts).
 */
export function guestClaims(guest: GuestKind, viommu: ViommuKind): PropertyName[] {
  if (guest === "strict") {
    return ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "availability", "vm-confinement"];
  }
  if (guest === "lazy") {
    return viommu === "nested"
      ? ["pt-page-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "vm-confinement"]
      : ["pt-page-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "no-leak", "vm-confinement"];
  }
  return ["pt-page-safety", "pte-agreement", "view-refinement", "stale-window", "no-leak", "availability", "vm-confinement"];
}

/** The nine guest policies: guest strict, lazy, passthrough over emulated, nested, virtio. */
export const GUEST_POLICIES: readonly Policy[] = GUEST_KINDS.flatMap((g) => VIOMMU_KINDS.map((v) => makeGuestPolicy(g, v)));

/** Broken VMMs, each caught by vm-confinement (test/checker/vm.test.ts); kept out of BROKEN_POLICIES. */
export const BROKEN_GUEST_POLICIES: readonly Policy[] = [
  makeGuestPolicy("passthrough", "emulated", { mapsOutsideVm: true }, "guest-passthrough@emulated-vmm-maps-outside-vm"),
  makeGuestPolicy("passthrough", "nested", { unplugNoInvalidate: true }, "guest-passthrough@nested-unplug-no-invalidate"),
  makeGuestPolicy("lazy", "nested", { unplugNoInvalidate: true }, "guest-lazy@nested-unplug-no-invalidate"),
];

export function findGuestPolicy(name: string): Policy | undefined {
  return GUEST_POLICIES.find((p) => p.name === name) ?? BROKEN_GUEST_POLICIES.find((p) => p.name === name);
}

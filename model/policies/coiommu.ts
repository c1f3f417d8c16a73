/**
 * coiommu: CoIOMMU (Tian et al., USENIX ATC'20; crosvm
 * devices/src/pci/coiommu.rs), a virtual IOMMU whose purpose is to avoid
 * pinning all of a VM's memory for a passthrough device, not to protect the
 * guest from the device: crosvm says it "doesn't provide the intra-guest
 * protection so it can only be used for the TRUSTED passthrough devices".
 *
 * - The guest uses dma-direct: a buffer's DMA address is its guest-physical
 *   address. The model places guest-physical page f at IOVA page
 *   window base + f (frames beyond the window are beyond the device's reach:
 *   such a map fails, DMA_MAPPING_ERROR).
 * - DMA Tracking Table (DTT), shared by guest and host, one 32-bit entry per
 *   guest page: PINNED bit 31 (crosvm DTTE_PINNED_FLAG 1 << 31), ACCESSED bit
 *   30 (DTTE_ACCESSED_FLAG 1 << 30), a map count below.
 * - Map: for each page the guest increments the map count and sets ACCESSED.
 *   If some page is not PINNED it asks the host through the CoIOMMU device
 *   (one VM exit per map, the request batched): the host pins the page and
 *   maps it in the host IOMMU (vfio_dma_map) and sets PINNED (fetch_or).
 *   Pages already PINNED need nothing: no exit.
 * - Unmap: the guest only decrements the map count. No exit, no
 *   invalidation: the host mapping stays until the unpinner removes it.
 * - The host's LRU unpinner (crosvm UNPIN_DEFAULT_INTERVAL 60 s, here the
 *   model's 10 ms tick) scans the pinned pages: a page with ACCESSED set gets
 *   it cleared (a second chance); an idle page (count 0) is claimed with
 *   compare_exchange(PINNED -> 0), which fails if the guest mapped it in the
 *   meantime; on success the host unmaps it from the IOMMU, waits for the
 *   invalidation and unpins (vfio_dma_unmap: Linux vfio_unmap_unpin unmaps,
 *   syncs the IOTLB, then unpins).
 *
 * The unpinner runs on the timer context in three phases - scan, claim,
 * wait - so that the guest can run between the scan's decision and the
 * claim: that window is what the compare-exchange closes.
 *
 * Policy words: DTT entry of frame f at f (int32), then the unpinner's
 * candidate frame + 1, its scan cursor, and the frame + 1 whose unmap holds
 * the host's VFIO lock.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { type ModelConfig } from "../config.ts";

/** crosvm DTTE_PINNED_FLAG, DTTE_ACCESSED_FLAG. */
export const DTTE_PINNED = 1 << 31;
export const DTTE_ACCESSED = 1 << 30;
export const DTTE_COUNT_MASK = DTTE_ACCESSED - 1;
/**
 * The unpinner's period in model time. crosvm's UNPIN_DEFAULT_INTERVAL is 60
 * s; the model's workloads span milliseconds, so the period is scaled down
 * (an assumption) to let the unpinner run within them.
 */
export const UNPIN_INTERVAL_MS = 1;

export const U_SCAN = 0, U_CLAIM = 1, U_WAIT = 2;

/** Index of the unpinner's candidate word (frame + 1; 0 = none); the next word is its scan cursor. */
export function candWord(k: Kernel): number {
  return k.tx.g.cfg.frames;
}
function cursorWord(k: Kernel): number {
  return k.tx.g.cfg.frames + 1;
}
/**
 * Whether the host is inside a vfio_dma_unmap (claimed, waiting for the
 * invalidation): crosvm holds the VFIO container lock for it, so a pin
 * request waits (pin_page and unpin_page both take vfio_container.lock()).
 */
function hostBusyWord(k: Kernel): number {
  return k.tx.g.cfg.frames + 2;
}

export function dtt(k: Kernel, f: number): number {
  return k.pol(f) | 0;
}
function setDtt(k: Kernel, f: number, v: number): void {
  k.setPol(f, v | 0);
}
export function dttPinned(e: number): boolean {
  return (e & DTTE_PINNED) !== 0;
}
export function dttCount(e: number): number {
  return e & DTTE_COUNT_MASK;
}

/** The guest's DMA address page for frame `f` (guest-physical = window base + f), or -1 beyond the window. */
function gpaPage(k: Kernel, f: number): number {
  return f < k.windowPages ? k.tx.g.winBase + f : -1;
}

/** Adds `delta` to the map count of every page of mapping `m` (a frame shared by two segments twice): the guest's atomic add. */
function countPages(k: Kernel, m: number, delta: number): void {
  for (let i = 0; i < k.segments(m); i++) {
    const first = k.segFirstFrame(m, i);
    for (let p = 0; p < k.segPages(m, i); p++) setDtt(k, first + p, dtt(k, first + p) + delta);
  }
}

/** The host's pin request handler: pin frame `f`, map its guest-physical page in every device's domain, set PINNED. */
function hostPin(k: Kernel, f: number): boolean {
  const v = gpaPage(k, f);
  k.count("containerLocks"); // the host's vfio_dma_map runs under the container lock
  if (!k.pin(f)) return false;
  let ok = true;
  for (let dev = 0; dev < k.devices; dev++) {
    if (k.attachMode(dev) !== "translate") continue;
    if (!k.mapPage(dev, v, f, true, true)) ok = false;
  }
  // Pinned (even if a domain ran out of table memory): PINNED keeps the DTT true to the host, and the unpinner undoes both.
  setDtt(k, f, dtt(k, f) | DTTE_PINNED);
  k.note(`host: pinned frame ${f} and mapped guest-physical page 0x${v.toString(16)} in the host IOMMU; PINNED set`);
  return ok;
}

function anyPinned(k: Kernel): boolean {
  for (let f = 0; f < k.tx.g.cfg.frames; f++) if (dttPinned(dtt(k, f))) return true;
  return false;
}

/** Phases of a map: counting (and the request to the host, if any), then waiting for the host's VFIO lock. */
export const MAP_COUNT = 0, MAP_HOST_WAIT = 1;

/**
 * The guest's map (the CoIOMMU dma_map_ops): count and mark every page, and
 * if some are not pinned, one request to the host (a VM exit) pins them all.
 */
export function coiommuMap(k: Kernel, m: number, phase: number): number {
  if (phase === MAP_COUNT) {
    let needPin = false;
    let at = k.segFirstFrame(m, 0);
    for (let i = 0; i < k.segments(m); i++) {
      const first = k.segFirstFrame(m, i);
      // dma-direct: every page must be within the device's reach.
      if (gpaPage(k, first + k.segPages(m, i) - 1) < 0) return FAIL;
      // dma-direct gives each sg entry its own DMA address (its guest-physical one); the model's mapping
      // has one IOVA range with the segments back to back, so only a list contiguous in guest-physical
      // memory can be expressed: any other fails (DMA_MAPPING_ERROR) rather than claim pages it does not map.
      if (first !== at) return FAIL;
      at += k.segPages(m, i);
    }
    for (let i = 0; i < k.segments(m); i++) {
      const first = k.segFirstFrame(m, i);
      for (let p = 0; p < k.segPages(m, i); p++) {
        const e = dtt(k, first + p);
        // The guest's atomic add and or on the 32-bit entry (a count that overflowed would carry into the flags, as in C).
        setDtt(k, first + p, (e + 1) | DTTE_ACCESSED);
        if (!dttPinned(e)) needPin = true;
      }
    }
    if (!needPin) return mapDone(k, m);
    k.count("vmExits");
    k.note("VM exit: the guest asks the host (CoIOMMU device) to pin its unpinned pages");
  }
  if (k.pol(hostBusyWord(k)) !== 0) return MAP_HOST_WAIT; // the unpinner holds the VFIO lock
  let ok = true;
  let pinnedHere = false;
  for (let i = 0; i < k.segments(m) && ok; i++) {
    const first = k.segFirstFrame(m, i);
    for (let p = 0; p < k.segPages(m, i) && ok; p++) {
      ok = dttPinned(dtt(k, first + p)) || hostPin(k, first + p);
      if (dttPinned(dtt(k, first + p))) pinnedHere = true;
    }
  }
  if (pinnedHere || anyPinned(k)) k.armTimer(UNPIN_INTERVAL_MS);
  // The host could not pin or map everything: the guest undoes its counts and the map fails.
  if (!ok) {
    countPages(k, m, -1);
    return FAIL;
  }
  return mapDone(k, m);
}

function mapDone(k: Kernel, m: number): number {
  k.setIova(m, gpaPage(k, k.segFirstFrame(m, 0)));
  return DONE;
}

/**
 * The guest's unmap: only the map counts go down, by an atomic decrement of
 * the 32-bit entry (a count already 0 would borrow from the flags, as in C:
 * only a DTT corrupted by a broken host can get there).
 */
export function coiommuUnmap(k: Kernel, m: number): number {
  countPages(k, m, -1);
  return DONE;
}

/**
 * Scan from the cursor: clear ACCESSED on pinned pages that have it (a second
 * chance, as crosvm's fetch_and when its compare-exchange fails on an
 * accessed page); the next idle pinned page (count 0, not accessed) becomes
 * the candidate. At the end of memory the pass ends and the timer is re-armed.
 */
export function unpinScan(k: Kernel): number {
  for (let f = k.pol(cursorWord(k)); f < k.tx.g.cfg.frames; f++) {
    const e = dtt(k, f);
    if (!dttPinned(e)) continue;
    if ((e & DTTE_ACCESSED) !== 0) {
      setDtt(k, f, e & ~DTTE_ACCESSED);
      continue;
    }
    if (dttCount(e) !== 0) continue;
    k.setPol(candWord(k), f + 1);
    k.setPol(cursorWord(k), f + 1);
    k.note(`host unpinner: frame ${f} looks idle`);
    return U_CLAIM;
  }
  k.setPol(cursorWord(k), 0);
  if (anyPinned(k)) k.armTimer(UNPIN_INTERVAL_MS);
  return DONE;
}

/** Room for an invalidation of every translated domain plus one COMPLETION_WAIT. */
export function roomForUnmap(k: Kernel): boolean {
  let need = 1;
  for (let dev = 0; dev < k.devices; dev++) if (k.attachMode(dev) === "translate") need += k.invalidationCommands(dev);
  return k.cmdSpace() >= need;
}

/** vfio_dma_unmap's first half: clear the page in every domain and queue the invalidations and the wait. */
export function hostUnmapQueue(k: Kernel, f: number): void {
  const v = gpaPage(k, f);
  for (let dev = 0; dev < k.devices; dev++) {
    if (k.attachMode(dev) !== "translate") continue;
    k.unmapPages(dev, v, 1);
    k.invalidatePages(dev, v, 1, true);
  }
  k.completionWait();
}

/** Claim with compare_exchange(PINNED -> 0): it fails if the guest mapped the page (count or ACCESSED) since the scan. */
export function unpinClaim(k: Kernel): number {
  if (!roomForUnmap(k)) return U_CLAIM;
  const f = k.pol(candWord(k)) - 1;
  const e = dtt(k, f);
  if (e !== DTTE_PINNED) {
    if (e !== 0) setDtt(k, f, e & ~DTTE_ACCESSED);
    k.setPol(candWord(k), 0);
    k.note(`host unpinner: compare-exchange on frame ${f} failed (entry 0x${(e >>> 0).toString(16)}): not unpinned`);
    return unpinScan(k);
  }
  setDtt(k, f, 0);
  hostLock(k, f);
  hostUnmapQueue(k, f);
  return U_WAIT;
}

/** The host takes the VFIO lock for its unmap (released by unpinFinish). */
export function hostLock(k: Kernel, f: number): void {
  k.count("containerLocks"); // the unpinner's vfio_dma_unmap
  k.setPol(hostBusyWord(k), f + 1);
}

/** After the invalidation: free emptied tables, unpin (vfio_unmap_unpin order). */
export function unpinFinish(k: Kernel, unpin: boolean): number {
  if (!k.completionDone()) return U_WAIT;
  const f = k.pol(candWord(k)) - 1;
  k.freeDetachedTables();
  if (unpin) k.unpin(f);
  k.setPol(candWord(k), 0);
  k.setPol(hostBusyWord(k), 0);
  k.note(`host unpinner: frame ${f} unmapped and unpinned`);
  return unpinScan(k);
}

export const coiommu: Policy = {
  name: "coiommu",
  summary: "CoIOMMU: DMA tracking table shared with the host, pin on first use, unmap only decrements, LRU unpin by compare-exchange",
  claims: ["pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "stale-window", "no-leak", "availability", "vm-confinement"],
  stateWords: (cfg: ModelConfig) => cfg.frames + 3,
  // The DTT and unpinner words hold frames, no CPU; the unpinner runs on the timer context, which CPU renaming fixes.
  cpuSymmetric: true,
  stateWordNames: (cfg: ModelConfig) => [
    ...Array.from({ length: cfg.frames }, (_, f) => `DTT entry of frame ${f}`),
    "unpinner candidate frame + 1", "unpinner scan cursor", "VFIO lock: unmap of frame + 1",
  ],
  attach: () => "translate",
  map: coiommuMap,
  unmap: coiommuUnmap,
  timer(k: Kernel, phase: number): number {
    if (phase === U_SCAN) return unpinScan(k);
    if (phase === U_CLAIM) return unpinClaim(k);
    return unpinFinish(k, true);
  },
};

/**
 * morsel: DMA through Morsels shared between the MMU and the IOMMU (Albes'
 * IOMMU extension of Morsels, Linux 6.1, AMD IOMMU; docs/reference/morsels.md).
 *
 * Map: the buffer becomes a morsel (model/morsel.ts) of the configured level,
 * placed in a free span of the device's IOVA window; its pages are entered by
 * the page-fault path (the CPU's first touch of the buffer: a write fault if
 * the CPU fills it for the device, a read fault otherwise), and then the
 * morsel is mounted into the device's domain by linking one directory entry.
 * The two are separate steps of the call (phase POPULATE, then MOUNT on the
 * next resume), because in Morsels population belongs to the object's life,
 * not to the mapping: the cost of a map is the mount alone.
 * Unmap: unlink the entry, invalidate the morsel's whole span in the IOTLB
 * and the directory cache (INVALIDATE_IOMMU_PAGES with PDE: the unlinked
 * entry itself is a cached directory entry), wait for completion, and only
 * then drop the mount's reference. The driver's reference goes in a last
 * step of its own (phase RELEASE, on the next resume), the counterpart of
 * population: the morsel dies with its last reference and its table frames
 * are freed.
 *
 * Entries inside the morsel are shared by both walkers, in the sharing-safe
 * encoding of shared-pte.ts; `morsel-naive-sharing` uses the naive one.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import {
  MORSEL_SLOTS, MORSEL_W, morselWordNames, morselBasePage, morselCreate, morselDev, morselFault, morselLevel, morselMount, morselPut, morselRoot,
  morselSpanPages, morselUnmount, type SharingEncoding,
} from "../morsel.ts";

export const MORSEL_POPULATE = 0, MORSEL_MOUNT = 1;
export const MORSEL_UNMOUNT = 0, MORSEL_UNMOUNT_WAIT = 1, MORSEL_RELEASE = 2;

export interface MorselOptions {
  readonly name: string;
  readonly summary: string;
  /** Subtree level: 1 = 2 MiB span (mounted by a level-2 entry), 2 = 1 GiB span (level-3 entry). */
  readonly level: 1 | 2;
  readonly encoding: SharingEncoding;
  /** Whether the unmount's invalidation also drops directory entries (PDE bit). */
  readonly pde: boolean;
}

/** The span (region index) of the window where a buffer of `pages` pages fits for `dev`, away from its live morsels; -1 if none. */
function freeSpan(k: Kernel, dev: number, level: number, pages: number): number {
  const span = morselSpanPages(level);
  const winBase = k.tx.g.winBase;
  const winEnd = winBase + k.windowPages;
  for (let s = Math.floor(winBase / span); s * span < winEnd; s++) {
    let used = false;
    for (let i = 0; i < MORSEL_SLOTS && !used; i++) {
      if (morselRoot(k.tx, 0, i) >= 0 && morselDev(k.tx, 0, i) === dev && morselBasePage(k.tx, 0, i) === s * span) used = true;
    }
    if (used) continue;
    const first = Math.max(winBase, s * span);
    if (Math.min(winEnd, (s + 1) * span) - first >= pages) return s;
  }
  return -1;
}

/**
 * A map's first phase: the buffer becomes morsel `m` in a free span of the
 * device's window, its pages entered by the page-fault path (a write fault
 * when the CPU fills the buffer for the device). MORSEL_MOUNT, or FAIL.
 */
export function morselPopulate(k: Kernel, m: number, level: number, encoding: SharingEncoding, shared: boolean): number {
  const dev = k.dev(m);
  if (m >= MORSEL_SLOTS) return FAIL;
  const s = freeSpan(k, dev, level, k.pages(m));
  if (s < 0 || !morselCreate(k.tx, 0, m, level, s, dev, k.obs, shared)) return FAIL;
  const first = Math.max(k.tx.g.winBase, s * morselSpanPages(level));
  k.setIova(m, first);
  let index = first - s * morselSpanPages(level);
  for (let i = 0; i < k.segments(m); i++) {
    const frame = k.segFirstFrame(m, i);
    for (let p = 0; p < k.segPages(m, i); p++, index++) {
      if (!morselFault(k.tx, 0, m, index, frame + p, k.deviceReads(m), k.deviceReads(m), k.deviceWrites(m), encoding, k.obs)) {
        morselPut(k.tx, 0, m, k.obs); // never mounted: nothing can reach it
        return FAIL;
      }
    }
  }
  return MORSEL_MOUNT;
}

export function makeMorselPolicy(o: MorselOptions): Policy {
  return {
    name: o.name,
    summary: o.summary,
    claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "availability"],
    stateWords: MORSEL_SLOTS * MORSEL_W,
    stateWordNames: () => morselWordNames(),
    iommus: ["amd-v1"], // morsels are AMD v1 tables the CPU shares (docs/morsels.md)
    symmetric: false, // morsel records are indexed by mapping slot
    attach: () => "translate",
    map(k: Kernel, m: number, phase: number): number {
      const dev = k.dev(m);
      if (phase === MORSEL_POPULATE) return morselPopulate(k, m, o.level, o.encoding, true);
      if (!morselMount(k.tx, 0, m, dev, k.obs)) {
        morselPut(k.tx, 0, m, k.obs);
        return FAIL;
      }
      return DONE;
    },
    unmap(k: Kernel, m: number, phase: number): number {
      const dev = k.dev(m);
      const level = morselLevel(k.tx, 0, m);
      if (phase === MORSEL_UNMOUNT) {
        if (k.cmdSpace() < k.invalidationCommands(dev) + 1) return MORSEL_UNMOUNT;
        morselUnmount(k.tx, 0, m, dev, k.obs);
        k.invalidatePages(dev, morselBasePage(k.tx, 0, m), morselSpanPages(level), o.pde);
        k.completionWait();
        return MORSEL_UNMOUNT_WAIT;
      }
      if (phase === MORSEL_UNMOUNT_WAIT) {
        if (!k.completionDone()) return MORSEL_UNMOUNT_WAIT;
        morselPut(k.tx, 0, m, k.obs); // the mount's reference
        return MORSEL_RELEASE;
      }
      morselPut(k.tx, 0, m, k.obs); // the creator's: the morsel dies, its tables are freed
      return DONE;
    },
  };
}

export const morsel: Policy = makeMorselPolicy({
  name: "morsel",
  summary: "buffers as page-table subtrees shared by MMU and IOMMU; map = link one entry, unmap = unlink + invalidate (leaf and directory) + wait",
  level: 1,
  encoding: "safe",
  pde: true,
});

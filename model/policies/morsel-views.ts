/**
 * morsel-views: multi-target morsels (seed "Multi-Target Virtual-Memory
 * Objects"). The morsel's x86-64 tables are the primary view, in Linux's own
 * encoding (no bit is given up to a device); the device reaches the buffer
 * through a secondary view in AMD IOMMU v1 format (model/morsel-view.ts)
 * that mirrors the primary's layout.
 *
 * Map: populate the primary through the page-fault path (as morsel), then,
 * on the first use by the device, build the view's root and enter each page
 * of the buffer from the primary (the IOMMU cannot fault, so "first access"
 * is the mount), and link the view into the domain by one entry.
 * Unmap: the primary changes (the object's pages are zapped); the view's
 * entries for them are invalidated, the view is unlinked, the IOTLB and
 * directory cache are invalidated for the span, and after the completion wait
 * the view is dropped and the morsel released.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import {
  linkIntoDomain, MORSEL_SLOTS, MORSEL_W, morselWordNames, morselBasePage, morselLevel, morselPut, morselRoot, morselSpanPages, morselZap, unlinkFromDomain,
} from "../morsel.ts";
import { VIEW_AMD_V1, viewDrop, viewFill, viewInvalidatePage, viewTable } from "../morsel-view.ts";
import { MORSEL_POPULATE, MORSEL_UNMOUNT, MORSEL_UNMOUNT_WAIT, morselPopulate } from "./morsel.ts";

/** Policy words: the morsel records, then one word per slot: its AMD view's root frame + 1. */
const VIEW_BASE = MORSEL_SLOTS * MORSEL_W;

export interface MorselViewOptions {
  readonly name: string;
  readonly summary: string;
  /** Whether the unmap invalidates the view's entries when the primary zaps the pages (false: the bug). */
  readonly invalidateView: boolean;
}

export function makeMorselViewPolicy(o: MorselViewOptions): Policy {
  const level = 1;
  return {
    name: o.name,
    summary: o.summary,
    claims: ["page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "availability"],
    stateWords: VIEW_BASE + MORSEL_SLOTS,
    stateWordNames: () => [...morselWordNames(), ...Array.from({ length: MORSEL_SLOTS }, (_, i) => `morsel ${i} AMD view root frame + 1`)],
    iommus: ["amd-v1"], // morsels are AMD v1 tables the CPU shares (docs/morsels.md)
    symmetric: false, // morsel records are indexed by mapping slot
    attach: () => "translate",
    map(k: Kernel, m: number, phase: number): number {
      if (phase === MORSEL_POPULATE) return morselPopulate(k, m, level, "native", false);
      const base = morselBasePage(k.tx, 0, m);
      const view = viewTable(k.tx, morselRoot(k.tx, 0, m), VIEW_AMD_V1, level, base, k.obs);
      let ok = view >= 0;
      for (let v = k.iova(m); ok && v < k.iova(m) + k.pages(m); v++) ok = viewFill(k.tx, view, level, v, k.obs, k.deviceReads(m), k.deviceWrites(m));
      if (ok) ok = linkIntoDomain(k.tx, k.dev(m), level, base, view, k.obs);
      if (!ok) {
        if (view >= 0) viewDrop(k.tx, view, level, k.obs); // never linked: nothing can reach it
        morselPut(k.tx, 0, m, k.obs);
        return FAIL;
      }
      k.setPol(VIEW_BASE + m, view + 1);
      return DONE;
    },
    unmap(k: Kernel, m: number, phase: number): number {
      const dev = k.dev(m);
      const base = morselBasePage(k.tx, 0, m);
      const view = k.pol(VIEW_BASE + m) - 1;
      if (phase === MORSEL_UNMOUNT) {
        if (k.cmdSpace() < k.invalidationCommands(dev) + 1) return MORSEL_UNMOUNT;
        for (let v = k.iova(m); v < k.iova(m) + k.pages(m); v++) {
          morselZap(k.tx, 0, m, v - base, k.obs); // the primary changes
          if (o.invalidateView) viewInvalidatePage(k.tx, view, level, v, k.obs);
        }
        unlinkFromDomain(k.tx, dev, level, base, k.obs);
        k.invalidatePages(dev, base, morselSpanPages(morselLevel(k.tx, 0, m)), true);
        k.completionWait();
        return MORSEL_UNMOUNT_WAIT;
      }
      if (!k.completionDone()) return MORSEL_UNMOUNT_WAIT;
      viewDrop(k.tx, view, level, k.obs);
      k.setPol(VIEW_BASE + m, 0);
      morselPut(k.tx, 0, m, k.obs);
      return DONE;
    },
  };
}

export const morselViews: Policy = makeMorselViewPolicy({
  name: "morsel-views",
  summary: "multi-target morsel: x86-64 primary, AMD IOMMU v1 secondary view built on first use, invalidated when the primary changes",
  invalidateView: true,
});



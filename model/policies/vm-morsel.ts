/**
 * vm-morsel: a morsel shared with a virtual machine (issue 13 part 5; the
 * multi-target seed's VM step, docs/reference/morsels.md). The morsel's
 * x86-64 tables are the primary view, the host's truth. The morsel is
 * mounted into the guest's physical address space through a secondary view
 * in Intel EPT format (the VM's second stage for its CPUs), and to the
 * device assigned to that VM through a secondary view in AMD IOMMU v1 format
 * linked into the device's domain, which here is the VM's host stage: the
 * device addresses the morsel by its guest-physical address (the IOVA
 * window is the VM's guest-physical span; no guest IOMMU translation, as
 * under guest passthrough).
 *
 * Map (the VMM mounts the object for the VM): populate the primary through
 * the page-fault path (as morsel-views), then build both views from it (the
 * EPT view too is filled at the mount: the model has no guest CPU access to
 * fault it in lazily), and link the AMD view into the domain.
 * Unmap: the primary zaps the pages; both views' entries for them are
 * invalidated (EPT: the entry, then the EPT TLB, INVEPT: counted as a TLB
 * shootdown); the AMD view is unlinked, the IOTLB and directory cache are
 * invalidated for the span, and after the completion wait both views are
 * dropped and the morsel released.
 *
 * The VM: every frame is the VM's except one the VMM keeps for the host at
 * boot (model/vm-memory.ts), so vm-confinement has something to confine the
 * device away from. Guest CPUs are not modelled: the EPT view is state that
 * view-refinement checks after every change, never walked.
 *
 * `vm-morsel-stale-ept-view` forgets the EPT view's invalidation: the guest
 * keeps translating to a page the primary no longer maps.
 * `vm-morsel-mounts-host-page` mounts an object one page of which is the
 * host's (say, the object's own metadata page, kept outside the VM): the
 * views mirror the primary faithfully, so view-refinement holds, but the
 * VM's device reaches host memory, which vm-confinement catches.
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import {
  linkIntoDomain, MORSEL_SLOTS, MORSEL_W, morselBasePage, morselFault, morselLevel, morselPut, morselRoot, morselSpanPages, morselZap, unlinkFromDomain,
} from "../morsel.ts";
import { VIEW_AMD_V1, VIEW_EPT, viewDrop, viewFill, viewInvalidatePage, viewTable } from "../morsel-view.ts";
import { HOST_OWNED, isHostFrame, takeHostFrame } from "../vm-memory.ts";
import { FRAMES } from "../geometry.ts";
import { MORSEL_POPULATE, MORSEL_UNMOUNT, MORSEL_UNMOUNT_WAIT, morselPopulate } from "./morsel.ts";

/** Policy words: the morsel records, then per slot its AMD view's root + 1, then per slot its EPT view's root + 1. */
const AMD_VIEW = MORSEL_SLOTS * MORSEL_W;
const EPT_VIEW = AMD_VIEW + MORSEL_SLOTS;

export interface VmMorselOptions {
  readonly name: string;
  readonly summary: string;
  /** Whether the unmap invalidates the EPT view's entries when the primary zaps the pages (false: the bug). */
  readonly invalidateEptView: boolean;
  /** The bug: the mounted object has one more page, right after the buffer, and that page is the host's frame. */
  readonly mountsHostPage?: boolean;
}

/** The host's frame (outside the VM), or -1. */
function hostFrame(k: Kernel): number {
  for (let f = 0; f < k.tx.g.cfg.frames; f++) if (isHostFrame(k.tx.c[FRAMES], f)) return f;
  return -1;
}

export function makeVmMorselPolicy(o: VmMorselOptions): Policy {
  const level = 1;
  /** The object's pages: the buffer's, plus (the bug) the host page after it when it fits in the window and the span. */
  const objectEnd = (k: Kernel, m: number): number => {
    const end = k.iova(m) + k.pages(m);
    if (o.mountsHostPage !== true) return end;
    const base = morselBasePage(k.tx, 0, m);
    return end < k.windowBase + k.windowPages && end < base + morselSpanPages(level) ? end + 1 : end;
  };
  return {
    name: o.name,
    summary: o.summary,
    claims: [
      "page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "availability",
      "vm-confinement",
    ],
    stateWords: EPT_VIEW + MORSEL_SLOTS,
    iommus: ["amd-v1"], // morsels are AMD v1 tables the CPU shares (docs/morsels.md)
    symmetric: false, // morsel records are indexed by mapping slot
    attach: () => "translate",
    boot(k: Kernel): void {
      takeHostFrame(k.tx, HOST_OWNED, k.obs); // the host's own memory, outside the VM
    },
    map(k: Kernel, m: number, phase: number): number {
      if (phase === MORSEL_POPULATE) return morselPopulate(k, m, level, "native", false);
      const base = morselBasePage(k.tx, 0, m);
      const root = morselRoot(k.tx, 0, m);
      const end = objectEnd(k, m);
      if (end > k.iova(m) + k.pages(m)) {
        const f = hostFrame(k);
        if (f < 0 || !morselFault(k.tx, 0, m, end - 1 - base, f, false, true, false, "native", k.obs)) {
          morselPut(k.tx, 0, m, k.obs);
          return FAIL;
        }
      }
      const amd = viewTable(k.tx, root, VIEW_AMD_V1, level, base, k.obs);
      const ept = amd < 0 ? -1 : viewTable(k.tx, root, VIEW_EPT, level, base, k.obs);
      let ok = ept >= 0;
      for (let v = k.iova(m); ok && v < end; v++) {
        // The device gets its DMA direction; the guest's CPUs what the primary allows.
        ok = viewFill(k.tx, amd, level, v, k.obs, k.deviceReads(m), k.deviceWrites(m)) && viewFill(k.tx, ept, level, v, k.obs);
      }
      if (ok) ok = linkIntoDomain(k.tx, k.dev(m), level, base, amd, k.obs);
      if (!ok) {
        // Never linked, never entered into the VM's EPT: nothing can reach them.
        if (ept >= 0) viewDrop(k.tx, ept, level, k.obs);
        if (amd >= 0) viewDrop(k.tx, amd, level, k.obs);
        morselPut(k.tx, 0, m, k.obs);
        return FAIL;
      }
      k.setPol(AMD_VIEW + m, amd + 1);
      k.setPol(EPT_VIEW + m, ept + 1);
      return DONE;
    },
    unmap(k: Kernel, m: number, phase: number): number {
      const dev = k.dev(m);
      const base = morselBasePage(k.tx, 0, m);
      const amd = k.pol(AMD_VIEW + m) - 1;
      const ept = k.pol(EPT_VIEW + m) - 1;
      if (phase === MORSEL_UNMOUNT) {
        if (k.cmdSpace() < k.invalidationCommands(dev) + 1) return MORSEL_UNMOUNT;
        for (let v = k.iova(m); v < objectEnd(k, m); v++) {
          morselZap(k.tx, 0, m, v - base, k.obs); // the primary changes
          viewInvalidatePage(k.tx, amd, level, v, k.obs);
          if (o.invalidateEptView) viewInvalidatePage(k.tx, ept, level, v, k.obs);
        }
        if (o.invalidateEptView) k.count("tlbShootdowns"); // INVEPT for the VM's EPT TLB
        unlinkFromDomain(k.tx, dev, level, base, k.obs);
        k.invalidatePages(dev, base, morselSpanPages(morselLevel(k.tx, 0, m)), true);
        k.completionWait();
        return MORSEL_UNMOUNT_WAIT;
      }
      if (!k.completionDone()) return MORSEL_UNMOUNT_WAIT;
      viewDrop(k.tx, ept, level, k.obs);
      viewDrop(k.tx, amd, level, k.obs);
      k.setPol(AMD_VIEW + m, 0);
      k.setPol(EPT_VIEW + m, 0);
      morselPut(k.tx, 0, m, k.obs);
      return DONE;
    },
  };
}

export const vmMorsel: Policy = makeVmMorselPolicy({
  name: "vm-morsel",
  summary: "a morsel mounted into a VM: x86-64 primary, an EPT view in the guest's physical address space, an AMD IOMMU v1 view for the VM's assigned device",
  invalidateEptView: true,
});

/** Broken: the primary zaps the pages, the AMD view is invalidated, the EPT view keeps its entries. */
export const vmMorselStaleEptView: Policy = makeVmMorselPolicy({
  name: "vm-morsel-stale-ept-view",
  summary: "BROKEN vm-morsel: the unmount invalidates the device's AMD view but not the VM's EPT view",
  invalidateEptView: false,
});

/** Broken: the VMM mounts an object whose last page is the host's; the device reaches host memory. */
export const vmMorselMountsHostPage: Policy = makeVmMorselPolicy({
  name: "vm-morsel-mounts-host-page",
  summary: "BROKEN vm-morsel: the mounted object's page after the buffer is a host frame outside the VM",
  invalidateEptView: true,
  mountsHostPage: true,
});

/** The morsel-in-a-VM policies: selectable by name (`--policy vm-morsel`), not in the default run. */
export const VM_MORSEL_POLICIES: readonly Policy[] = [vmMorsel, vmMorselStaleEptView, vmMorselMountsHostPage];

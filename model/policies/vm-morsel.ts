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
 * The object is host memory lent to the VM: at boot the host keeps one
 * frame outside the VM (model/vm-memory.ts HOST_OWNED); the driver's buffer
 * for a mount is placed in that frame (allocBuffer), which the host lends
 * to the VM for the mount (HOST_LENT); the unmount gives it back
 * (HOST_OWNED) once neither the device nor a vCPU can reach it. A second
 * mount while the frame is lent finds no host memory to lend (the map is
 * skipped, out of memory for the buffer).
 *
 * Map (the VMM mounts the object for the VM): populate the primary through
 * the page-fault path (as morsel-views), then build both views from it (the
 * EPT view too is filled at the mount, where a real VMM fills it on the
 * guest's first access), and link the AMD view into the domain.
 * Guest CPUs: the `guest-access` event translates a guest-physical page
 * through the VM's EPT (model/vm-ept.ts): the vCPU's EPT TLB, else a walk of
 * the EPT view table this policy names (eptTable), filling the EPT TLB.
 * Unmap: the primary zaps the pages; both views' entries for them are
 * invalidated (EPT: the entry, then INVEPT for the vCPUs' EPT TLB, counted
 * as a TLB shootdown); the AMD view is unlinked, the IOTLB and directory
 * cache are invalidated for the span, and after the completion wait both
 * views are dropped, the morsel released, the buffer freed and the frame
 * given back to the host.
 *
 * Broken variants:
 * `vm-morsel-stale-ept-view` forgets the EPT view's invalidation (and the
 * INVEPT): the view keeps translating to a page the primary no longer maps.
 * `vm-morsel-no-invept` clears the EPT view's entries but never executes
 * INVEPT: every view table is faithful, yet a vCPU keeps reaching the page
 * through its EPT TLB after the unmount (view-refinement, through the
 * guest access).
 * `vm-morsel-mounts-host-page` mounts the host's frame without lending it
 * to the VM: the views mirror the primary faithfully, so view-refinement
 * holds, but the VM reaches host memory, which vm-confinement catches.
 * `vm-morsel-gives-back-early` gives the lent frame back to the host at the
 * start of the unmount, before the IOMMU invalidation has completed: the
 * device reaches it through its IOTLB (vm-confinement).
 */
import { DONE, FAIL, type Policy } from "../policy.ts";
import { type Kernel } from "../kernel.ts";
import { type ModelConfig, PAGE_SIZE } from "../config.ts";
import {
  linkIntoDomain, MORSEL_SLOTS, MORSEL_W, morselBasePage, morselWordNames, morselLevel, morselPut, morselRoot, morselSpanPages, morselZap, unlinkFromDomain,
} from "../morsel.ts";
import { VIEW_AMD_V1, VIEW_EPT, viewDrop, viewFill, viewInvalidatePage, viewTable } from "../morsel-view.ts";
import { giveBackToHost, HOST_LENT, HOST_OWNED, lendToVm, takeHostFrame } from "../vm-memory.ts";
import { eptTlbWords } from "../vm-ept.ts";
import { FRAMES } from "../geometry.ts";
import { frameAux, frameRole, ROLE_HOST } from "../physical-memory.ts";
import { allocPoolObject, ownerDriver } from "../objects.ts";
import { MORSEL_POPULATE, MORSEL_UNMOUNT, MORSEL_UNMOUNT_WAIT, morselPopulate } from "./morsel.ts";

/**
 * Policy words: the morsel records, then per slot its AMD view's root + 1,
 * then per slot its EPT view's root + 1, then the vCPUs' EPT TLB
 * (model/vm-ept.ts: one word per CPU per window page).
 */
const AMD_VIEW = MORSEL_SLOTS * MORSEL_W;
const EPT_VIEW = AMD_VIEW + MORSEL_SLOTS;
const EPT_TLB = EPT_VIEW + MORSEL_SLOTS;

export interface VmMorselOptions {
  readonly name: string;
  readonly summary: string;
  /** Whether the unmap invalidates the EPT view's entries when the primary zaps the pages (false: the bug). */
  readonly invalidateEptView: boolean;
  /** Whether the unmap executes INVEPT after invalidating the EPT view's entries (absent: true; false: the bug). */
  readonly invept?: boolean;
  /** The bug: the host's frame is mounted without being lent to the VM. */
  readonly mountsHostPage?: boolean;
  /** The bug: the lent frame goes back to the host at the start of the unmount, before the invalidations completed. */
  readonly givesBackEarly?: boolean;
}

/** The host's frame kept at boot, lent or not (the frame of role host other than one being unplugged), or -1. */
function hostFrame(k: Kernel, aux: number): number {
  const fr = k.tx.c[FRAMES];
  for (let f = 0; f < k.tx.g.cfg.frames; f++) if (frameRole(fr, f) === ROLE_HOST && frameAux(fr, f) === aux) return f;
  return -1;
}

export function makeVmMorselPolicy(o: VmMorselOptions): Policy {
  const level = 1;
  const invept = o.invalidateEptView && o.invept !== false;
  /** The lent frame goes back to the host (when the buffer lives in it and it is lent). */
  const giveBack = (k: Kernel, m: number): void => {
    if (k.segments(m) === 0) return;
    const f = k.segFrame(m, 0);
    if (frameRole(k.tx.c[FRAMES], f) === ROLE_HOST && frameAux(k.tx.c[FRAMES], f) === HOST_LENT) giveBackToHost(k.tx, f, k.obs);
  };
  return {
    name: o.name,
    summary: o.summary,
    claims: [
      "page-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "dma-integrity", "stale-window", "availability",
      "vm-confinement",
    ],
    stateWords: (cfg: ModelConfig) => EPT_TLB + eptTlbWords(cfg.cpus, cfg.iovaPages),
    cpuSymmetric: false, // per-vCPU EPT TLB words
    eptTlbWord: EPT_TLB,
    stateWordNames: (cfg: ModelConfig) => [
      ...morselWordNames(),
      ...Array.from({ length: MORSEL_SLOTS }, (_, m) => `slot ${m} AMD view root + 1`),
      ...Array.from({ length: MORSEL_SLOTS }, (_, m) => `slot ${m} EPT view root + 1`),
      ...Array.from({ length: eptTlbWords(cfg.cpus, cfg.iovaPages) }, (_, i) => `vcpu${Math.floor(i / cfg.iovaPages)} EPT TLB, page ${i % cfg.iovaPages}`),
    ],
    iommus: ["amd-v1"], // morsels are AMD v1 tables the CPU shares (docs/morsels.md)
    symmetric: false, // morsel records are indexed by mapping slot
    attach: () => "translate",
    boot(k: Kernel): void {
      takeHostFrame(k.tx, HOST_OWNED, k.obs); // the host's own memory, outside the VM until lent
    },
    allocBuffer(k: Kernel, m: number, bytes: number): boolean {
      // The object mounted is the host's frame, lent to the VM for the mount.
      const f = hostFrame(k, HOST_OWNED);
      if (f < 0 || bytes > PAGE_SIZE) return false;
      if (allocPoolObject(k.tx, f, 0, bytes, ownerDriver(k.dev(m)), k.obs) < 0) return false;
      if (o.mountsHostPage !== true) lendToVm(k.tx, f, k.obs);
      if (k.addPoolBuffer(m, f * PAGE_SIZE, bytes)) return true;
      k.releaseBuffer(m);
      giveBack(k, m);
      return false;
    },
    freeBuffer(k: Kernel, m: number): void {
      // A failed map: the buffer never reached the VM. After an unmount the buffer is already gone and the frame given back.
      const live = k.segments(m) > 0 && k.segLive(m, 0);
      k.releaseBuffer(m);
      if (live) giveBack(k, m);
    },
    held(k: Kernel): string | null {
      const f = hostFrame(k, HOST_LENT);
      return f < 0 ? null : `frame ${f} is still lent to the VM`;
    },
    eptTable(k: Kernel, page: number): number {
      const v = k.windowBase + page;
      for (let m = 0; m < MORSEL_SLOTS; m++) {
        const ept = k.pol(EPT_VIEW + m) - 1;
        if (ept < 0) continue;
        const base = morselBasePage(k.tx, 0, m);
        if (v >= base && v < base + morselSpanPages(level)) return ept;
      }
      return -1;
    },
    map(k: Kernel, m: number, phase: number): number {
      if (phase === MORSEL_POPULATE) return morselPopulate(k, m, level, "native", false);
      const base = morselBasePage(k.tx, 0, m);
      const root = morselRoot(k.tx, 0, m);
      const end = k.iova(m) + k.pages(m);
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
        if (o.givesBackEarly === true) giveBack(k, m); // the bug: the device may still reach it
        for (let v = k.iova(m); v < k.iova(m) + k.pages(m); v++) {
          morselZap(k.tx, 0, m, v - base, k.obs); // the primary changes
          viewInvalidatePage(k.tx, amd, level, v, k.obs);
          if (o.invalidateEptView) viewInvalidatePage(k.tx, ept, level, v, k.obs);
        }
        if (invept) k.invept(EPT_TLB); // Linux arch/x86/kvm/vmx/vmx.c: INVEPT after the VMM changed the EPT
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
      // The mount is over: the object's memory goes back to the host (the driver's buffer with it).
      k.releaseBuffer(m);
      giveBack(k, m);
      return DONE;
    },
  };
}

export const vmMorsel: Policy = makeVmMorselPolicy({
  name: "vm-morsel",
  summary: "a morsel of host memory lent to a VM: x86-64 primary, an EPT view in the guest's physical address space (walked by its vCPUs), an AMD IOMMU v1 view for the VM's assigned device",
  invalidateEptView: true,
});

/** Broken: the primary zaps the pages, the AMD view is invalidated, the EPT view keeps its entries. */
export const vmMorselStaleEptView: Policy = makeVmMorselPolicy({
  name: "vm-morsel-stale-ept-view",
  summary: "BROKEN vm-morsel: the unmount invalidates the device's AMD view but not the VM's EPT view",
  invalidateEptView: false,
});

/** Broken: the EPT view's entries are cleared, but no INVEPT: the vCPU's EPT TLB keeps the translation. */
export const vmMorselNoInvept: Policy = makeVmMorselPolicy({
  name: "vm-morsel-no-invept",
  summary: "BROKEN vm-morsel: the unmount clears the EPT view's entries but never executes INVEPT, so a vCPU keeps its cached translation",
  invalidateEptView: true,
  invept: false,
});

/** Broken: the VMM mounts the host's frame without lending it; the VM reaches host memory. */
export const vmMorselMountsHostPage: Policy = makeVmMorselPolicy({
  name: "vm-morsel-mounts-host-page",
  summary: "BROKEN vm-morsel: the VMM mounts the host's frame into the VM without lending it (it stays outside the VM's memory)",
  invalidateEptView: true,
  mountsHostPage: true,
});

/** Broken: the lent frame goes back to the host before the unmount's invalidation completed. */
export const vmMorselGivesBackEarly: Policy = makeVmMorselPolicy({
  name: "vm-morsel-gives-back-early",
  summary: "BROKEN vm-morsel: the unmount gives the lent frame back to the host before the IOMMU invalidation completed",
  invalidateEptView: true,
  givesBackEarly: true,
});

/** The morsel-in-a-VM policies: selectable by name (`--policy vm-morsel`), not in the default run. */
export const VM_MORSEL_POLICIES: readonly Policy[] = [vmMorsel, vmMorselStaleEptView, vmMorselNoInvept, vmMorselMountsHostPage, vmMorselGivesBackEarly];

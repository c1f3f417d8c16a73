/**
 * Memory regions: how a virtual machine's memory is backed, and whether the
 * host kernel's direct map reaches it.
 *
 * - "ordinary": guest RAM is System RAM (anonymous or HugeTLB memory). It has
 *   struct pages and sits in the kernel direct map (PAGE_OFFSET + phys), so
 *   any kernel access by physical address - a read gadget, a speculative load
 *   - reaches guest data. This is what the KVM Forum 2020 talk (J. Martins,
 *   docs/reference/morsels.md) calls exposing guest data.
 * - "devdax": pageless memory handed to the VMM by a device-dax-like driver:
 *   the region is not System RAM, so it was never added to the direct map and
 *   has no struct pages (memory-metadata.ts "pageless").
 * - "guest-memfd": KVM guest_memfd whose folios are removed from the direct
 *   map when allocated (the GUEST_MEMFD_FLAG_NO_DIRECT_MAP proposal, built on
 *   set_direct_map_invalid_noflush as secretmem does, Linux mm/secretmem.c).
 *   It still has struct pages.
 *
 * Removing frames from the direct map first splits the 2 MiB entry that maps
 * them into a table of 4 KiB entries (as x86 change_page_attr splits large
 * pages, arch/x86/mm/pat/set_memory.c split_large_page), then clears the
 * guest frames' entries. The model boots the region: `guestFrames` frames
 * with role guest (aux = the kind), allocated after the MMU tables.
 */
import { GUEST_MEMORY_KINDS, type GuestMemoryKind } from "./config.ts";
import { FRAMES, HDR, H_KERNEL_PML4, PTMEM, PT_W } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { ptFind, ptWrite } from "./page-table-memory.ts";
import { allocFrames, frameRole, ROLE_GUEST, ROLE_MMU_PT, setFrameData } from "./physical-memory.ts";
import { type Tx, type Words } from "./state.ts";
import { PAGE_OFFSET_VPAGE } from "./mmu.ts";
import {
  X86_LO_GLOBAL, X86_LO_PRESENT, X86_LO_RW, x86EncodeHi, x86EncodeLo, x86Index, x86IsHugeLeaf, x86Pfn,
} from "./formats/x86-pte.ts";

/** A guest frame's aux: its region kind, as an index into GUEST_MEMORY_KINDS. */
export function guestKindCode(kind: GuestMemoryKind): number {
  return GUEST_MEMORY_KINDS.indexOf(kind);
}
export const DEFAULT_GUEST_FRAMES = 2;

/** Whether a region of this kind is kept out of the kernel direct map. */
export function excludedFromDirectMap(kind: GuestMemoryKind): boolean {
  return kind !== "ordinary";
}

/** Whether a region of this kind has struct pages (device-dax pageless memory has none). */
export function hasStructPages(kind: GuestMemoryKind): boolean {
  return kind !== "devdax";
}

/** Whether frame `f` is guest memory. */
export function isGuestFrame(fr: Words, f: number): boolean {
  return frameRole(fr, f) === ROLE_GUEST;
}

/**
 * Boots the configured guest region (nothing without `guestMemory`): its
 * frames get role guest, and for devdax and guest-memfd their direct-map
 * entries are removed. Returns false when memory runs out.
 */
export function bootGuestMemory(tx: Tx, obs: Observation): boolean {
  const kind = tx.g.cfg.guestMemory;
  if (kind === undefined) return true;
  const n = tx.g.cfg.guestFrames ?? DEFAULT_GUEST_FRAMES;
  const frames: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = allocFrames(tx, 0, ROLE_GUEST, guestKindCode(kind), obs);
    if (f < 0) return false;
    frames.push(f);
  }
  if (!excludedFromDirectMap(kind)) return true;
  for (const f of frames) if (!removeFromDirectMap(tx, f, obs)) return false;
  return true;
}

/** Walks the kernel tables to the page directory that maps frame `pfn` of the direct map. */
function directMapPd(tx: Tx, pfn: number): number {
  const pt = tx.c[PTMEM];
  let table = tx.c[HDR][H_KERNEL_PML4];
  const vp = PAGE_OFFSET_VPAGE + pfn;
  for (let level = 4; level > 2; level--) {
    const p = ptFind(pt, table, x86Index(vp, level));
    if (p < 0) return -1;
    table = x86Pfn(pt[2 + p * PT_W] >>> 0, pt[3 + p * PT_W] >>> 0);
  }
  return table;
}

/**
 * Clears frame `pfn`'s direct-map entry, splitting its 2 MiB entry into a
 * table of 4 KiB entries (one per frame of the machine in that 2 MiB) first.
 */
export function removeFromDirectMap(tx: Tx, pfn: number, obs: Observation): boolean {
  const pd = directMapPd(tx, pfn);
  if (pd < 0) return false;
  const vp = PAGE_OFFSET_VPAGE + pfn;
  const i = x86Index(vp, 2);
  const p = ptFind(tx.c[PTMEM], pd, i);
  if (p < 0) return true; // not mapped at all
  const lo = tx.c[PTMEM][2 + p * PT_W] >>> 0;
  const flags = X86_LO_PRESENT | X86_LO_RW | X86_LO_GLOBAL;
  let pte: number;
  if (x86IsHugeLeaf(lo, 2)) {
    pte = allocFrames(tx, 0, ROLE_MMU_PT, 0, obs);
    if (pte < 0) return false;
    setFrameData(tx.w(FRAMES), pte, 1);
    const base = pfn - (pfn % 512);
    for (let f = base; f < Math.min(base + 512, tx.g.cfg.frames); f++) {
      if (!ptWrite(tx, pte, x86Index(PAGE_OFFSET_VPAGE + f, 1), x86EncodeLo(f, flags), x86EncodeHi(f, true, 0, 0))) return false;
    }
    if (!ptWrite(tx, pd, i, x86EncodeLo(pte, X86_LO_PRESENT | X86_LO_RW), x86EncodeHi(pte, false, 0, 0))) return false;
  } else {
    pte = x86Pfn(lo, tx.c[PTMEM][3 + p * PT_W] >>> 0);
  }
  if (obs.detail) obs.note(`frame ${pfn} removed from the kernel direct map`);
  return ptWrite(tx, pte, x86Index(vp, 1), 0, 0);
}

/**
 * Morsels (Halbuer, Dietrich, Rommel, Lohmann, "Morsels: Explicit Virtual
 * Memory Objects", DIMES'23; Albes, "IOMMU-assisted Memory Management", MA
 * thesis 2023): a memory object that is a page-table subtree, with a lifetime
 * of its own (reference counted, independent of any process), created empty,
 * populated lazily by the page-fault path, and mounted into an address space
 * (a process, an IOMMU domain) by linking one directory entry; unmounted by
 * unlinking it; sent from one address space to another by mounting it there
 * and unmounting it here.
 *
 * The subtree's level is a parameter: level 1 is one table of 512 leaves
 * (2 MiB span), mounted by a level-2 entry (a PMD); level 2 is a table of
 * level-1 tables (1 GiB span), mounted by a level-3 entry (a PUD). The
 * morsel's tables are shared by the MMU and the IOMMU: their entries are in
 * the encodings of shared-pte.ts. Table frames have role morsel-page-table
 * and record which table of the IOVA space they are (level | prefix << 4):
 * a morsel is mounted at the same place (its span index) in every domain.
 *
 * A morsel's frames carry, in their aux, the level and whether the IOMMU
 * walks them too (MORSEL_SHARED): a morsel reached by devices only through a
 * secondary view (morsel-view.ts) is not shared.
 *
 * Records live in a policy's private words (`base` is their offset), one per
 * slot, MORSEL_W words each:
 *   w0: root table frame + 1 (0 = no morsel)
 *   w1: level (bits 0..3) | reference count (4..15) | device it was made for (16..23)
 *   w2: span index (which 2 MiB / 1 GiB region of the IOVA and VA spaces)
 *   w3: where it is mounted: IOMMU domains (bits 0..15), the process (bit 16)
 * A mount's reference is dropped (morselPut) only once the unlinking has been
 * made visible to the hardware (the caller invalidates in between); at the
 * last reference the morsel's table frames are freed. The data pages are not
 * the morsel's to free here: in the DMA use they are the driver's buffer.
 *
 * The mechanism follows Albes' IOMMU extension of Morsels and the
 * Multi-Target Virtual-Memory Objects topic; the level and the "mount = one
 * entry" rule are stated there but could not be checked against the paper
 * (docs/reference/morsels.md).
 */
import { C } from "./counters.ts";
import { DTE, FRAMES, HDR, H_USER_PML4, POL, PTMEM, PT_W } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { ptClearFrame, ptFind, ptFirst, ptWrite } from "./page-table-memory.ts";
import { allocFrames, frameAux, freeFrames, ROLE_IOMMU_PT, ROLE_MMU_PT, ROLE_MORSEL_PT, setFrameData } from "./physical-memory.ts";
import { type Tx } from "./state.ts";
import { domainRoot, tableIndex, tableKey } from "./iommu-page-table.ts";
import { amdAddrPfn, amdNextLevel, amdPdeHi, amdPdeLo } from "./formats/amd-v1-pte.ts";
import { X86_LO_PRESENT, X86_LO_RW, X86_LO_USER, x86EncodeHi, x86EncodeLo, x86Index, x86Pfn } from "./formats/x86-pte.ts";
import { sharedDirectory, sharedLeaf, type SharedLeaf, type SharingEncoding } from "./shared-pte.ts";

/** How a morsel's entries are shared by MMU and IOMMU (model/shared-pte.ts), for the morsel policies. */
export type { SharingEncoding };

export const MORSEL_W = 4;
/** Morsel records a policy keeps (its private words: MORSEL_SLOTS x MORSEL_W). */
export const MORSEL_SLOTS = 16;
/** Bit of w3: mounted in the process. */
export const MOUNT_PROCESS = 1 << 16;
/** First virtual page of the process's morsel area (VA 512 GiB, PML4 index 1), away from the direct map and the user pages. */
export const MORSEL_VPAGE_BASE = 2 ** 27;

const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** Pages a morsel of `level` spans: 512 (2 MiB) or 262144 (1 GiB). */
export function morselSpanPages(level: number): number {
  return POW2[9 * level];
}

/** Names of the MORSEL_SLOTS records' words (Policy.stateWordNames), from the records' base word. */
export function morselWordNames(): string[] {
  return Array.from({ length: MORSEL_SLOTS }, (_, i) => [
    `morsel ${i} root frame + 1`, `morsel ${i} level | refs << 4 | dev << 16`, `morsel ${i} span`, `morsel ${i} mounts (domains | process << 16)`,
  ]).flat();
}

function at(base: number, i: number): number {
  return base + i * MORSEL_W;
}
export function morselRoot(tx: Tx, base: number, i: number): number {
  return tx.c[POL][at(base, i)] - 1;
}
export function morselLevel(tx: Tx, base: number, i: number): number {
  return tx.c[POL][at(base, i) + 1] & 0xf;
}
export function morselRefs(tx: Tx, base: number, i: number): number {
  return (tx.c[POL][at(base, i) + 1] >>> 4) & 0xfff;
}
export function morselDev(tx: Tx, base: number, i: number): number {
  return (tx.c[POL][at(base, i) + 1] >>> 16) & 0xff;
}
export function morselSpan(tx: Tx, base: number, i: number): number {
  return tx.c[POL][at(base, i) + 2];
}
export function morselMounts(tx: Tx, base: number, i: number): number {
  return tx.c[POL][at(base, i) + 3];
}
/** First IOVA (and, offset by MORSEL_VPAGE_BASE, virtual) page the morsel covers. */
export function morselBasePage(tx: Tx, base: number, i: number): number {
  return morselSpan(tx, base, i) * morselSpanPages(morselLevel(tx, base, i));
}

function setWord(tx: Tx, off: number, v: number): void {
  if (tx.c[POL][off] !== v) tx.w(POL)[off] = v;
}
function setRefs(tx: Tx, base: number, i: number, refs: number): void {
  const w = tx.c[POL][at(base, i) + 1];
  setWord(tx, at(base, i) + 1, (w & ~(0xfff << 4)) | (refs << 4));
}

/** Aux bit of a morsel table frame: the IOMMU walks it too (pte-agreement applies). */
export const MORSEL_SHARED = 1 << 8;

/** A morsel table frame for the table at `level` covering page `v` of the morsel's span. */
function allocMorselTable(tx: Tx, level: number, v: number, shared: boolean, obs: Observation): number {
  const f = allocFrames(tx, 0, ROLE_MORSEL_PT, level | (shared ? MORSEL_SHARED : 0), obs);
  if (f < 0) return -1;
  setFrameData(tx.w(FRAMES), f, tableKey(level, v));
  obs.counters[C.ptFramesAllocated]++;
  if (obs.detail) obs.frameNote(f, `held a morsel page table (level ${level})`);
  return f;
}

/** Creates an empty morsel of `level` in slot `i`, for span `span`, one reference (its creator's). */
export function morselCreate(tx: Tx, base: number, i: number, level: number, span: number, dev: number, obs: Observation, shared = true): boolean {
  if (morselRoot(tx, base, i) >= 0) return false;
  const root = allocMorselTable(tx, level, span * morselSpanPages(level), shared, obs);
  if (root < 0) return false;
  setWord(tx, at(base, i), root + 1);
  setWord(tx, at(base, i) + 1, level | (1 << 4) | (dev << 16));
  setWord(tx, at(base, i) + 2, span);
  setWord(tx, at(base, i) + 3, 0);
  if (obs.detail) obs.note(`morsel #${i} created (level ${level}, root table frame ${root})`);
  return true;
}

const leaf: SharedLeaf = { lo: 0, hi: 0 };

/**
 * The page-fault path: page `index` (0..span-1) of morsel `i` is touched for
 * the first time and gets `frame`. Writes the leaf in encoding `enc` (and, in
 * a level-2 morsel, allocates and links the level-1 table on the way).
 * `cpuWrite`: a write fault; `devRead`/`devWrite`: what the device is granted.
 * Counts mmuPteWrites: the primary (x86) view is what the fault path writes.
 */
export function morselFault(
  tx: Tx, base: number, i: number, index: number, frame: number, cpuWrite: boolean, devRead: boolean, devWrite: boolean,
  enc: SharingEncoding, obs: Observation,
): boolean {
  let table = morselRoot(tx, base, i);
  const level = morselLevel(tx, base, i);
  const first = morselBasePage(tx, base, i);
  const v = first + index;
  for (let l = level; l > 1; l--) {
    const idx = tableIndex(v, l);
    const p = ptFind(tx.c[PTMEM], table, idx);
    if (p >= 0) {
      table = x86Pfn(tx.c[PTMEM][2 + p * PT_W] >>> 0, tx.c[PTMEM][3 + p * PT_W] >>> 0);
      continue;
    }
    const next = allocMorselTable(tx, l - 1, v, (frameAux(tx.c[FRAMES], table) & MORSEL_SHARED) !== 0, obs);
    if (next < 0) return false;
    sharedDirectory(next, l - 1, leaf);
    if (!ptWrite(tx, table, idx, leaf.lo, leaf.hi)) return false;
    obs.counters[C.mmuPteWrites]++;
    table = next;
  }
  sharedLeaf(enc, frame, cpuWrite, devRead, devWrite, leaf);
  if (!ptWrite(tx, table, tableIndex(v, 1), leaf.lo, leaf.hi)) return false;
  obs.counters[C.mmuPteWrites]++;
  return true;
}

/**
 * Finds, allocating on the way, the table at `level` of domain `dom` that
 * covers page `v`; -1 if a frame is missing or a leaf is in the way.
 */
function domainTable(tx: Tx, dom: number, level: number, v: number, obs: Observation): number {
  let table = domainRoot(tx.c[DTE], dom);
  for (let l = tx.g.cfg.iommuLevels; l > level; l--) {
    const idx = tableIndex(v, l);
    const p = ptFind(tx.c[PTMEM], table, idx);
    if (p >= 0) {
      const lo = tx.c[PTMEM][2 + p * PT_W] >>> 0;
      if (amdNextLevel(lo) !== l - 1) return -1;
      table = amdAddrPfn(lo, tx.c[PTMEM][3 + p * PT_W] >>> 0);
      continue;
    }
    const next = allocFrames(tx, 0, ROLE_IOMMU_PT, dom, obs);
    if (next < 0) return -1;
    setFrameData(tx.w(FRAMES), next, tableKey(l - 1, v));
    obs.counters[C.ptFramesAllocated]++;
    if (!ptWrite(tx, table, idx, amdPdeLo(next, l - 1), amdPdeHi(next))) return -1;
    obs.counters[C.iommuPteWrites]++;
    table = next;
  }
  return table;
}

/** Links table frame `table` (a level-`level` table covering page `v`) into domain `dom` by one directory entry. */
export function linkIntoDomain(tx: Tx, dom: number, level: number, v: number, table: number, obs: Observation): boolean {
  if (level + 1 > tx.g.cfg.iommuLevels) return false;
  const parent = domainTable(tx, dom, level + 1, v, obs);
  if (parent < 0 || ptFind(tx.c[PTMEM], parent, tableIndex(v, level + 1)) >= 0) return false;
  if (!ptWrite(tx, parent, tableIndex(v, level + 1), amdPdeLo(table, level), amdPdeHi(table))) return false;
  obs.counters[C.iommuPteWrites]++;
  return true;
}

/** Clears the directory entry of domain `dom` that links the level-`level` table covering page `v`. */
export function unlinkFromDomain(tx: Tx, dom: number, level: number, v: number, obs: Observation): boolean {
  const parent = domainTable(tx, dom, level + 1, v, obs);
  if (parent < 0 || ptFind(tx.c[PTMEM], parent, tableIndex(v, level + 1)) < 0) return false;
  ptWrite(tx, parent, tableIndex(v, level + 1), 0, 0);
  obs.counters[C.iommuPteWrites]++;
  return true;
}

/** Mounts morsel `i` into IOMMU domain `dom`: links one directory entry (AMD PM_LEVEL_PDE) to its root. Takes a reference. */
export function morselMount(tx: Tx, base: number, i: number, dom: number, obs: Observation): boolean {
  const level = morselLevel(tx, base, i);
  if ((morselMounts(tx, base, i) & (1 << dom)) !== 0) return false;
  if (!linkIntoDomain(tx, dom, level, morselBasePage(tx, base, i), morselRoot(tx, base, i), obs)) return false;
  setWord(tx, at(base, i) + 3, morselMounts(tx, base, i) | (1 << dom));
  setRefs(tx, base, i, morselRefs(tx, base, i) + 1);
  if (obs.detail) obs.note(`morsel #${i} mounted into IOMMU dom ${dom} (one level-${level + 1} entry)`);
  return true;
}

/**
 * Unmounts morsel `i` from domain `dom`: clears the one entry. The mount's
 * reference stays until the caller has invalidated the IOTLB and the
 * directory cache and calls morselPut.
 */
export function morselUnmount(tx: Tx, base: number, i: number, dom: number, obs: Observation): boolean {
  if ((morselMounts(tx, base, i) & (1 << dom)) === 0) return false;
  if (!unlinkFromDomain(tx, dom, morselLevel(tx, base, i), morselBasePage(tx, base, i), obs)) return false;
  setWord(tx, at(base, i) + 3, morselMounts(tx, base, i) & ~(1 << dom));
  if (obs.detail) obs.note(`morsel #${i} unmounted from IOMMU dom ${dom}`);
  return true;
}

/** Sends morsel `i` from domain `from` to domain `to`: mount there, unmount here (the caller invalidates `from`, then morselPut). */
export function morselSend(tx: Tx, base: number, i: number, from: number, to: number, obs: Observation): boolean {
  if ((morselMounts(tx, base, i) & (1 << from)) === 0) return false;
  return morselMount(tx, base, i, to, obs) && morselUnmount(tx, base, i, from, obs);
}

/** The process's table at x86 `level` covering virtual page `vp`, allocated on the way (MMU tables, role mmu-page-table). */
function processTable(tx: Tx, level: number, vp: number, obs: Observation): number {
  let table = tx.c[HDR][H_USER_PML4];
  for (let l = 4; l > level; l--) {
    const idx = x86Index(vp, l);
    const p = ptFind(tx.c[PTMEM], table, idx);
    if (p >= 0) {
      table = x86Pfn(tx.c[PTMEM][2 + p * PT_W] >>> 0, tx.c[PTMEM][3 + p * PT_W] >>> 0);
      continue;
    }
    const next = allocFrames(tx, 0, ROLE_MMU_PT, 1, obs);
    if (next < 0) return -1;
    setFrameData(tx.w(FRAMES), next, l - 1);
    obs.counters[C.ptFramesAllocated]++;
    if (!ptWrite(tx, table, idx, x86EncodeLo(next, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER), x86EncodeHi(next, false, 0, 0))) return -1;
    obs.counters[C.mmuPteWrites]++;
    table = next;
  }
  return table;
}

/** Mounts morsel `i` into the process at virtual page MORSEL_VPAGE_BASE + its base page: one x86 entry. Takes a reference. */
export function morselMountProcess(tx: Tx, base: number, i: number, obs: Observation): boolean {
  if ((morselMounts(tx, base, i) & MOUNT_PROCESS) !== 0) return false;
  const level = morselLevel(tx, base, i);
  const vp = MORSEL_VPAGE_BASE + morselBasePage(tx, base, i);
  const parent = processTable(tx, level + 1, vp, obs);
  if (parent < 0 || ptFind(tx.c[PTMEM], parent, x86Index(vp, level + 1)) >= 0) return false;
  const root = morselRoot(tx, base, i);
  if (!ptWrite(tx, parent, x86Index(vp, level + 1), x86EncodeLo(root, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER), x86EncodeHi(root, false, 0, 0))) return false;
  obs.counters[C.mmuPteWrites]++;
  setWord(tx, at(base, i) + 3, morselMounts(tx, base, i) | MOUNT_PROCESS);
  setRefs(tx, base, i, morselRefs(tx, base, i) + 1);
  return true;
}

/** Unmounts morsel `i` from the process (the caller shoots down TLBs, then morselPut). */
export function morselUnmountProcess(tx: Tx, base: number, i: number, obs: Observation): boolean {
  if ((morselMounts(tx, base, i) & MOUNT_PROCESS) === 0) return false;
  const level = morselLevel(tx, base, i);
  const vp = MORSEL_VPAGE_BASE + morselBasePage(tx, base, i);
  const parent = processTable(tx, level + 1, vp, obs);
  if (parent < 0) return false;
  ptWrite(tx, parent, x86Index(vp, level + 1), 0, 0);
  obs.counters[C.mmuPteWrites]++;
  setWord(tx, at(base, i) + 3, morselMounts(tx, base, i) & ~MOUNT_PROCESS);
  return true;
}

/** Drops a reference; at the last one the morsel's table frames are freed and its slot cleared. */
export function morselPut(tx: Tx, base: number, i: number, obs: Observation): void {
  const refs = morselRefs(tx, base, i);
  if (refs > 1) return setRefs(tx, base, i, refs - 1);
  const root = morselRoot(tx, base, i);
  if (root < 0) return;
  freeTableTree(tx, root, morselLevel(tx, base, i), obs);
  for (let w = 0; w < MORSEL_W; w++) setWord(tx, at(base, i) + w, 0);
  if (obs.detail) obs.note(`morsel #${i} destroyed (last reference dropped)`);
}

/**
 * Frees a page-table tree of morsel or view tables: the table at `f` (level
 * `level`) and, below level 1, every table its entries point at. The address
 * field is bits 12..51 in x86-64, AMD v1 and EPT entries alike.
 */
export function freeTableTree(tx: Tx, f: number, level: number, obs: Observation): void {
  if (level > 1) {
    const children: number[] = [];
    const pt = tx.c[PTMEM];
    for (let p = ptFirst(pt, f); p < pt[0] && Math.floor(pt[1 + p * PT_W] / 512) === f; p++) {
      children.push(x86Pfn(pt[2 + p * PT_W] >>> 0, pt[3 + p * PT_W] >>> 0));
    }
    for (const c of children) freeTableTree(tx, c, level - 1, obs);
  }
  ptClearFrame(tx, f);
  freeFrames(tx, f, 0, obs);
  obs.counters[C.ptFramesFreed]++;
}

/**
 * The primary changes: page `index` of morsel `i` is unmapped from the object
 * (the kernel zaps it: its x86 leaf is cleared). Whoever caches or mirrors
 * the entry (TLBs, secondary views) must be invalidated by the caller.
 */
export function morselZap(tx: Tx, base: number, i: number, index: number, obs: Observation): boolean {
  let table = morselRoot(tx, base, i);
  const v = morselBasePage(tx, base, i) + index;
  for (let l = morselLevel(tx, base, i); l > 1; l--) {
    const p = ptFind(tx.c[PTMEM], table, tableIndex(v, l));
    if (p < 0) return false;
    table = x86Pfn(tx.c[PTMEM][2 + p * PT_W] >>> 0, tx.c[PTMEM][3 + p * PT_W] >>> 0);
  }
  if (ptFind(tx.c[PTMEM], table, tableIndex(v, 1)) < 0) return false;
  ptWrite(tx, table, tableIndex(v, 1), 0, 0);
  obs.counters[C.mmuPteWrites]++;
  return true;
}

/**
 * AMD IOMMU v1 host page tables of each domain: map, unmap (with reclamation
 * of tables an unmap leaves empty) and the memory-only walk.
 *
 * Convention: the root table has level `iommuLevels` (the DTE Mode); a table
 * at level L has entries each spanning 2^(9(L-1)) pages; level-1 tables hold
 * the 4 KiB leaves. Software here writes PDEs exactly like Linux PM_LEVEL_PDE
 * (PR | IR | IW | NextLevel = L-1) and 4 KiB leaves like io_pgtable.c's
 * iommu_v1_map_pages (PR | FC | IR/IW by direction); the walker also honours
 * what software here never writes but hardware accepts: NextLevel 7 large
 * pages, default-size leaves (NextLevel 0) above level 1, and level skipping.
 * Source: Linux drivers/iommu/amd/amd_iommu_types.h, io_pgtable.c.
 */
import { C } from "./counters.ts";
import { DTE, DTE_W, FRAMES, FRAME_W, levelShift } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { ptClearFrame, ptCount, ptFind, ptWrite } from "./page-table-memory.ts";
import {
  allocFrames, F_RELEASED, F_DETACHED, frameAux, frameData, frameFlags, frameRole, freeFrames, ROLE_IOMMU_PT, ROLE_MORSEL_PT, ROLE_MORSEL_VIEW, setFrame, setFrameData,
} from "./physical-memory.ts";
import { type Tx, type Words } from "./state.ts";
import { releaseUnderTable, reserveUnderTable } from "./iova-allocator.ts";
import { PTMEM, PT_W } from "./geometry.ts";
import {
  AMD_V1_MAX_LEVELS, amdAddrPfn, amdIr, amdIw, amdLargeBasePfn, amdLargeLeafHi, amdLargeLeafLo, amdLargePageLog2, amdNextLevel, amdPageSizeSupported,
  amdPdeHi, amdPdeLo, amdPresent, amdPteHi, amdPteLo, amdReplicaCount,
} from "./formats/amd-v1-pte.ts";
import { slAddrPfn, slPdeHi, slPdeLo, slPresent, slPs, slPteHi, slPteLo } from "./formats/vtd-sl-pte.ts";
import { walkFromVtd } from "./vtd-page-table.ts";

/** Whether the entry (lo, hi) at `level` points to a table at level - 1: AMD NextLevel, or a present VT-d entry without PS. */
function isTablePointer(vtd: boolean, lo: number, level: number): boolean {
  return vtd ? slPresent(lo) && !slPs(lo) : amdNextLevel(lo) === level - 1;
}
function entryPfn(vtd: boolean, lo: number, hi: number): number {
  return vtd ? slAddrPfn(lo, hi) : amdAddrPfn(lo, hi);
}

const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** Index of IOVA page `v` in a table at `level`. */
export function tableIndex(v: number, level: number): number {
  return Math.floor(v / POW2[levelShift(level)]) % 512;
}
/** The table a frame holds, as stored in its frame record: level | prefix << 4. */
export function tableKey(level: number, v: number): number {
  return level | (Math.floor(v / POW2[9 * level]) << 4);
}
export function tableKeyLevel(key: number): number {
  return key & 0xf;
}

/** Root table frame of domain `dom` (the DTE's host page-table root pointer, bits 51:12 of data[0]). */
export function domainRoot(dte: Words, dom: number): number {
  const lo = dte[dom * DTE_W] >>> 0;
  const hi = dte[dom * DTE_W + 1] >>> 0;
  return (hi & 0xfffff) * 0x100000 + (lo >>> 12);
}

/** Tag of a detached table frame: which context (or flush queue) will free it. */
export const TAG_FQ = 0xfe;

function detachedTag(fr: Words, f: number): number {
  return frameAux(fr, f) >>> 8;
}

/**
 * One step down the tables of domain `dom` towards IOVA page `v`: the table
 * that `table` (at `level`) points to for `v`, allocated and linked when
 * absent. -1 when a large leaf is in the way, no table frame could be
 * allocated, or the page-table pool is full.
 */
function descend(tx: Tx, dom: number, table: number, level: number, v: number, obs: Observation): number {
  const vtd = tx.g.vtd;
  const idx = tableIndex(v, level);
  const p = ptFind(tx.c[PTMEM], table, idx);
  if (p >= 0) {
    const lo = tx.c[PTMEM][2 + p * PT_W] >>> 0;
    const hi = tx.c[PTMEM][3 + p * PT_W] >>> 0;
    return isTablePointer(vtd, lo, level) ? entryPfn(vtd, lo, hi) : -1;
  }
  const next = allocFrames(tx, 0, ROLE_IOMMU_PT, dom, obs);
  if (next < 0) return -1;
  setFrameData(tx.w(FRAMES), next, tableKey(level - 1, v));
  obs.counters[C.ptFramesAllocated]++;
  if (obs.detail) obs.frameNote(next, `held an IOMMU page table (dom ${dom}, level ${level - 1})`);
  if (!ptWrite(tx, table, idx, vtd ? slPdeLo(next) : amdPdeLo(next, level - 1), vtd ? slPdeHi(next) : amdPdeHi(next))) return -1;
  obs.counters[C.iommuPteWrites]++;
  return next;
}

/**
 * Maps IOVA page `v` of domain `dom` to frame `pfn`, allocating tables on the
 * way down. Returns false if a table frame could not be allocated or the
 * page-table pool is full.
 */
export function iommuMapPage(tx: Tx, dom: number, v: number, pfn: number, ir: boolean, iw: boolean, obs: Observation): boolean {
  const levels = tx.g.cfg.iommuLevels;
  const vtd = tx.g.vtd;
  let table = domainRoot(tx.c[DTE], dom);
  for (let level = levels; level > 1 && table >= 0; level--) table = descend(tx, dom, table, level, v, obs);
  if (table < 0) return false;
  // AMD: PR | FC | IR/IW (io_pgtable.c); VT-d: R/W (Linux __domain_mapping, no SNP: force_snooping is off).
  const ok = vtd ? ptWrite(tx, table, tableIndex(v, 1), slPteLo(pfn, ir, iw), slPteHi(pfn)) : ptWrite(tx, table, tableIndex(v, 1), amdPteLo(pfn), amdPteHi(pfn, ir, iw, true));
  if (!ok) return false;
  obs.counters[C.iommuPteWrites]++;
  return true;
}

/**
 * Whether the IOMMU offers pages of 2^log2 bytes in a table of `levels`
 * levels: AMD v1 AMD_IOMMU_PGSIZES (every power of two from 4 KiB to 2^51
 * but 512 GiB: drivers/iommu/amd/amd_iommu_types.h); VT-d second level 4 KiB,
 * 2 MiB and 1 GiB (Linux intel/iommu.c pgsize_bitmap with super pages:
 * SZ_4K | SZ_2M | SZ_1G). The page must fit below the root table.
 */
export function iommuPageSizeOffered(vtd: boolean, levels: number, log2: number): boolean {
  if (log2 >= 12 + 9 * levels) return false;
  return vtd ? log2 === 12 || log2 === 21 || log2 === 30 : amdPageSizeSupported(log2);
}

/**
 * Maps 2^(log2 - 12) IOVA pages from `v` (aligned to that size) to the
 * frames from `pfn` (aligned likewise) with one IOMMU page, as Linux's
 * map_pages does for a page size iommu_pgsize chose. AMD v1
 * (io_pgtable.c iommu_v1_map_pages): the page lives in the table at level
 * PAGE_SIZE_LEVEL + 1; a default-size page (4 KiB, 2 MiB, 1 GiB...) is one
 * NextLevel-0 leaf, any other size PAGE_SIZE_PTE_COUNT copies of a
 * NextLevel-7 leaf with the size in its address bits. VT-d: a PS leaf at
 * level 2 or 3 (or a plain 4 KiB leaf). False, writing no leaf, when a table
 * frame could not be allocated or a table already occupies a slot (Linux
 * would free it; the caller maps those pages 4 KiB at a time instead).
 */
export function iommuMapLarge(tx: Tx, dom: number, v: number, pfn: number, log2: number, ir: boolean, iw: boolean, obs: Observation): boolean {
  if (log2 === 12) return iommuMapPage(tx, dom, v, pfn, ir, iw, obs);
  const levels = tx.g.cfg.iommuLevels;
  const vtd = tx.g.vtd;
  const leafLevel = Math.floor((log2 - 12) / 9) + 1;
  const count = vtd ? 1 : amdReplicaCount(log2);
  let table = domainRoot(tx.c[DTE], dom);
  for (let level = levels; level > leafLevel && table >= 0; level--) table = descend(tx, dom, table, level, v, obs);
  if (table < 0) return false;
  const first = tableIndex(v, leafLevel);
  for (let i = 0; i < count; i++) if (ptFind(tx.c[PTMEM], table, first + i) >= 0) return false;
  const dflt = log2 === 12 + 9 * (leafLevel - 1);
  for (let i = 0; i < count; i++) {
    const ok = vtd
      ? ptWrite(tx, table, first, slPteLo(pfn, ir, iw, true), slPteHi(pfn))
      : dflt
        ? ptWrite(tx, table, first, amdPteLo(pfn), amdPteHi(pfn, ir, iw, true))
        : ptWrite(tx, table, first + i, amdLargeLeafLo(pfn, log2), amdLargeLeafHi(pfn, log2, ir, iw));
    if (!ok) return false;
    obs.counters[C.iommuPteWrites]++;
  }
  return true;
}

/** Scratch: table frames on the path of the last unmap walk, by level. */
const path = new Int32Array(8);

/**
 * Clears the leaves of IOVA pages [v, v+pages) of domain `dom`. With
 * reclamation on, a table the unmap leaves empty is unlinked from its parent
 * and marked detached with `tag`; its frame is freed later by
 * freeDetachedTables (after the invalidation that makes it unreachable).
 * Returns the number of leaves cleared.
 */
export function iommuUnmapPages(tx: Tx, dom: number, v: number, pages: number, tag: number, obs: Observation): number {
  const levels = tx.g.cfg.iommuLevels;
  const vtd = tx.g.vtd;
  const root = domainRoot(tx.c[DTE], dom);
  let cleared = 0;
  for (let page = v; page < v + pages; page++) {
    let table = root;
    // Lowest level whose table is on the page's path; -1 when a large leaf is in the way.
    let stop = 1;
    for (let level = levels; level > 1; level--) {
      path[level] = table;
      const p = ptFind(tx.c[PTMEM], table, tableIndex(page, level));
      if (p < 0) { stop = level; break; }
      const lo = tx.c[PTMEM][2 + p * PT_W] >>> 0;
      const hi = tx.c[PTMEM][3 + p * PT_W] >>> 0;
      if (!isTablePointer(vtd, lo, level)) {
        // A large leaf (iommuMapLarge): clear it, every copy of an AMD NextLevel-7 leaf
        // (io_pgtable.c iommu_v1_unmap_pages clears PAGE_SIZE_PTE_COUNT entries).
        const copies = vtd || amdNextLevel(lo) !== 7 ? 1 : amdReplicaCount(amdLargePageLog2(lo, hi));
        const first = tableIndex(page, level) - (tableIndex(page, level) % copies);
        for (let i = 0; i < copies; i++) {
          if (ptFind(tx.c[PTMEM], table, first + i) < 0) continue;
          ptWrite(tx, table, first + i, 0, 0);
          obs.counters[C.iommuPteWrites]++;
        }
        cleared++;
        path[level] = table;
        stop = -level; // reclaim from this level up
        break;
      }
      table = entryPfn(vtd, lo, hi);
    }
    if (stop < 0) {
      stop = -stop;
      if (!tx.g.cfg.reclaimEmptyTables) continue;
    }
    if (stop === 1) {
      path[1] = table;
      if (ptFind(tx.c[PTMEM], table, tableIndex(page, 1)) < 0) continue;
      ptWrite(tx, table, tableIndex(page, 1), 0, 0);
      obs.counters[C.iommuPteWrites]++;
      cleared++;
    }
    if (!tx.g.cfg.reclaimEmptyTables) continue;
    // Emptied tables go, and so do tables a failed map left empty on the path (it
    // allocated them, then ran out of memory before the leaf).
    for (let level = stop; level < levels; level++) {
      const t = path[level];
      if (ptCount(tx.c[PTMEM], t) !== 0) break;
      ptWrite(tx, path[level + 1], tableIndex(page, level + 1), 0, 0);
      obs.counters[C.iommuPteWrites]++;
      const fr = tx.w(FRAMES);
      setFrame(fr, t, ROLE_IOMMU_PT, 0, (fr[t * FRAME_W] & 0xff00) | F_DETACHED, dom | (tag << 8));
      // The IOMMU may cache the entry to it until the invalidation: no new table may go there before it is freed.
      const key = fr[t * FRAME_W + 2];
      reserveUnderTable(tx, dom, tableFirstPage(key), tableSpanPages(key), v, pages);
      if (obs.detail) obs.note(`table frame ${t} (dom ${dom}, level ${level}) is empty: unlinked, to be freed`);
    }
  }
  return cleared;
}

/** Whether frame `f` is a detached IOMMU table frame with `tag`. */
export function isDetachedWithTag(fr: Words, f: number, tag: number): boolean {
  return frameRole(fr, f) === ROLE_IOMMU_PT && (frameFlags(fr, f) & F_DETACHED) !== 0 && detachedTag(fr, f) === tag;
}

/** Whether IOVA page `v` of domain `dom` lies under a table an unmap unlinked and that is not freed yet. */
function underDetachedTable(fr: Words, frames: number, dom: number, v: number): boolean {
  for (let f = 0; f < frames; f++) {
    const w = fr[f * FRAME_W];
    if ((w & 0xf) !== ROLE_IOMMU_PT || (w & F_DETACHED) === 0 || ((w >>> 16) & 0xff) !== dom) continue;
    const key = fr[f * FRAME_W + 2];
    if (tableKey(tableKeyLevel(key), v) === key) return true;
  }
  return false;
}

/** The IOVA pages a table with key `key` spans: [tableFirstPage, tableFirstPage + tableSpanPages). */
function tableSpanPages(key: number): number {
  return POW2[9 * tableKeyLevel(key)];
}
function tableFirstPage(key: number): number {
  return (key >>> 4) * tableSpanPages(key);
}

/** Frees detached table frames with `tag` (only those a flush released, when `releasedOnly`). Returns how many. */
export function freeDetachedTables(tx: Tx, tag: number, releasedOnly: boolean, obs: Observation): number {
  let n = 0;
  for (let f = 0; f < tx.g.cfg.frames; f++) {
    if (!isDetachedWithTag(tx.c[FRAMES], f, tag)) continue;
    if (releasedOnly && (frameFlags(tx.c[FRAMES], f) & F_RELEASED) === 0) continue;
    const key = tx.c[FRAMES][f * FRAME_W + 2];
    const dom = frameAux(tx.c[FRAMES], f) & 0xff;
    ptClearFrame(tx, f);
    freeFrames(tx, f, 0, obs);
    obs.counters[C.ptFramesFreed]++;
    n++;
    releaseUnderTable(tx, dom, tableFirstPage(key), tableSpanPages(key), underDetachedTable);
  }
  return n;
}

/** Result of a walk (scratch object, overwritten by each walk). */
export class WalkResult {
  /** Translated frame, or -1 on fault. */
  frame = -1;
  ir = false;
  iw = false;
  refs = 0;
  /** Level of the leaf, and log2 of its page size. */
  level = 0;
  pageLog2 = 12;
}

/**
 * Walks domain tables in memory only (no caches) from `table` at `level`,
 * ANDing IR/IW down the walk. `onPde` (if given) sees every directory entry
 * read: (level of the table it is in, next table frame, next level, ir, iw).
 */
export function walkFrom(
  pt: Words, table: number, level: number, v: number, ir: boolean, iw: boolean, out: WalkResult,
  onPde?: (level: number, next: number, nextLevel: number, ir: boolean, iw: boolean) => void,
): WalkResult {
  out.frame = -1;
  out.refs = 0;
  for (let guard = 0; guard < 8; guard++) {
    const p = ptFind(pt, table, tableIndex(v, level));
    out.refs++;
    if (p < 0) return out;
    const lo = pt[2 + p * PT_W] >>> 0;
    const hi = pt[3 + p * PT_W] >>> 0;
    if (!amdPresent(lo)) return out;
    ir = ir && amdIr(hi);
    iw = iw && amdIw(hi);
    const nl = amdNextLevel(lo);
    if (nl === 0 || nl === 7) {
      // The top level (6) cannot hold translation entries (AMD IOMMU spec,
      // Table 15 "Page Table Level Parameters"; Linux drivers/iommu/generic_pt/
      // fmt/amdv1.h amdv1pt_can_have_leaf): such an entry faults.
      if (level >= AMD_V1_MAX_LEVELS) return out;
      const log2 = nl === 0 ? 12 + levelShift(level) : amdLargePageLog2(lo, hi);
      const base = nl === 0 ? amdAddrPfn(lo, hi) : amdLargeBasePfn(lo, hi);
      const span = POW2[log2 - 12];
      out.frame = base + (v % span);
      out.ir = ir;
      out.iw = iw;
      out.level = level;
      out.pageLog2 = log2;
      return out;
    }
    if (nl >= level) return out; // malformed: a table must be lower than its parent
    // Level skipping: the IOVA bits of every skipped level must be zero, or
    // the walk faults (AMD IOMMU spec, "level skipping"; amd-v1-pte.ts amdIsLevelSkip).
    for (let skipped = nl + 1; skipped < level; skipped++) if (tableIndex(v, skipped) !== 0) return out;
    const next = amdAddrPfn(lo, hi);
    if (onPde) onPde(level, next, nl, ir, iw);
    table = next;
    level = nl;
  }
  return out;
}

/** What is mapped at IOVA page `v` of domain `dom` now, by the tables in memory (in the IOMMU's format). */
export function walkMemory(tx: { g: { vtd: boolean; cfg: { iommuLevels: number } } }, pt: Words, dte: Words, dom: number, v: number, out: WalkResult): WalkResult {
  if (tx.g.vtd) return walkFromVtd(pt, domainRoot(dte, dom), tx.g.cfg.iommuLevels, v, true, true, out);
  return walkFrom(pt, domainRoot(dte, dom), tx.g.cfg.iommuLevels, v, true, true, out);
}

/** Is frame `f` the page-table frame of domain `dom` holding the table at `level` that covers page `v`? */
export function isTableFrameOf(fr: Words, f: number, dom: number, level: number, v: number): boolean {
  const role = frameRole(fr, f);
  // A morsel's table, or a table of its secondary view: the same for every domain it is mounted in.
  if (role === ROLE_MORSEL_PT || role === ROLE_MORSEL_VIEW) return frameData(fr, f) === tableKey(level, v);
  return role === ROLE_IOMMU_PT && (frameAux(fr, f) & 0xff) === dom && frameData(fr, f) === tableKey(level, v);
}

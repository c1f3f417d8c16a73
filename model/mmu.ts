/**
 * The CPU side: x86-64 4-level page tables for the kernel direct map and one
 * user process, and a TLB per CPU, enough to show that device and CPU views of
 * memory are built from the same frames.
 *
 * Kernel direct map: PAGE_OFFSET 0xffff888000000000 (Linux
 * Documentation/arch/x86/x86_64/mm.rst, 4-level), PML4 index 273, mapped
 * with 2 MiB PS entries (Linux maps the direct map with large pages).
 * User process: virtual pages USER_VPAGE_BASE + i, tables allocated on the
 * first page fault. A TLB entry is filled on every walk and removed only by
 * INVLPG on its CPU or by a shootdown IPI (counted in tlbShootdowns).
 *
 * MMU component layout: per CPU, one TLB word per user page ((frame + 1) |
 * writable << 16), then one word per CPU: whether the process has run there
 * (mm_cpumask).
 */
import { C } from "./counters.ts";
import { processesOf } from "./config.ts";
import { FRAMES, HDR, H_KERNEL_PML4, H_USER_PML4, MMU, OBJECTS } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { ptFind, ptLo, ptWrite } from "./page-table-memory.ts";
import { PTMEM, PT_W } from "./geometry.ts";
import {
  allocFrames, F_USER_SHARED, frameContents, frameFlags, mergeFrameContents, ROLE_MMU_PT, ROLE_USER, setFrameData, contentsOf,
  processContents,
} from "./physical-memory.ts";
import { FRAME_W } from "./geometry.ts";
import { type Tx, type Words } from "./state.ts";
import { allocPagesObject, findObjectAt, freeObject, KIND_USER, objKind, OWNER_USER } from "./objects.ts";
import {
  X86_LO_ACCESSED, X86_LO_DIRTY, X86_LO_GLOBAL, X86_LO_PRESENT, X86_LO_PSE, X86_LO_RW, X86_LO_USER, x86EncodeHi, x86EncodeLo, x86Index, x86IsHugeLeaf,
  x86LeafPfn, x86Present, x86User, x86Writable, x86Pfn,
} from "./formats/x86-pte.ts";

export const PAGE_OFFSET_VPAGE = 0xffff888000000; // 0xffff888000000000 >> 12 (exact in a double)
export const USER_VPAGE_BASE = 0x10000; // user virtual address 0x10000000

/**
 * The process that owns user page `page` (already reduced mod userPages).
 * With `processes` P > 1 the model's user pages are split evenly: process p
 * owns pages p*w..(p+1)*w-1, w = floor(userPages / P), the last process also
 * the remainder. One set of user tables holds them all: no process can name
 * another's virtual pages, so what each reaches is what separate address
 * spaces give; only the TLB shootdown count (one mm_cpumask) is shared.
 */
export function processOf(cfg: { readonly userPages: number; readonly processes?: number }, page: number): number {
  const P = processesOf(cfg);
  if (P <= 1) return 0;
  return Math.min(P - 1, Math.floor(page / Math.floor(cfg.userPages / P)));
}

/** User pages each process owns (floor(userPages / processes)). */
export function pagesPerProcess(cfg: { readonly userPages: number; readonly processes?: number }): number {
  return Math.floor(cfg.userPages / processesOf(cfg));
}

/**
 * A not-present user PTE with this software bit (x86 PTE bit 9, available to
 * software, ignored by the MMU) marks a page of I/O memory the kernel shares
 * page by page (MAIO with several processes): a touch there while the page is
 * not granted faults without allocating anything (the VMA is VM_PFNMAP-like:
 * SIGBUS), instead of faulting in an anonymous page.
 */
export const PTE_IO_WINDOW = 0x200;

/** Scratch result of an MMU walk. */
export class MmuWalk {
  frame = -1;
  writable = false;
  user = false;
  refs = 0;
}

/** Walks 4-level x86-64 tables from `root` for virtual page `vp` (memory only). */
export function mmuWalk(pt: Words, root: number, vp: number, out: MmuWalk): MmuWalk {
  out.frame = -1;
  out.refs = 0;
  let table = root;
  let w = true, u = true;
  for (let level = 4; level >= 1; level--) {
    const p = ptFind(pt, table, x86Index(vp, level));
    out.refs++;
    if (p < 0) return out;
    const lo = pt[2 + p * PT_W] >>> 0, hi = pt[3 + p * PT_W] >>> 0;
    if (!x86Present(lo)) return out;
    w = w && x86Writable(lo);
    u = u && x86User(lo);
    if (level === 1 || x86IsHugeLeaf(lo, level)) {
      const span = 2 ** (9 * (level - 1));
      out.frame = x86LeafPfn(lo, hi, level) + (vp % span);
      out.writable = w;
      out.user = u;
      return out;
    }
    table = x86Pfn(lo, hi);
  }
  return out;
}

/**
 * A directory entry as Linux writes it: _KERNPG_TABLE (P | RW | A | D) for
 * the kernel's tables, _PAGE_TABLE (the same plus U) for a process's
 * (arch/x86/include/asm/pgtable_types.h).
 */
function tableLo(pfn: number, user: boolean): number {
  return x86EncodeLo(pfn, X86_LO_PRESENT | X86_LO_RW | X86_LO_ACCESSED | X86_LO_DIRTY | (user ? X86_LO_USER : 0));
}
/** __PAGE_KERNEL_LARGE: P | RW | A | D | PSE | G, and NX in the high half (arch/x86/include/asm/pgtable_types.h). */
export const KERNEL_LARGE_LO_FLAGS = X86_LO_PRESENT | X86_LO_RW | X86_LO_ACCESSED | X86_LO_DIRTY | X86_LO_PSE | X86_LO_GLOBAL;

/** Builds the kernel direct map and the process's top-level table. */
export function bootMmu(tx: Tx, obs: Observation): void {
  const pml4 = allocFrames(tx, 0, ROLE_MMU_PT, 0, obs);
  const pdpt = allocFrames(tx, 0, ROLE_MMU_PT, 0, obs);
  const pd = allocFrames(tx, 0, ROLE_MMU_PT, 0, obs);
  const upml4 = allocFrames(tx, 0, ROLE_MMU_PT, 1, obs);
  ptWrite(tx, pml4, x86Index(PAGE_OFFSET_VPAGE, 4), tableLo(pdpt, false), x86EncodeHi(pdpt, false, 0, 0));
  ptWrite(tx, upml4, x86Index(PAGE_OFFSET_VPAGE, 4), tableLo(pdpt, false), x86EncodeHi(pdpt, false, 0, 0));
  ptWrite(tx, pdpt, x86Index(PAGE_OFFSET_VPAGE, 3), tableLo(pd, false), x86EncodeHi(pd, false, 0, 0));
  for (let i = 0; i * 512 < tx.g.cfg.frames; i++) {
    ptWrite(tx, pd, x86Index(PAGE_OFFSET_VPAGE + i * 512, 2),
      x86EncodeLo(i * 512, KERNEL_LARGE_LO_FLAGS), x86EncodeHi(i * 512, true, 0, 0));
  }
  // Frame data of a CPU page-table frame: its level (4 = PML4).
  const levels: [number, number][] = [[pml4, 4], [pdpt, 3], [pd, 2], [upml4, 4]];
  for (const [f, level] of levels) setFrameData(tx.w(FRAMES), f, level);
  const h = tx.w(HDR);
  h[H_KERNEL_PML4] = pml4;
  h[H_USER_PML4] = upml4;
}

const walk = new MmuWalk();

function tlbOffset(tx: Tx, cpu: number, page: number): number {
  return cpu * tx.g.cfg.userPages + page;
}
function cpumaskOffset(tx: Tx, cpu: number): number {
  return tx.g.cfg.cpus * tx.g.cfg.userPages + cpu;
}

/** The process touches user page `page` on `cpu`: TLB, walk, or page fault. */
export function userTouch(tx: Tx, cpu: number, page: number, write: boolean, obs: Observation): void {
  const up = tx.g.cfg.userPages;
  if (up === 0) return obs.skip("the model has no user pages");
  page %= up;
  cpu %= tx.g.cfg.cpus;
  if (tx.c[MMU][cpumaskOffset(tx, cpu)] === 0) tx.w(MMU)[cpumaskOffset(tx, cpu)] = 1;
  const cached = tx.c[MMU][tlbOffset(tx, cpu, page)];
  obs.userProc = processOf(tx.g.cfg, page);
  if (cached !== 0) return touched(tx, (cached & 0xffff) - 1, write, obs);
  const vp = USER_VPAGE_BASE + page;
  const root = tx.c[HDR][H_USER_PML4];
  mmuWalk(tx.c[PTMEM], root, vp, walk);
  obs.counters[C.walkRefs] += walk.refs;
  let frame = walk.frame;
  if (frame < 0) {
    frame = pageFault(tx, root, vp, processOf(tx.g.cfg, page), obs);
    if (frame === -2) return obs.skip("page fault: I/O memory not granted to this process (SIGBUS)");
    if (frame < 0) return obs.skip("page fault: out of memory");
  }
  tx.w(MMU)[tlbOffset(tx, cpu, page)] = (frame + 1) | (1 << 16);
  touched(tx, frame, write, obs);
  if (obs.detail) obs.note(`cpu${cpu} ${write ? "wrote" : "read"} user page ${page} (frame ${frame})`);
}

/**
 * The user reached `frame` (obs.userFrame, for user-confinement). A write
 * into I/O memory shared with the kernel (F_USER_SHARED: MAIO) leaves user
 * data there, which stays when the page is recycled (leftover-data). The
 * process's own pages need no record: their role says they hold user data.
 */
function touched(tx: Tx, frame: number, write: boolean, obs: Observation): void {
  obs.userFrame = frame;
  if (!write || (frameFlags(tx.c[FRAMES], frame) & F_USER_SHARED) === 0) return;
  // Process 0's data is "user data" (OWNER_USER); another process's has its own code (processContents).
  const code = processContents(obs.userProc);
  if (frameContents(tx.c[FRAMES], frame) === code) return;
  if (obs.userProc === 0) mergeFrameContents(tx.w(FRAMES), frame, OWNER_USER);
  else tx.w(FRAMES)[frame * FRAME_W + 3] = code; // a whole-page write by the one process granted the page
}

/** The leaf table for user virtual page `vp`, allocating the missing tables on the way (a page fault's walk), or -1 when out of memory. */
function leafTable(tx: Tx, root: number, vp: number, obs: Observation): number {
  let table = root;
  for (let level = 4; level > 1; level--) {
    const idx = x86Index(vp, level);
    const p = ptFind(tx.c[PTMEM], table, idx);
    if (p >= 0) {
      table = x86Pfn(tx.c[PTMEM][2 + p * PT_W] >>> 0, tx.c[PTMEM][3 + p * PT_W] >>> 0);
      continue;
    }
    const next = allocFrames(tx, 0, ROLE_MMU_PT, 1, obs);
    if (next < 0) return -1;
    setFrameData(tx.w(FRAMES), next, level - 1);
    obs.counters[C.ptFramesAllocated]++;
    obs.counters[C.mmuPteWrites]++;
    ptWrite(tx, table, idx, tableLo(next, true), x86EncodeHi(next, false, 0, 0));
    table = next;
  }
  return table;
}

/** Faults in an anonymous page for process `proc` at `vp`: its frame, -1 out of memory, -2 a not-granted page of shared I/O memory (PTE_IO_WINDOW). */
function pageFault(tx: Tx, root: number, vp: number, proc: number, obs: Observation): number {
  const table = leafTable(tx, root, vp, obs);
  if (table < 0) return -1;
  if ((ptLo(tx.c[PTMEM], table, x86Index(vp, 1)) & PTE_IO_WINDOW) !== 0) return -2;
  const i = allocPagesObject(tx, 0, OWNER_USER, ROLE_USER, KIND_USER, obs);
  if (i < 0) return -1;
  const frame = tx.c[OBJECTS][1 + i * 4] - 1;
  // The owning process in the frame's aux (user-confinement), when there are several.
  if (proc !== 0) tx.w(FRAMES)[frame * FRAME_W] = (tx.c[FRAMES][frame * FRAME_W] & 0xffff) | ((OWNER_USER + proc) << 16);
  ptWrite(tx, table, x86Index(vp, 1), x86EncodeLo(frame, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER), x86EncodeHi(frame, true, 0, 0));
  obs.counters[C.mmuPteWrites]++;
  return frame;
}

/**
 * Maps frame `frame` at user page `page` of the process, read-write (the
 * kernel's remap_pfn_range / vm_insert_page of memory it shares with the
 * process: MAIO's I/O pages). Allocates the missing tables. False when the
 * page is outside the process or out of memory.
 */
export function mapUserFrame(tx: Tx, page: number, frame: number, obs: Observation): boolean {
  if (page < 0 || page >= tx.g.cfg.userPages) return false;
  const vp = USER_VPAGE_BASE + page;
  const table = leafTable(tx, tx.c[HDR][H_USER_PML4], vp, obs);
  if (table < 0) return false;
  ptWrite(tx, table, x86Index(vp, 1), x86EncodeLo(frame, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER), x86EncodeHi(frame, true, 0, 0));
  obs.counters[C.mmuPteWrites]++;
  return true;
}

/**
 * The kernel takes back user page `page` (zap_page_range of shared I/O
 * memory: MAIO revoking a page it granted): the PTE becomes `leave` (0, or
 * PTE_IO_WINDOW to keep the page a not-granted window page), every CPU's TLB
 * entry goes (a shootdown per other CPU in mm_cpumask, run from `cpu`).
 * Nothing is freed. False when the page is not mapped.
 */
export function unmapUserFrame(tx: Tx, cpu: number, page: number, leave: number, obs: Observation): boolean {
  const vp = USER_VPAGE_BASE + page;
  const table = leafTable(tx, tx.c[HDR][H_USER_PML4], vp, obs);
  if (table < 0) return false;
  ptWrite(tx, table, x86Index(vp, 1), leave, 0);
  obs.counters[C.mmuPteWrites]++;
  for (let c = 0; c < tx.g.cfg.cpus; c++) {
    if (tx.c[MMU][tlbOffset(tx, c, page)] !== 0) tx.w(MMU)[tlbOffset(tx, c, page)] = 0;
    if (c !== cpu % tx.g.cfg.cpus && tx.c[MMU][cpumaskOffset(tx, c)] !== 0) obs.counters[C.tlbShootdowns]++;
  }
  return true;
}

/** Marks user page `page` as a not-granted page of shared I/O memory (PTE_IO_WINDOW); false when out of table memory. */
export function markUserWindow(tx: Tx, page: number, obs: Observation): boolean {
  const vp = USER_VPAGE_BASE + page;
  const table = leafTable(tx, tx.c[HDR][H_USER_PML4], vp, obs);
  if (table < 0) return false;
  ptWrite(tx, table, x86Index(vp, 1), PTE_IO_WINDOW, 0);
  return true;
}

/** The frame user page `page` maps now (a walk of the process's tables, no TLB), or -1. */
export function userFrameOf(tx: Tx, page: number): number {
  return mmuWalk(tx.c[PTMEM], tx.c[HDR][H_USER_PML4], USER_VPAGE_BASE + page, walk).frame;
}

/** munmap of user page `page`: clear the PTE, flush this CPU's TLB and shoot down the others, free the page. */
export function userUnmap(tx: Tx, cpu: number, page: number, obs: Observation): void {
  const up = tx.g.cfg.userPages;
  if (up === 0) return obs.skip("the model has no user pages");
  page %= up;
  cpu %= tx.g.cfg.cpus;
  const vp = USER_VPAGE_BASE + page;
  const root = tx.c[HDR][H_USER_PML4];
  mmuWalk(tx.c[PTMEM], root, vp, walk);
  if (walk.frame < 0) return obs.skip("user page not mapped");
  const frame = walk.frame;
  // The leaf table is the last table on the walk: find it again.
  let table = root;
  for (let level = 4; level > 1; level--) {
    const p = ptFind(tx.c[PTMEM], table, x86Index(vp, level));
    table = x86Pfn(tx.c[PTMEM][2 + p * PT_W] >>> 0, tx.c[PTMEM][3 + p * PT_W] >>> 0);
  }
  ptWrite(tx, table, x86Index(vp, 1), 0, 0);
  obs.counters[C.mmuPteWrites]++;
  for (let c = 0; c < tx.g.cfg.cpus; c++) {
    if (tx.c[MMU][tlbOffset(tx, c, page)] !== 0) tx.w(MMU)[tlbOffset(tx, c, page)] = 0;
    if (c !== cpu && tx.c[MMU][cpumaskOffset(tx, c)] !== 0) obs.counters[C.tlbShootdowns]++;
  }
  // Only the process's own page is freed; memory the kernel shares with it (MAIO's pool) is only unmapped.
  const i = findObjectAt(tx.c[OBJECTS], frame, 0);
  if (i >= 0 && objKind(tx.c[OBJECTS], i) === KIND_USER) freeObject(tx, i, obs);
  if (obs.detail) obs.note(`user page ${page} unmapped (frame ${frame} freed)`);
}

/**
 * The kernel loads from physical frame `pfn` through the direct map: a walk
 * of the kernel tables (walkRefs); the frame reached goes to
 * obs.kernelFrame, or -1 when the direct map does not map it (a page fault).
 */
export function directMapRead(tx: Tx, pfn: number, obs: Observation): void {
  const w = mmuWalk(tx.c[PTMEM], tx.c[HDR][H_KERNEL_PML4], PAGE_OFFSET_VPAGE + pfn, walk);
  obs.counters[C.walkRefs] += w.refs;
  obs.kernelFrame = w.frame;
  if (obs.detail) obs.note(w.frame >= 0 ? `the kernel read frame ${w.frame} through the direct map` : `the direct map does not map frame ${pfn}: page fault`);
}

/** Frame the kernel reaches through the direct map for physical frame `pfn`, by walking the kernel tables. */
export function directMapFrame(tx: Tx, pfn: number): number {
  return mmuWalk(tx.c[PTMEM], tx.c[HDR][H_KERNEL_PML4], PAGE_OFFSET_VPAGE + pfn, walk).frame;
}

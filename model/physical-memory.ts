/**
 * Physical memory: 4 KiB frames, each with a role, and the buddy allocator
 * that hands them out.
 *
 * Frame record (4 words):
 *   w0: role (bits 0..3) | order (4..7) | flags (8..15) | aux (16..31)
 *   w1: bits 16..31: for a free block, the next free block + 1 (the buddy free
 *       lists are linked through the frames, as Linux links free pages through
 *       page->lru); for a detached lazy table frame, its flush-queue stamp.
 *       Bits 0..15: the frame's pin count (pinning.ts; 0 for a free frame).
 *       Allocation generations live with the objects, see objects.ts.
 *   w2: role data: for a page-table frame, the table it holds (level | prefix << 4)
 *   w3: contents: whose data the frame's bytes hold where nothing live covers
 *       them (free frames, free slab slots, pool and bounce space): 0 = zeroes,
 *       owner + 1 (objects.ts owner codes), CONTENTS_MIXED. Ghost state for
 *       leftover-data; the page allocator does not change it unless it zeroes.
 * After the frame records: one free-list head (+1, 0 = empty) per order.
 *
 * The buddy allocator follows Linux mm/page_alloc.c: __rmqueue_smallest takes
 * the first block of the smallest order that fits and splits it, putting the
 * upper halves on the lower-order lists (expand()); freeing merges with the
 * buddy (pfn ^ (1 << order)) while it is free and of the same order, and puts
 * the block at the head of its list, so a just-freed page is the next one
 * handed out (what makes reuse inside the lazy window real).
 */
import { FRAMES, FRAME_W } from "./geometry.ts";
import { type Tx, type Words } from "./state.ts";
import { type Observation, SHORT_FRAMES } from "./observation.ts";

export const ROLE_FREE = 0, ROLE_KERNEL = 1, ROLE_SLAB = 2, ROLE_USER = 3, ROLE_IOMMU_PT = 4, ROLE_MMU_PT = 5,
  ROLE_IO_BUFFER = 6, ROLE_BOUNCE = 7, ROLE_SHADOW = 8, ROLE_IO_POOL = 9, ROLE_GUEST = 10;
/** A frame its owner freed while it was pinned: owned by nobody, held by its pins until the last unpin (pinning.ts). */
export const ROLE_PINNED = 11;
/** A table of a morsel (model/morsel.ts): walked by the MMU and the IOMMU alike; w2 = its table key (level | prefix << 4). */
export const ROLE_MORSEL_PT = 12;
/** A table of a morsel's secondary view (model/morsel-view.ts): aux = primary table frame | format << 13; w2 = its table key. */
export const ROLE_MORSEL_VIEW = 13;
/**
 * Memory outside the virtual machine whose device is assigned (model/vm-memory.ts):
 * the host's, or another guest's. aux = HOST_* marker. Only the guest policies
 * create such frames; properties/vm-confinement.ts forbids a device to reach them.
 */
export const ROLE_HOST = 14;
export const ROLE_NAMES = [
  "free", "kernel", "slab", "user", "iommu-page-table", "mmu-page-table", "io-buffer", "bounce", "shadow", "io-pool", "guest", "pinned",
  "morsel-page-table", "morsel-view-table", "host",
];

/** First frame of an allocated or free block. */
export const F_HEAD = 1 << 8;
/** IOMMU page-table frame unlinked from its tree, waiting to be freed. */
export const F_DETACHED = 1 << 9;
/** Detached frame released by a completed flush (lazy), about to be freed. */
export const F_RELEASED = 1 << 10;
/**
 * A bounce (swiotlb) frame whose bytes outside the buffer copy now in it may
 * hold leftover data of an earlier mapping: set when a slot is released,
 * cleared when its padding is zeroed (Linux iommu_dma_map_swiotlb). Ghost
 * state for byte-confinement: leftover bytes are not granted to anyone.
 */
export const F_STALE = 1 << 11;
/**
 * An I/O pool frame the kernel has granted to the user process: mapped into
 * its address space as shared I/O memory (MAIO, model/policies/maio.ts).
 * Ghost state for user-confinement (properties/user-confinement.ts): the
 * grant lives in the frame's own record, as MAIO keeps its metadata in the
 * page, and ends with the frame's role when the page allocator gets it back.
 */
export const F_USER_SHARED = 1 << 12;
/**
 * With several user processes (ModelConfig.processes), the process an
 * F_USER_SHARED frame is granted to, in flag bits 13..14 (0 with one process).
 */
export const F_USER_PROC_SHIFT = 13;
export const F_USER_PROC_MASK = 3 << F_USER_PROC_SHIFT;
/**
 * The process whose anonymous page (role user) frame `f` is: its aux is the
 * owner code (objects.ts OWNER_USER = 1) plus the process (model/mmu.ts), so
 * process 0's pages keep aux 1 as with one process.
 */
export function userPageProcess(fr: Words, f: number): number {
  return frameAux(fr, f) - 1;
}
/** The process F_USER_SHARED frame `f` is granted to (0 with one process). */
export function userSharedProcess(fr: Words, f: number): number {
  return (fr[f * FRAME_W] & F_USER_PROC_MASK) >>> F_USER_PROC_SHIFT;
}

/** w3: the frame holds zeroes where nothing live covers it. */
export const CONTENTS_ZERO = 0;
/** w3: leftovers of several owners (a slab whose freed slots held different owners' objects). */
export const CONTENTS_MIXED = 0xffff;
/** w3 code for data of objects.ts owner `owner` (kernel 0, user 1, driver of dev d: 2 + d). */
export function contentsOf(owner: number): number {
  return owner + 1;
}
export function frameContents(fr: Words, f: number): number {
  return fr[f * FRAME_W + 3];
}
export function setFrameContents(fr: Words, f: number, v: number): void {
  fr[f * FRAME_W + 3] = v;
}
/** Adds `owner`'s data to what frame `f` holds: the same owner or zeroes give its code, another owner MIXED. */
export function mergeFrameContents(fr: Words, f: number, owner: number): void {
  const w = fr[f * FRAME_W + 3];
  const c = contentsOf(owner);
  fr[f * FRAME_W + 3] = w === CONTENTS_ZERO || w === c ? c : CONTENTS_MIXED;
}
/**
 * w3 code of user process `proc`'s data: process 0's is "user data"
 * (contentsOf(OWNER_USER) = 2, as with one process); process p >= 1 has
 * PROCESS_CONTENTS + p, above every owner code.
 */
export const PROCESS_CONTENTS = 0x1000;
export function processContents(proc: number): number {
  return proc === 0 ? 2 : PROCESS_CONTENTS + proc;
}
/** The process whose data w3 code `c` is, or -1 (zeroes, the kernel, a driver, mixed). */
export function contentsProcess(c: number): number {
  if (c === 2) return 0;
  return c > PROCESS_CONTENTS && c < PROCESS_CONTENTS + 16 ? c - PROCESS_CONTENTS : -1;
}
/** Describes a w3 code. */
export function contentsName(c: number): string {
  if (c === CONTENTS_ZERO) return "zeroes";
  if (c === CONTENTS_MIXED) return "leftovers of several owners";
  if (c > PROCESS_CONTENTS && c < PROCESS_CONTENTS + 16) return `data of user process ${c - PROCESS_CONTENTS}`;
  const owner = c - 1;
  return owner === 0 ? "the kernel's data" : owner === 1 ? "user data" : `data of the driver of dev${owner - 2}`;
}

/**
 * Roles whose frames the kernel zeroes when it allocates them: page tables
 * (Linux get_zeroed_page / __GFP_ZERO in the IOMMU and MMU table allocators)
 * and anonymous user pages (clear_user_highpage on the fault path). Every
 * other allocation comes back dirty, with whatever its previous owner left.
 */
function zeroedOnAlloc(role: number): boolean {
  return role === ROLE_IOMMU_PT || role === ROLE_MMU_PT || role === ROLE_MORSEL_PT || role === ROLE_MORSEL_VIEW || role === ROLE_USER;
}

/** Whose data a frame of `role` holds while it is live, or -1 when its objects (or pool) say. */
export function roleContents(role: number): number {
  if (role === ROLE_IOMMU_PT || role === ROLE_MMU_PT || role === ROLE_MORSEL_PT || role === ROLE_MORSEL_VIEW) return contentsOf(0);
  if (role === ROLE_USER || role === ROLE_GUEST) return contentsOf(1);
  if (role === ROLE_HOST) return contentsOf(0);
  return -1;
}

/**
 * Whose data live frame `f` holds by its role (roleContents): an anonymous
 * user page holds the data of the process it was faulted in for (its aux,
 * userPageProcess); -1 when its objects (or pool) say.
 */
export function liveFrameContents(fr: Words, f: number): number {
  const role = frameRole(fr, f);
  return role === ROLE_USER ? processContents(userPageProcess(fr, f)) : roleContents(role);
}

/** The frames [f, f + n) now hold zeroes (a zeroing allocation, or a policy clearing them). */
export function zeroFrames(tx: Tx, f: number, n: number): void {
  const fr = tx.w(FRAMES);
  for (let i = 0; i < n; i++) fr[(f + i) * FRAME_W + 3] = CONTENTS_ZERO;
}

export function frameRole(fr: Words, f: number): number {
  return fr[f * FRAME_W] & 0xf;
}
export function frameOrder(fr: Words, f: number): number {
  return (fr[f * FRAME_W] >>> 4) & 0xf;
}
export function frameFlags(fr: Words, f: number): number {
  return fr[f * FRAME_W] & 0xff00;
}
export function frameAux(fr: Words, f: number): number {
  return fr[f * FRAME_W] >>> 16;
}
export function frameData(fr: Words, f: number): number {
  return fr[f * FRAME_W + 2];
}

export function setFrame(fr: Words, f: number, role: number, order: number, flags: number, aux: number): void {
  fr[f * FRAME_W] = role | (order << 4) | flags | (aux << 16);
}
export function setFrameData(fr: Words, f: number, v: number): void {
  fr[f * FRAME_W + 2] = v;
}
function nextFree(fr: Words, f: number): number {
  return (fr[f * FRAME_W + 1] >>> 16) - 1;
}
function setNextFree(fr: Words, f: number, next: number): void {
  fr[f * FRAME_W + 1] = (fr[f * FRAME_W + 1] & 0xffff) | ((next + 1) << 16);
}

function headOff(tx: Tx, order: number): number {
  return tx.g.cfg.frames * FRAME_W + order;
}

function pushFree(tx: Tx, fr: Words, f: number, order: number): void {
  const h = headOff(tx, order);
  setFrame(fr, f, ROLE_FREE, order, F_HEAD, 0);
  setFrameData(fr, f, 0);
  setNextFree(fr, f, fr[h] - 1);
  fr[h] = f + 1;
}

function unlinkFree(tx: Tx, fr: Words, f: number, order: number): void {
  const h = headOff(tx, order);
  let prev = -1;
  let cur = fr[h] - 1;
  while (cur >= 0 && cur !== f) {
    prev = cur;
    cur = nextFree(fr, cur);
  }
  if (cur < 0) return;
  const nx = nextFree(fr, cur);
  if (prev < 0) fr[h] = nx + 1;
  else setNextFree(fr, prev, nx);
  setNextFree(fr, cur, -1);
}

/**
 * Puts every frame on the free lists in maximal aligned blocks, lowest address
 * first. Memory free at boot is not clean: firmware, the boot loader and the
 * early kernel used it and nobody cleared it (Linux zeroes pages on
 * allocation or free only with init_on_alloc / init_on_free), so every frame
 * starts holding the kernel's data.
 */
export function initBuddy(tx: Tx): void {
  const fr = tx.w(FRAMES);
  const n = tx.g.cfg.frames;
  for (let f = 0; f < n; f++) fr[f * FRAME_W + 3] = contentsOf(0);
  const maxOrder = tx.g.cfg.maxOrder;
  const blocks: [number, number][] = [];
  let f = 0;
  while (f < n) {
    let o = maxOrder;
    while (o > 0 && (f % (1 << o) !== 0 || f + (1 << o) > n)) o--;
    blocks.push([f, o]);
    f += 1 << o;
  }
  for (let i = blocks.length - 1; i >= 0; i--) pushFree(tx, fr, blocks[i][0], blocks[i][1]);
}

/**
 * Allocates 2^order contiguous frames and gives them `role`/`aux`; returns the
 * first frame or -1 when no block is large enough.
 */
export function allocFrames(tx: Tx, order: number, role: number, aux: number, obs: Observation): number {
  if (order > tx.g.cfg.maxOrder) return outOfFrames(obs);
  const fr0 = tx.c[FRAMES];
  const base = tx.g.cfg.frames * FRAME_W;
  let o = order;
  while (o <= tx.g.cfg.maxOrder && fr0[base + o] === 0) o++;
  if (o > tx.g.cfg.maxOrder) return outOfFrames(obs);
  const fr = tx.w(FRAMES);
  const f = fr[base + o] - 1;
  unlinkFree(tx, fr, f, o);
  while (o > order) {
    o--;
    pushFree(tx, fr, f + (1 << o), o);
  }
  const zero = zeroedOnAlloc(role);
  for (let i = 0; i < 1 << order; i++) {
    setFrame(fr, f + i, role, order, i === 0 ? F_HEAD : 0, aux);
    setFrameData(fr, f + i, 0);
    if (zero) fr[(f + i) * FRAME_W + 3] = CONTENTS_ZERO;
  }
  if (obs.detail) obs.note(`page allocator: frame${order ? "s" : ""} ${frameRange(f, order)} -> ${ROLE_NAMES[role]}`);
  return f;
}

/** No block of the order asked for: records the shortage for coverage (checker/coverage.ts). */
function outOfFrames(obs: Observation): number {
  obs.short |= SHORT_FRAMES;
  return -1;
}

/** Pin count of frame `f` (w1 bits 0..15; see pinning.ts). */
function pins(fr: Words, f: number): number {
  return fr[f * FRAME_W + 1] & 0xffff;
}

/**
 * Returns the block of 2^order frames at `f` to the free lists, merging
 * buddies. A block with a pinned frame is not freed: it becomes ROLE_PINNED
 * (owned by nobody) and goes back to the allocator at its last unpin, as a
 * page with a FOLL_PIN reference survives its owner's put_page (Linux
 * Documentation/core-api/pin_user_pages.rst).
 */
export function freeFrames(tx: Tx, f: number, order: number, obs: Observation): void {
  const fr = tx.w(FRAMES);
  // What the frames held stays in them: the page allocator does not clear freed pages.
  for (let i = 0; i < 1 << order; i++) {
    const w = fr[(f + i) * FRAME_W];
    const rc = liveFrameContents(fr, f + i);
    if (rc >= 0) fr[(f + i) * FRAME_W + 3] = rc;
    else if ((w & 0xf) === ROLE_SHADOW) mergeFrameContents(fr, f + i, 2 + (w >>> 16)); // the device's copies
  }
  let pinned = false;
  for (let i = 0; i < 1 << order; i++) if (pins(fr, f + i) !== 0) pinned = true;
  if (pinned) {
    for (let i = 0; i < 1 << order; i++) {
      setFrame(fr, f + i, ROLE_PINNED, order, i === 0 ? F_HEAD : 0, 0);
      setFrameData(fr, f + i, 0);
    }
    if (obs.detail) {
      obs.note(`page allocator: frame${order ? "s" : ""} ${frameRange(f, order)} freed by their owner but pinned: kept until the last unpin`);
      for (let i = 0; i < 1 << order; i++) obs.frameNote(f + i, "been freed by its owner but kept, pinned");
    }
    return;
  }
  if (obs.detail) {
    obs.note(`page allocator: frame${order ? "s" : ""} ${frameRange(f, order)} freed (${ROLE_NAMES[frameRole(fr, f)]})`);
    for (let i = 0; i < 1 << order; i++) obs.frameNote(f + i, "been free");
  }
  for (let i = 0; i < 1 << order; i++) {
    setFrame(fr, f + i, ROLE_FREE, 0, 0, 0);
    setFrameData(fr, f + i, 0);
    fr[(f + i) * FRAME_W + 1] = 0; // drop any flush-queue stamp
  }
  const n = tx.g.cfg.frames;
  let o = order;
  while (o < tx.g.cfg.maxOrder) {
    const buddy = f ^ (1 << o);
    if (buddy + (1 << o) > n) break;
    const w = fr[buddy * FRAME_W];
    if ((w & 0xf) !== ROLE_FREE || (w & F_HEAD) === 0 || ((w >>> 4) & 0xf) !== o) break;
    unlinkFree(tx, fr, buddy, o);
    setFrame(fr, buddy, ROLE_FREE, 0, 0, 0);
    f = Math.min(f, buddy);
    o++;
  }
  pushFree(tx, fr, f, o);
}

export function frameRange(f: number, order: number): string {
  return order === 0 ? `${f}` : `${f}..${f + (1 << order) - 1}`;
}

/** Free frames, for tests and reports. */
export function countFreeFrames(g: { cfg: { frames: number } }, fr: Words): number {
  let n = 0;
  for (let f = 0; f < g.cfg.frames; f++) if (frameRole(fr, f) === ROLE_FREE) n++;
  return n;
}


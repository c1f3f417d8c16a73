/**
 * Allocated objects: byte ranges with an owner, the unit that grants and
 * sub-page exposure are about. Slab objects share frames (that is what makes
 * sub-page exposure real); page blocks are objects that fill their frames.
 *
 * Object record (4 words), kept sorted by (frame, offset) so the table is canonical:
 *   w0: first frame + 1 (0 = unused slot; used slots are packed at the front)
 *   w1: offset in the frame
 *   w2: size in bytes
 *   w3: kind (bits 0..3) | owner (4..11) | generation (16..31, see nextGen)
 * objects[0] holds the number of live objects.
 *
 * The slab allocator is SLUB-like: kmalloc rounds a size up to its cache
 * (KMALLOC_CLASSES) and places the object at the lowest free slot of the
 * lowest-addressed slab of that cache, taking a fresh frame from the buddy
 * allocator when all are full, and giving the frame back when its last object
 * is freed. Simplifications, documented in docs/state.md: one frame per slab
 * (two for kmalloc-8192), lowest-slot placement instead of SLUB's LIFO
 * freelists, no per-CPU slabs. Sizes above KMALLOC_MAX_CACHE_SIZE go to the
 * page allocator (Linux kmalloc_large).
 */
import { KMALLOC_CLASSES, KMALLOC_MAX_CACHE_SIZE, PAGE_SIZE } from "./config.ts";
import { FRAMES, FRAME_W, MAPS, OBJECTS, OBJ_W } from "./geometry.ts";
import { mSegFrame, mSegGen, mSegOffset, mSegs } from "./dma-mapping.ts";
import { type Observation, SHORT_OBJECTS } from "./observation.ts";
import {
  allocFrames, contentsOf, frameAux, frameRole, freeFrames, mergeFrameContents, ROLE_NAMES, ROLE_SLAB,
} from "./physical-memory.ts";
import { type Tx, type Words, moveWords, zeroWords } from "./state.ts";

export const KIND_KMALLOC = 1, KIND_PAGES = 2, KIND_USER = 3, KIND_POOL = 4;
export const OWNER_KERNEL = 0, OWNER_USER = 1;
/** Owner code of the driver of device `dev`. */
export function ownerDriver(dev: number): number {
  return 2 + dev;
}
export function ownerName(owner: number): string {
  return owner === OWNER_KERNEL ? "kernel" : owner === OWNER_USER ? "user" : `driver of dev${owner - 2}`;
}

export function objCount(ob: Words): number {
  return ob[0];
}
export function objFrame(ob: Words, i: number): number {
  return ob[1 + i * OBJ_W] - 1;
}
export function objOffset(ob: Words, i: number): number {
  return ob[2 + i * OBJ_W];
}
export function objSize(ob: Words, i: number): number {
  return ob[3 + i * OBJ_W];
}
export function objKind(ob: Words, i: number): number {
  return ob[4 + i * OBJ_W] & 0xf;
}
export function objOwner(ob: Words, i: number): number {
  return (ob[4 + i * OBJ_W] >>> 4) & 0xff;
}
export function objGen(ob: Words, i: number): number {
  return ob[4 + i * OBJ_W] >>> 16;
}

/** Index of the object starting at (frame, offset) with generation `gen`, or -1. */
export function findObject(ob: Words, frame: number, offset: number, gen: number): number {
  const n = ob[0];
  for (let i = 0; i < n; i++) {
    const b = 1 + i * OBJ_W;
    if (ob[b] - 1 === frame && ob[b + 1] === offset && ob[b + 3] >>> 16 === gen) return i;
  }
  return -1;
}

/**
 * Index of the object with generation `gen` that holds the whole byte range
 * [frame * 4096 + offset, + len) (a DMA segment: the object itself or a range
 * inside it), or -1.
 */
export function findSegmentObject(ob: Words, frame: number, offset: number, len: number, gen: number): number {
  const start = frame * PAGE_SIZE + offset;
  const n = ob[0];
  for (let i = 0; i < n; i++) {
    const b = 1 + i * OBJ_W;
    if (ob[b + 3] >>> 16 !== gen) continue;
    const a = (ob[b] - 1) * PAGE_SIZE + ob[b + 1];
    if (a <= start && start + len <= a + ob[b + 2]) return i;
  }
  return -1;
}

/** Index of the object starting at (frame, offset), whatever its generation, or -1. */
export function findObjectAt(ob: Words, frame: number, offset: number): number {
  for (let i = 0; i < ob[0]; i++) if (ob[1 + i * OBJ_W] - 1 === frame && ob[2 + i * OBJ_W] === offset) return i;
  return -1;
}

/** A short description such as "kmalloc-64 object of the kernel". */
export function describeObject(ob: Words, i: number): string {
  const kind = objKind(ob, i);
  const size = objSize(ob, i);
  const what = kind === KIND_KMALLOC ? `kmalloc-${slabClassFor(size)} object`
    : kind === KIND_USER ? "user page"
    : kind === KIND_POOL ? `${size}-byte I/O pool buffer`
    : `${size / PAGE_SIZE}-page block`;
  return `${what} of the ${ownerName(objOwner(ob, i))}`;
}

export function slabClassFor(size: number): number {
  for (const c of KMALLOC_CLASSES) if (size <= c) return c;
  return size;
}
function classIndex(size: number): number {
  for (let i = 0; i < KMALLOC_CLASSES.length; i++) if (size <= KMALLOC_CLASSES[i]) return i;
  return -1;
}
/** Frames per slab of a cache: 1, or 2 for kmalloc-8192. */
function slabOrder(cls: number): number {
  return cls > PAGE_SIZE ? 1 : 0;
}
export function pagesOrder(bytes: number): number {
  let o = 0;
  while (PAGE_SIZE << o < bytes) o++;
  return o;
}

function insertObject(tx: Tx, frame: number, offset: number, size: number, kind: number, owner: number, gen: number): number {
  const ob0 = tx.c[OBJECTS];
  const n = ob0[0];
  if (n >= tx.g.cfg.maxObjects) return -1;
  const ob = tx.w(OBJECTS);
  let i = n;
  while (i > 0) {
    const b = 1 + (i - 1) * OBJ_W;
    const f = ob[b] - 1;
    if (f < frame || (f === frame && ob[b + 1] < offset)) break;
    moveWords(ob, 1 + i * OBJ_W, b, OBJ_W);
    i--;
  }
  const b = 1 + i * OBJ_W;
  ob[b] = frame + 1;
  ob[b + 1] = offset;
  ob[b + 2] = size;
  ob[b + 3] = kind | (owner << 4) | (gen << 16);
  ob[0] = n + 1;
  return i;
}

function removeObjectAt(tx: Tx, i: number): void {
  const ob = tx.w(OBJECTS);
  const n = ob[0];
  moveWords(ob, 1 + i * OBJ_W, 1 + (i + 1) * OBJ_W, (n - 1 - i) * OBJ_W);
  zeroWords(ob, 1 + (n - 1) * OBJ_W, 1 + n * OBJ_W);
  ob[0] = n - 1;
}

/**
 * Generation for a new allocation at (frame `f`, offset `off`): one more than
 * the largest generation a DMA mapping segment starting inside it still names (a
 * segment can outlive its object under a broken policy; a live object never
 * shares its place with another). A grant names (frame, offset, generation),
 * so it never matches whatever reuses its memory, while the generation is a
 * function of the present state, not of history: two states that differ
 * only in how often a place was reused are the same state, which lets the
 * exhaustive engine exhaust a finite scope.
 */
function nextGen(tx: Tx, f: number, off: number, size: number): number {
  let max = 0;
  const mp = tx.c[MAPS];
  const a = f * PAGE_SIZE + off;
  for (let m = 0; m < tx.g.cfg.maxMappings; m++) {
    const n = mSegs(mp, m);
    for (let s = 0; s < n; s++) {
      // A segment may name a range inside its object: any segment starting inside the new object could match it.
      const start = mSegFrame(mp, m, s) * PAGE_SIZE + mSegOffset(mp, m, s);
      if (start >= a && start < a + size) max = Math.max(max, mSegGen(mp, m, s));
    }
  }
  return (max + 1) & 0xffff;
}

/**
 * Allocates `size` bytes for `owner`. Returns the object index or -1 (out of
 * memory, or the object table is full). Pages come back with role `pageRole`.
 */
export function kmalloc(tx: Tx, size: number, owner: number, pageRole: number, obs: Observation): number {
  if (size <= 0) return -1;
  if (tx.c[OBJECTS][0] >= tx.g.cfg.maxObjects) return tableFull(obs);
  if (size > KMALLOC_MAX_CACHE_SIZE) return allocPagesObject(tx, pagesOrder(size), owner, pageRole, KIND_PAGES, obs);
  const ci = classIndex(size);
  const cls = KMALLOC_CLASSES[ci];
  const frames = tx.g.cfg.frames;
  const fr = tx.c[FRAMES];
  // Lowest-addressed slab of this cache with a free slot.
  for (let f = 0; f < frames; f++) {
    if (frameRole(fr, f) !== ROLE_SLAB || frameAux(fr, f) !== ci || (fr[f * FRAME_W] & (1 << 8)) === 0) continue;
    const slot = freeSlot(tx.c[OBJECTS], f, cls);
    if (slot < 0) continue;
    const i = insertObject(tx, f, slot, cls, KIND_KMALLOC, owner, nextGen(tx, f, slot, cls));
    if (obs.detail) obs.frameNote(f, `held a kmalloc-${cls} object of the ${ownerName(owner)} at +0x${slot.toString(16)}`);
    return i;
  }
  const order = slabOrder(cls);
  const f = allocFrames(tx, order, ROLE_SLAB, ci, obs);
  if (f < 0) return -1;
  if (obs.detail) {
    for (let i = 0; i < 1 << order; i++) obs.frameNote(f + i, `held ${i === 0 ? "" : "page 2 of "}a kmalloc-${cls} object of the ${ownerName(owner)} at +0x0`);
  }
  return insertObject(tx, f, 0, cls, KIND_KMALLOC, owner, nextGen(tx, f, 0, cls));
}

/** The object table is full: records the shortage for coverage (checker/coverage.ts). */
function tableFull(obs: Observation): number {
  obs.short |= SHORT_OBJECTS;
  return -1;
}

/** Lowest free object slot (byte offset) of size `cls` in slab frame `f`, or -1. */
function freeSlot(ob: Words, f: number, cls: number): number {
  const slots = Math.floor(Math.max(PAGE_SIZE, cls) / cls);
  const n = ob[0];
  let want = 0;
  // Objects are sorted by offset within the frame: scan for the first gap.
  for (let i = 0; i < n && want < slots; i++) {
    const b = 1 + i * OBJ_W;
    if (ob[b] - 1 !== f) continue;
    if (ob[b + 1] !== want * cls) return want * cls;
    want++;
  }
  return want < slots ? want * cls : -1;
}

/** Allocates a 2^order page block as one object. */
export function allocPagesObject(tx: Tx, order: number, owner: number, role: number, kind: number, obs: Observation): number {
  if (tx.c[OBJECTS][0] >= tx.g.cfg.maxObjects) return tableFull(obs);
  const f = allocFrames(tx, order, role, owner, obs);
  if (f < 0) return -1;
  const gen = nextGen(tx, f, 0, PAGE_SIZE << order);
  if (obs.detail) {
    const what = kind === KIND_USER ? "held a user page" : `held a ${1 << order}-page ${ROLE_NAMES[role]} block of the ${ownerName(owner)}`;
    for (let i = 0; i < 1 << order; i++) obs.frameNote(f + i, what);
  }
  return insertObject(tx, f, 0, PAGE_SIZE << order, kind, owner, gen);
}

/**
 * Records a buffer a segregated pool handed out (model/allocators/
 * segregated-pool.ts): the pool owns the frames, the object only names the
 * allocation. Returns the object index or -1 when the table is full.
 */
export function allocPoolObject(tx: Tx, frame: number, offset: number, size: number, owner: number, obs: Observation): number {
  if (tx.c[OBJECTS][0] >= tx.g.cfg.maxObjects) return tableFull(obs);
  if (obs.detail) obs.frameNote(frame, `held a ${size}-byte I/O pool buffer of the ${ownerName(owner)} at +0x${offset.toString(16)}`);
  return insertObject(tx, frame, offset, size, KIND_POOL, owner, nextGen(tx, frame, offset, size));
}

/**
 * Frees object `i` (kfree or free_pages); a slab frame with no objects left
 * goes back to the buddy allocator. A pool buffer's record only is removed:
 * its frames belong to the pool, which the caller tells (a put).
 */
export function freeObject(tx: Tx, i: number, obs: Observation): void {
  const ob = tx.c[OBJECTS];
  const f = objFrame(ob, i);
  const kind = objKind(ob, i);
  const size = objSize(ob, i);
  const off = objOffset(ob, i);
  const owner = objOwner(ob, i);
  removeObjectAt(tx, i);
  // The freed bytes keep their owner's data (kfree and free_pages do not clear): leftover for the frame's next user.
  const fr = tx.w(FRAMES);
  const last = f + Math.floor((off + size - 1) / PAGE_SIZE);
  if (kind === KIND_KMALLOC || kind === KIND_POOL) for (let g = f; g <= last; g++) mergeFrameContents(fr, g, owner);
  else for (let g = f; g <= last; g++) fr[g * FRAME_W + 3] = contentsOf(owner); // the block was all its owner's
  if (kind === KIND_POOL) return;
  if (kind !== KIND_KMALLOC) {
    freeFrames(tx, f, pagesOrder(size), obs);
    return;
  }
  if (obs.detail) obs.frameNote(f, `had a freed kmalloc-${size} slot at +0x${off.toString(16)}`);
  const ob2 = tx.c[OBJECTS];
  const n = ob2[0];
  for (let j = 0; j < n; j++) if (objFrame(ob2, j) === f) return;
  freeFrames(tx, f, slabOrder(size), obs);
}

/** Index of the k-th (mod count) live object owned by `owner`, or -1. */
export function nthObjectOf(ob: Words, owner: number, k: number): number {
  const n = ob[0];
  let count = 0;
  for (let i = 0; i < n; i++) if (objOwner(ob, i) === owner) count++;
  if (count === 0) return -1;
  let want = k % count;
  for (let i = 0; i < n; i++) {
    if (objOwner(ob, i) !== owner) continue;
    if (want === 0) return i;
    want--;
  }
  return -1;
}

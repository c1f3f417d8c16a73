// Tests for the slab allocator and object table in model/objects.ts.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { KMALLOC_CLASSES, PAGE_SIZE } from "../../model/config.ts";
import { FRAMES, OBJECTS } from "../../model/geometry.ts";
import {
  allocPagesObject, findObject, findObjectAt, freeObject, KIND_KMALLOC, KIND_PAGES, kmalloc, nthObjectOf, objCount, objFrame, objGen,
  objKind, objOffset, objOwner, objSize, OWNER_KERNEL, ownerDriver, pagesOrder, slabClassFor,
} from "../../model/objects.ts";
import {
  frameAux, frameFlags, frameOrder, frameRole, F_HEAD, ROLE_FREE, ROLE_IO_BUFFER, ROLE_KERNEL, ROLE_SLAB,
} from "../../model/physical-memory.ts";
import { addSegment, initMapping, MK_SINGLE } from "../../model/dma-mapping.ts";
import { config, freeBlockSet, freshTx } from "./helpers.ts";

const CFG = config({ frames: 32, maxOrder: 3, maxObjects: 48 });

describe("kmalloc", () => {
  it("co-locates two kmalloc(64) objects in one frame at offsets 0 and 64", () => {
    const { tx, obs } = freshTx(CFG);
    const a = kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    const ob1 = tx.c[OBJECTS];
    const fa = objFrame(ob1, a), oa = objOffset(ob1, a);
    const b = kmalloc(tx, 64, ownerDriver(0), ROLE_KERNEL, obs);
    const ob = tx.c[OBJECTS];
    expect(objCount(ob)).toBe(2);
    expect(objFrame(ob, b)).toBe(fa);
    expect([oa, objOffset(ob, b)]).toEqual([0, 64]);
    expect(objOwner(ob, b)).toBe(ownerDriver(0));
    expect(objKind(ob, b)).toBe(KIND_KMALLOC);
    const fr = tx.c[FRAMES];
    expect(frameRole(fr, fa)).toBe(ROLE_SLAB);
    expect(KMALLOC_CLASSES[frameAux(fr, fa)]).toBe(64);
  });

  it("rounds sizes up to the kmalloc cache", () => {
    expect(slabClassFor(1)).toBe(8);
    expect(slabClassFor(65)).toBe(96);
    expect(slabClassFor(100)).toBe(128);
    expect(slabClassFor(4097)).toBe(8192);
    const { tx, obs } = freshTx(CFG);
    const i100 = kmalloc(tx, 100, OWNER_KERNEL, ROLE_KERNEL, obs);
    expect(objSize(tx.c[OBJECTS], i100)).toBe(128);
    const f128 = objFrame(tx.c[OBJECTS], i100);
    expect(KMALLOC_CLASSES[frameAux(tx.c[FRAMES], f128)]).toBe(128);
    const i1 = kmalloc(tx, 1, OWNER_KERNEL, ROLE_KERNEL, obs);
    expect(objSize(tx.c[OBJECTS], i1)).toBe(8);
    // Different caches never share a slab.
    expect(objFrame(tx.c[OBJECTS], i1)).not.toBe(f128);
    // A second 128-byte-class request (e.g. 97 bytes) shares the kmalloc-128 slab.
    const i97 = kmalloc(tx, 97, OWNER_KERNEL, ROLE_KERNEL, obs);
    expect(objFrame(tx.c[OBJECTS], i97)).toBe(f128);
    expect(objOffset(tx.c[OBJECTS], i97)).toBe(128);
  });

  it("gives kmalloc-8192 a two-frame slab holding one object", () => {
    const { tx, obs } = freshTx(CFG);
    const i = kmalloc(tx, 5000, OWNER_KERNEL, ROLE_KERNEL, obs);
    const ob = tx.c[OBJECTS];
    const f = objFrame(ob, i);
    expect(objSize(ob, i)).toBe(8192);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_SLAB);
    expect(frameOrder(tx.c[FRAMES], f)).toBe(1);
    expect(frameRole(tx.c[FRAMES], f + 1)).toBe(ROLE_SLAB);
    const j = kmalloc(tx, 8192, OWNER_KERNEL, ROLE_KERNEL, obs);
    expect(objFrame(tx.c[OBJECTS], j)).toBe(f + 2); // full slab: a fresh one
    expect(objOffset(tx.c[OBJECTS], j)).toBe(0);
  });

  it("sends sizes above 8192 to the page allocator with the given page role", () => {
    const { tx, obs } = freshTx(CFG);
    const i = kmalloc(tx, 8193, ownerDriver(1), ROLE_IO_BUFFER, obs);
    const ob = tx.c[OBJECTS];
    const f = objFrame(ob, i);
    expect(objKind(ob, i)).toBe(KIND_PAGES);
    expect(objSize(ob, i)).toBe(4 * PAGE_SIZE); // 8193 bytes -> order 2
    expect(pagesOrder(8193)).toBe(2);
    expect(f % 4).toBe(0);
    for (let k = 0; k < 4; k++) expect(frameRole(tx.c[FRAMES], f + k)).toBe(ROLE_IO_BUFFER);
    freeObject(tx, i, obs);
    for (let k = 0; k < 4; k++) expect(frameRole(tx.c[FRAMES], f + k)).toBe(ROLE_FREE);
  });

  it("places a new object at the lowest free slot of the lowest-addressed slab", () => {
    const { tx, obs } = freshTx(CFG);
    for (let k = 0; k < 3; k++) kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    const f = objFrame(tx.c[OBJECTS], 0);
    freeObject(tx, findObjectAt(tx.c[OBJECTS], f, 64), obs);
    expect(objCount(tx.c[OBJECTS])).toBe(2);
    const i = kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    expect(objFrame(tx.c[OBJECTS], i)).toBe(f);
    expect(objOffset(tx.c[OBJECTS], i)).toBe(64);
  });

  it("opens a second slab when the first is full (42 kmalloc-96 objects per frame)", () => {
    const { tx, obs } = freshTx(config({ maxObjects: 64 }));
    const frames = new Set<number>();
    for (let k = 0; k < 42; k++) {
      const i = kmalloc(tx, 96, OWNER_KERNEL, ROLE_KERNEL, obs);
      frames.add(objFrame(tx.c[OBJECTS], i)); // read tx.c after the call: the component is copied on first write
    }
    expect(frames.size).toBe(1);
    const [f] = frames;
    const i = kmalloc(tx, 96, OWNER_KERNEL, ROLE_KERNEL, obs);
    expect(objFrame(tx.c[OBJECTS], i)).not.toBe(f);
    expect(objOffset(tx.c[OBJECTS], i)).toBe(0);
    expect(objOffset(tx.c[OBJECTS], i - 1)).toBe(41 * 96);
  });

  it("returns -1 for a non-positive size, a full object table, or exhausted memory", () => {
    const { tx, obs } = freshTx(config({ maxObjects: 4, frames: 8, maxOrder: 3 }));
    expect(kmalloc(tx, 0, OWNER_KERNEL, ROLE_KERNEL, obs)).toBe(-1);
    for (let k = 0; k < 4; k++) expect(kmalloc(tx, 8, OWNER_KERNEL, ROLE_KERNEL, obs)).toBeGreaterThanOrEqual(0);
    expect(kmalloc(tx, 8, OWNER_KERNEL, ROLE_KERNEL, obs)).toBe(-1);
    expect(allocPagesObject(tx, 0, OWNER_KERNEL, ROLE_KERNEL, KIND_PAGES, obs)).toBe(-1);
    const t2 = freshTx(config({ maxObjects: 8, frames: 8, maxOrder: 3 }));
    expect(kmalloc(t2.tx, 20000, OWNER_KERNEL, ROLE_KERNEL, t2.obs)).toBeGreaterThanOrEqual(0); // 8 frames (order 3)
    expect(kmalloc(t2.tx, 8, OWNER_KERNEL, ROLE_KERNEL, t2.obs)).toBe(-1);
  });
});

describe("kfree", () => {
  it("returns the slab frame to the buddy allocator when its last object is freed", () => {
    const { tx, obs } = freshTx(CFG);
    const initial = freeBlockSet(CFG, tx.c[FRAMES]);
    kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    const f = objFrame(tx.c[OBJECTS], 0);
    freeObject(tx, 0, obs);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_SLAB); // one object left
    freeObject(tx, 0, obs);
    expect(objCount(tx.c[OBJECTS])).toBe(0);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_FREE);
    expect(freeBlockSet(CFG, tx.c[FRAMES])).toEqual(initial);
  });

  it("gives a reused frame a generation no live reference has, so an old (frame, offset, gen) never names the new object", () => {
    const { tx, obs } = freshTx(CFG);
    const i = kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    const f = objFrame(tx.c[OBJECTS], i);
    const g1 = objGen(tx.c[OBJECTS], i);
    expect(findObject(tx.c[OBJECTS], f, 0, g1)).toBe(i);
    // A DMA mapping still names the object (as under a policy that frees too early).
    initMapping(tx, 0, MK_SINGLE, 0, 0);
    addSegment(tx, 0, f, 0, 64, g1);
    freeObject(tx, i, obs);
    const j = allocPagesObject(tx, 0, OWNER_KERNEL, ROLE_KERNEL, KIND_PAGES, obs);
    expect(objFrame(tx.c[OBJECTS], j)).toBe(f); // LIFO reuse of the slab frame
    expect(objGen(tx.c[OBJECTS], j)).toBe(g1 + 1);
    expect(findObject(tx.c[OBJECTS], f, 0, g1)).toBe(-1);
  });

  it("derives generations from the present state: with no reference left, a reused frame starts again at 1", () => {
    const { tx, obs } = freshTx(CFG);
    const i = kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    const f = objFrame(tx.c[OBJECTS], i);
    freeObject(tx, i, obs);
    const j = allocPagesObject(tx, 0, OWNER_KERNEL, ROLE_KERNEL, KIND_PAGES, obs);
    expect(objFrame(tx.c[OBJECTS], j)).toBe(f);
    expect(objGen(tx.c[OBJECTS], j)).toBe(1);
  });

  it("gives an object that reuses a slot a mapping still names a new generation; other slots need none", () => {
    const { tx, obs } = freshTx(CFG);
    kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    const f = objFrame(tx.c[OBJECTS], 0);
    const i = kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs); // slot 64
    const g = objGen(tx.c[OBJECTS], i);
    initMapping(tx, 0, MK_SINGLE, 0, 0);
    addSegment(tx, 0, f, 64, 64, g); // a mapping still names slot 64's object
    freeObject(tx, i, obs);
    const k = kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    expect(objOffset(tx.c[OBJECTS], k)).toBe(64);
    expect(objFrame(tx.c[OBJECTS], k)).toBe(f);
    expect(objGen(tx.c[OBJECTS], k)).toBe(g + 1);
    expect(findObject(tx.c[OBJECTS], f, 64, g)).toBe(-1); // the old grant names nothing
    const other = kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs); // slot 128: nothing names it
    expect(objGen(tx.c[OBJECTS], other)).toBe(1);
  });

  it("nthObjectOf picks the k-th object of an owner, modulo their count", () => {
    const { tx, obs } = freshTx(CFG);
    kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    kmalloc(tx, 64, ownerDriver(0), ROLE_KERNEL, obs);
    kmalloc(tx, 64, OWNER_KERNEL, ROLE_KERNEL, obs);
    const ob = tx.c[OBJECTS];
    expect(nthObjectOf(ob, OWNER_KERNEL, 0)).toBe(0);
    expect(nthObjectOf(ob, OWNER_KERNEL, 1)).toBe(2);
    expect(nthObjectOf(ob, OWNER_KERNEL, 3)).toBe(2);
    expect(nthObjectOf(ob, ownerDriver(1), 0)).toBe(-1);
  });
});

type Op = { t: "alloc"; size: number; pages: boolean; owner: number } | { t: "free"; k: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("alloc" as const),
      size: fc.oneof(fc.constantFrom(1, 8, 64, 96, 100, 1500, 2048, 4096, 8192, 8193, 20000), fc.integer({ min: 1, max: 9000 })),
      pages: fc.boolean(),
      owner: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("free" as const), k: fc.nat(60) }) },
);

/** Checks the object table against the frames; throws a description of the first problem. */
function checkObjects(tx: ReturnType<typeof freshTx>["tx"]): void {
  const ob = tx.c[OBJECTS];
  const fr = tx.c[FRAMES];
  const n = objCount(ob);
  let prevEnd = -1;
  let prevKey = -1;
  const slabUse = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const f = objFrame(ob, i), off = objOffset(ob, i), size = objSize(ob, i);
    const key = f * 2 * PAGE_SIZE + off;
    if (!(key > prevKey)) throw new Error(`object table not sorted at ${i}`);
    prevKey = key;
    const start = f * PAGE_SIZE + off;
    if (start < prevEnd) throw new Error(`object ${i} overlaps the previous one`);
    prevEnd = start + size;
    if (objKind(ob, i) === KIND_KMALLOC) {
      if (frameRole(fr, f) !== ROLE_SLAB || (frameFlags(fr, f) & F_HEAD) === 0) throw new Error(`kmalloc object ${i} not in a slab head frame`);
      if (KMALLOC_CLASSES[frameAux(fr, f)] !== size) throw new Error(`object ${i} of size ${size} in the wrong cache`);
      if (off % size !== 0 || off + size > PAGE_SIZE << frameOrder(fr, f)) throw new Error(`object ${i} misplaced`);
      slabUse.set(f, (slabUse.get(f) ?? 0) + 1);
    } else {
      const order = pagesOrder(size);
      if (off !== 0 || (frameFlags(fr, f) & F_HEAD) === 0 || frameOrder(fr, f) !== order) throw new Error(`page object ${i} does not match its block`);
    }
    if (objGen(ob, i) === 0) throw new Error(`object ${i} has no generation`);
  }
  for (let i = n; i < tx.g.cfg.maxObjects; i++) if (ob[1 + i * 4] !== 0) throw new Error(`unused slot ${i} not zero`);
  for (let f = 0; f < tx.g.cfg.frames; f++) {
    if (frameRole(fr, f) === ROLE_SLAB && (frameFlags(fr, f) & F_HEAD) !== 0 && !slabUse.has(f)) throw new Error(`empty slab ${f} kept`);
  }
}

describe("slab properties", () => {
  test.prop([fc.array(opArb, { maxLength: 60 })], { numRuns: 200 })(
    "random kmalloc/kfree keeps the table sorted, non-overlapping, with no empty slab, and frees everything back",
    (ops) => {
      const cfg = config({ frames: 48, maxOrder: 3, maxObjects: 24 });
      const { tx, obs } = freshTx(cfg);
      const initial = freeBlockSet(cfg, tx.c[FRAMES]);
      for (const op of ops) {
        if (op.t === "alloc") {
          const before = objCount(tx.c[OBJECTS]);
          const i = op.pages
            ? allocPagesObject(tx, pagesOrder(op.size) > 3 ? 3 : pagesOrder(op.size), op.owner, ROLE_IO_BUFFER, KIND_PAGES, obs)
            : kmalloc(tx, op.size, op.owner, ROLE_KERNEL, obs);
          if (i >= 0 && objCount(tx.c[OBJECTS]) !== before + 1) throw new Error("count did not grow");
          if (i < 0 && objCount(tx.c[OBJECTS]) !== before) throw new Error("failed allocation changed the count");
          if (i >= 0 && objOwner(tx.c[OBJECTS], i) !== op.owner) throw new Error("wrong owner");
        } else if (objCount(tx.c[OBJECTS]) > 0) {
          freeObject(tx, op.k % objCount(tx.c[OBJECTS]), obs);
        }
        checkObjects(tx);
      }
      while (objCount(tx.c[OBJECTS]) > 0) freeObject(tx, 0, obs);
      expect(freeBlockSet(cfg, tx.c[FRAMES])).toEqual(initial);
    },
  );
});

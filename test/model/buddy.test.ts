// Tests for the buddy allocator in model/physical-memory.ts.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { FRAMES } from "../../model/geometry.ts";
import {
  allocFrames, countFreeFrames, frameFlags, frameOrder, frameRole, freeFrames, F_HEAD, ROLE_FREE, ROLE_KERNEL,
  ROLE_SLAB, ROLE_USER,
} from "../../model/physical-memory.ts";
import { config, framesOnFreeLists, freeBlockSet, freeLists, freshTx, listedHeadsConsistent } from "./helpers.ts";

describe("initBuddy", () => {
  it("puts 32 frames in four order-3 blocks, lowest address at the head", () => {
    const cfg = config({ frames: 32, maxOrder: 3 });
    const { tx } = freshTx(cfg);
    const fr = tx.c[FRAMES];
    expect(freeLists(cfg, fr)).toEqual([[], [], [], [[0, 3], [8, 3], [16, 3], [24, 3]]]);
    expect(countFreeFrames(tx.g, fr)).toBe(32);
    for (let f = 0; f < 32; f++) {
      expect(frameRole(fr, f)).toBe(ROLE_FREE);
      expect((frameFlags(fr, f) & F_HEAD) !== 0).toBe(f % 8 === 0);
    }
  });

  it("uses maximal aligned blocks when the frame count is not a multiple of the largest block", () => {
    const cfg = config({ frames: 13, maxOrder: 3 });
    const { tx } = freshTx(cfg);
    expect(freeLists(cfg, tx.c[FRAMES])).toEqual([[[12, 0]], [], [[8, 2]], [[0, 3]]]);
    expect(listedHeadsConsistent(cfg, tx.c[FRAMES])).toBe(true);
  });

  it("with maxOrder 0 lists every frame, in address order", () => {
    const cfg = config({ frames: 9, maxOrder: 0 });
    const { tx } = freshTx(cfg);
    expect(freeLists(cfg, tx.c[FRAMES])[0].map(([f]) => f)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("allocFrames", () => {
  it("splits the smallest fitting block and returns its lower half, putting upper halves on the lower lists", () => {
    const cfg = config({ frames: 32, maxOrder: 3 });
    const { tx, obs } = freshTx(cfg);
    const f = allocFrames(tx, 0, ROLE_KERNEL, 0, obs);
    expect(f).toBe(0);
    expect(freeLists(cfg, tx.c[FRAMES])).toEqual([[[1, 0]], [[2, 1]], [[4, 2]], [[8, 3], [16, 3], [24, 3]]]);
    // The next order-1 request takes the existing order-1 block rather than splitting an order-3 one.
    expect(allocFrames(tx, 1, ROLE_KERNEL, 0, obs)).toBe(2);
    // And the next order-0 request the existing order-0 block.
    expect(allocFrames(tx, 0, ROLE_KERNEL, 0, obs)).toBe(1);
    // Now order 0 must split the order-2 block at 4.
    expect(allocFrames(tx, 0, ROLE_KERNEL, 0, obs)).toBe(4);
    expect(freeLists(cfg, tx.c[FRAMES]).slice(0, 3)).toEqual([[[5, 0]], [[6, 1]], []]);
  });

  it("marks the block: role, order, head flag on the first frame only", () => {
    const cfg = config({ frames: 32, maxOrder: 3 });
    const { tx, obs } = freshTx(cfg);
    const f = allocFrames(tx, 2, ROLE_USER, 5, obs);
    expect(f).toBe(0);
    const fr = tx.c[FRAMES];
    for (let i = 0; i < 4; i++) {
      expect(frameRole(fr, i)).toBe(ROLE_USER);
      expect(frameOrder(fr, i)).toBe(2);
      expect((frameFlags(fr, i) & F_HEAD) !== 0).toBe(i === 0);
    }
    expect(frameRole(fr, 4)).toBe(ROLE_FREE);
  });

  it("returns -1 above maxOrder and when no block is large enough, without writing the frames", () => {
    const cfg = config({ frames: 8, maxOrder: 3 });
    const { tx, obs } = freshTx(cfg);
    expect(allocFrames(tx, 4, ROLE_KERNEL, 0, obs)).toBe(-1);
    expect(allocFrames(tx, 0, ROLE_KERNEL, 0, obs)).toBe(0);
    expect(allocFrames(tx, 3, ROLE_KERNEL, 0, obs)).toBe(-1);
    const before = tx.c[FRAMES];
    for (let i = 1; i < 8; i++) expect(allocFrames(tx, 0, ROLE_KERNEL, 0, obs)).toBe(i);
    expect(tx.c[FRAMES]).toBe(before); // already owned by the tx, no further copies
    const snapshot = tx.c[FRAMES].slice();
    expect(allocFrames(tx, 0, ROLE_KERNEL, 0, obs)).toBe(-1);
    expect(tx.c[FRAMES]).toEqual(snapshot);
  });

  it("does not copy the frames component when an allocation fails in a fresh transaction", () => {
    const cfg = config({ frames: 8, maxOrder: 3 });
    const { tx, obs } = freshTx(cfg);
    for (let i = 0; i < 8; i++) allocFrames(tx, 0, ROLE_KERNEL, 0, obs);
    const s = tx.commit();
    tx.begin(s);
    expect(allocFrames(tx, 0, ROLE_KERNEL, 0, obs)).toBe(-1);
    expect(tx.wrote(FRAMES)).toBe(false);
  });
});

describe("freeFrames", () => {
  it("hands a just-freed order-0 page out next (LIFO), even when a lower free page exists", () => {
    const cfg = config({ frames: 32, maxOrder: 3 });
    const { tx, obs } = freshTx(cfg);
    for (let i = 0; i < 4; i++) expect(allocFrames(tx, 0, ROLE_KERNEL, 0, obs)).toBe(i);
    freeFrames(tx, 1, 0, obs);
    freeFrames(tx, 2, 0, obs); // buddy 3 is allocated: no merge
    expect(freeLists(cfg, tx.c[FRAMES])[0]).toEqual([[2, 0], [1, 0]]);
    expect(allocFrames(tx, 0, ROLE_SLAB, 0, obs)).toBe(2);
    expect(allocFrames(tx, 0, ROLE_SLAB, 0, obs)).toBe(1);
  });

  it("merges buddies back up to the largest order", () => {
    const cfg = config({ frames: 32, maxOrder: 3 });
    const { tx, obs } = freshTx(cfg);
    const initial = freeBlockSet(cfg, tx.c[FRAMES]);
    const a = allocFrames(tx, 0, ROLE_KERNEL, 0, obs); // 0
    const b = allocFrames(tx, 0, ROLE_KERNEL, 0, obs); // 1
    const c = allocFrames(tx, 1, ROLE_KERNEL, 0, obs); // 2..3
    expect([a, b, c]).toEqual([0, 1, 2]);
    freeFrames(tx, b, 0, obs);
    expect(freeBlockSet(cfg, tx.c[FRAMES])).toContain("1/0");
    freeFrames(tx, a, 0, obs); // 0+1 -> 0/1; buddy 2/1 allocated
    expect(freeBlockSet(cfg, tx.c[FRAMES])).toContain("0/1");
    expect(freeBlockSet(cfg, tx.c[FRAMES])).not.toContain("1/0");
    freeFrames(tx, c, 1, obs); // 2/1 + 0/1 -> 0/2, + 4/2 -> 0/3
    expect(freeBlockSet(cfg, tx.c[FRAMES])).toEqual(initial);
    expect(freeLists(cfg, tx.c[FRAMES])[3][0]).toEqual([0, 3]);
    expect(listedHeadsConsistent(cfg, tx.c[FRAMES])).toBe(true);
  });

  it("does not merge with a buddy that lies beyond the last frame", () => {
    const cfg = config({ frames: 13, maxOrder: 3 });
    const { tx, obs } = freshTx(cfg);
    // Take everything but frame 12, then free 12's neighbours: 12 has no buddy.
    const f = allocFrames(tx, 0, ROLE_KERNEL, 0, obs);
    expect(f).toBe(12);
    freeFrames(tx, 12, 0, obs);
    expect(freeLists(cfg, tx.c[FRAMES])).toEqual([[[12, 0]], [], [[8, 2]], [[0, 3]]]);
  });
});

type Op = { t: "alloc"; order: number; role: number } | { t: "free"; k: number };

const scenario = fc
  .record({ frames: fc.integer({ min: 8, max: 70 }), maxOrder: fc.integer({ min: 0, max: 4 }) })
  .chain(({ frames, maxOrder }) =>
    fc.record({
      frames: fc.constant(frames),
      maxOrder: fc.constant(maxOrder),
      ops: fc.array(
        fc.oneof(
          fc.record({ t: fc.constant("alloc" as const), order: fc.integer({ min: 0, max: maxOrder + 1 }), role: fc.constantFrom(ROLE_KERNEL, ROLE_SLAB, ROLE_USER) }),
          fc.record({ t: fc.constant("free" as const), k: fc.nat(50) }),
        ),
        { maxLength: 80 },
      ) as fc.Arbitrary<Op[]>,
    }),
  );

describe("buddy allocator properties", () => {
  test.prop([scenario], { numRuns: 200 })(
    "random alloc/free: no frame handed out twice, free + allocated = frames, everything merges back",
    ({ frames, maxOrder, ops }) => {
      const cfg = config({ frames, maxOrder });
      const { tx, obs } = freshTx(cfg);
      const initial = freeBlockSet(cfg, tx.c[FRAMES]);
      const live: { f: number; order: number; role: number }[] = [];
      const owned = new Set<number>();
      for (const op of ops) {
        if (op.t === "alloc") {
          const f = allocFrames(tx, op.order, op.role, 0, obs);
          if (f < 0) {
            // Only when no free block of that order or larger exists (or the order is too big).
            const big = freeLists(cfg, tx.c[FRAMES]).slice(op.order).flat();
            if (op.order <= maxOrder && big.length > 0) throw new Error(`order ${op.order} failed with ${big.length} large blocks free`);
            continue;
          }
          if (f % (1 << op.order) !== 0 || f + (1 << op.order) > frames) throw new Error(`misaligned block ${f}/${op.order}`);
          for (let i = 0; i < 1 << op.order; i++) {
            if (owned.has(f + i)) throw new Error(`frame ${f + i} handed out twice`);
            owned.add(f + i);
            if (frameRole(tx.c[FRAMES], f + i) !== op.role) throw new Error(`frame ${f + i} has the wrong role`);
          }
          live.push({ f, order: op.order, role: op.role });
        } else if (live.length > 0) {
          const [b] = live.splice(op.k % live.length, 1);
          freeFrames(tx, b.f, b.order, obs);
          for (let i = 0; i < 1 << b.order; i++) owned.delete(b.f + i);
        }
        const free = framesOnFreeLists(cfg, tx.c[FRAMES]);
        for (const f of free) if (owned.has(f)) throw new Error(`allocated frame ${f} is on a free list`);
        if (free.size + owned.size !== frames) throw new Error(`free ${free.size} + allocated ${owned.size} != ${frames}`);
        if (countFreeFrames(tx.g, tx.c[FRAMES]) !== free.size) throw new Error("free-role frames differ from the free lists");
        if (!listedHeadsConsistent(cfg, tx.c[FRAMES])) throw new Error("a listed block is not a free head of its order");
      }
      for (const b of live) freeFrames(tx, b.f, b.order, obs);
      expect(freeBlockSet(cfg, tx.c[FRAMES])).toEqual(initial);
    },
  );
});

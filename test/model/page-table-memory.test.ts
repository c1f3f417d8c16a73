// Tests for model/page-table-memory.ts: the sparse, sorted store of page-table entries.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { PTMEM, PT_W } from "../../model/geometry.ts";
import { ptClearFrame, ptCount, ptFind, ptHi, ptLo, ptWrite } from "../../model/page-table-memory.ts";
import { type Words } from "../../model/state.ts";
import { config, freshTx } from "./helpers.ts";

const CFG = config();

function keys(pt: Words): number[] {
  const out: number[] = [];
  for (let i = 0; i < pt[0]; i++) out.push(pt[1 + i * PT_W]);
  return out;
}

describe("ptWrite / ptLo / ptHi", () => {
  it("reads back what was written, as unsigned halves, and 0 for entries never written", () => {
    const { tx } = freshTx(CFG, false);
    expect(ptWrite(tx, 5, 17, 0xdeadb001, 0xffffffff)).toBe(true);
    const pt = tx.c[PTMEM];
    expect(ptLo(pt, 5, 17)).toBe(0xdeadb001);
    expect(ptHi(pt, 5, 17)).toBe(0xffffffff);
    expect(ptLo(pt, 5, 18)).toBe(0);
    expect(ptHi(pt, 4, 17)).toBe(0);
    expect(ptFind(pt, 5, 17)).toBe(0);
    expect(ptFind(pt, 5, 18)).toBeLessThan(0);
  });

  it("overwrites in place, and deletes when both halves are written as zero", () => {
    const { tx } = freshTx(CFG, false);
    ptWrite(tx, 3, 1, 1, 0);
    ptWrite(tx, 3, 2, 2, 0);
    ptWrite(tx, 3, 1, 0x1001, 7);
    expect(tx.c[PTMEM][0]).toBe(2);
    expect(ptLo(tx.c[PTMEM], 3, 1)).toBe(0x1001);
    expect(ptHi(tx.c[PTMEM], 3, 1)).toBe(7);
    // lo = 0 with hi != 0 is still an entry (not present, but stored).
    ptWrite(tx, 3, 2, 0, 9);
    expect(tx.c[PTMEM][0]).toBe(2);
    ptWrite(tx, 3, 1, 0, 0);
    expect(tx.c[PTMEM][0]).toBe(1);
    expect(ptLo(tx.c[PTMEM], 3, 1)).toBe(0);
    expect(keys(tx.c[PTMEM])).toEqual([3 * 512 + 2]);
    // The vacated record is zeroed, so the component stays canonical.
    expect(Array.from(tx.c[PTMEM].slice(1 + PT_W, 1 + 2 * PT_W))).toEqual([0, 0, 0]);
  });

  it("keeps keys (frame * 512 + index) sorted whatever the write order", () => {
    const { tx } = freshTx(CFG, false);
    for (const [f, i] of [[9, 3], [2, 511], [9, 0], [2, 0], [30, 7], [9, 511]]) ptWrite(tx, f, i, 1, 0);
    expect(keys(tx.c[PTMEM])).toEqual([2 * 512, 2 * 512 + 511, 9 * 512, 9 * 512 + 3, 9 * 512 + 511, 30 * 512 + 7]);
  });

  it("writing zero to an absent entry changes nothing and copies nothing", () => {
    const { tx } = freshTx(CFG, false);
    expect(ptWrite(tx, 1, 1, 0, 0)).toBe(true);
    expect(tx.wrote(PTMEM)).toBe(false);
  });

  it("returns false at capacity for a new entry, but still overwrites and deletes existing ones", () => {
    const { tx, g } = freshTx(CFG, false);
    for (let i = 0; i < g.ptCapacity; i++) expect(ptWrite(tx, 1 + Math.floor(i / 512), i % 512, i + 1, 0)).toBe(true);
    const snap = tx.c[PTMEM].slice();
    expect(ptWrite(tx, 0, 0, 1, 0)).toBe(false);
    expect(tx.c[PTMEM]).toEqual(snap);
    expect(ptWrite(tx, 1, 0, 0x55, 0)).toBe(true);
    expect(ptLo(tx.c[PTMEM], 1, 0)).toBe(0x55);
    expect(ptWrite(tx, 0, 0, 0, 0)).toBe(true);
    expect(ptWrite(tx, 1, 0, 0, 0)).toBe(true);
    expect(ptWrite(tx, 0, 0, 1, 0)).toBe(true); // room again
    expect(tx.c[PTMEM][0]).toBe(g.ptCapacity);
  });
});

describe("ptCount / ptClearFrame", () => {
  it("counts only the entries of the given frame", () => {
    const { tx } = freshTx(CFG, false);
    ptWrite(tx, 4, 511, 1, 0);
    ptWrite(tx, 5, 0, 1, 0);
    ptWrite(tx, 5, 300, 1, 0);
    ptWrite(tx, 5, 511, 1, 0);
    ptWrite(tx, 6, 0, 1, 0);
    const pt = tx.c[PTMEM];
    expect(ptCount(pt, 5)).toBe(3);
    expect(ptCount(pt, 4)).toBe(1);
    expect(ptCount(pt, 6)).toBe(1);
    expect(ptCount(pt, 7)).toBe(0);
    expect(ptCount(pt, 0)).toBe(0);
  });

  it("erases every entry of one frame and leaves the neighbours", () => {
    const { tx } = freshTx(CFG, false);
    ptWrite(tx, 4, 511, 0x41, 0);
    ptWrite(tx, 5, 0, 0x50, 0);
    ptWrite(tx, 5, 511, 0x51, 0);
    ptWrite(tx, 6, 0, 0x60, 0);
    ptClearFrame(tx, 5);
    const pt = tx.c[PTMEM];
    expect(keys(pt)).toEqual([4 * 512 + 511, 6 * 512]);
    expect(ptLo(pt, 6, 0)).toBe(0x60);
    expect(Array.from(pt.slice(1 + 2 * PT_W, 1 + 4 * PT_W))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("clearing a frame with no entries writes nothing", () => {
    const { tx } = freshTx(CFG, false);
    ptWrite(tx, 4, 1, 1, 0);
    const s = tx.commit();
    tx.begin(s);
    ptClearFrame(tx, 9);
    expect(tx.wrote(PTMEM)).toBe(false);
  });
});

type Op = { t: "w"; f: number; i: number; lo: number; hi: number } | { t: "clear"; f: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("w" as const),
      f: fc.nat(6),
      i: fc.oneof(fc.constantFrom(0, 1, 255, 511), fc.nat(511)),
      lo: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
      hi: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("clear" as const), f: fc.nat(6) }) },
);

describe("page-table memory properties", () => {
  test.prop([fc.array(opArb, { maxLength: 120 })], { numRuns: 200 })("agrees with a map oracle", (ops) => {
    const cfg = config({ devices: 1, iovaPages: 4 }); // small capacity, so the limit is exercised
    const { tx, g } = freshTx(cfg, false);
    const oracle = new Map<number, [number, number]>();
    for (const op of ops) {
      if (op.t === "clear") {
        ptClearFrame(tx, op.f);
        for (const k of [...oracle.keys()]) if (Math.floor(k / 512) === op.f) oracle.delete(k);
        continue;
      }
      const key = op.f * 512 + op.i;
      const ok = ptWrite(tx, op.f, op.i, op.lo, op.hi);
      const zero = op.lo === 0 && op.hi === 0;
      const expectOk = zero || oracle.has(key) || oracle.size < g.ptCapacity;
      if (ok !== expectOk) throw new Error(`ptWrite returned ${ok} with ${oracle.size}/${g.ptCapacity} entries`);
      if (ok) {
        if (zero) oracle.delete(key);
        else oracle.set(key, [op.lo >>> 0, op.hi >>> 0]);
      }
    }
    const pt = tx.c[PTMEM];
    expect(keys(pt)).toEqual([...oracle.keys()].sort((a, b) => a - b));
    for (const [k, [lo, hi]] of oracle) {
      expect(ptLo(pt, Math.floor(k / 512), k % 512)).toBe(lo);
      expect(ptHi(pt, Math.floor(k / 512), k % 512)).toBe(hi);
    }
    for (let f = 0; f < 7; f++) expect(ptCount(pt, f)).toBe([...oracle.keys()].filter((k) => Math.floor(k / 512) === f).length);
    // Unused records are zero (canonical state).
    for (let j = 1 + pt[0] * PT_W; j < pt.length; j++) if (pt[j] !== 0) throw new Error(`word ${j} beyond the entries is not zero`);
  });
});

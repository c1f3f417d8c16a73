// Tests for model/formats/x86-pte.ts and the word64.ts helpers it rests on.
// Oracles are written independently with bigint arithmetic on the 64-bit word.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  LINUX_SOFTBITS,
  X86_BIT,
  X86_HI_IGNORED_MASK,
  X86_LEVELS_4,
  X86_LEVELS_5,
  X86_LO_ACCESSED,
  X86_LO_DIRTY,
  X86_LO_GLOBAL,
  X86_LO_PAT_LARGE,
  X86_LO_PRESENT,
  X86_LO_PSE,
  X86_LO_RW,
  X86_LO_USER,
  X86_SOFTHI_4,
  X86_SOFTHI_5,
  decodeX86Pte,
  encodeX86Pte,
  x86Accessed,
  x86Dirty,
  x86EncodeHi,
  x86EncodeLo,
  x86Global,
  x86Huge,
  x86IsHugeLeaf,
  x86Index,
  x86LeafPfn,
  x86LevelShift,
  x86Nx,
  x86Pfn,
  x86Pkey,
  x86Present,
  x86SavedDirty,
  x86SoftDirty,
  x86Special,
  x86UffdWp,
  x86User,
  x86Writable,
  type X86Pte,
} from "../../model/formats/x86-pte.ts";
import {
  bit,
  ctz32,
  fls64,
  fromBigInt,
  hex64,
  hiOfPfn,
  loOfPfn,
  lowMask32,
  pfnOf,
  sizeLog2Label,
  toBigInt,
  trailingOnes32,
  withBit,
} from "../../model/formats/word64.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const pfn40 = fc.integer({ min: 0, max: 2 ** 40 - 1 });
const level = fc.integer({ min: 1, max: 5 });

/** The word as a bigint, written without word64.ts. */
const W = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const field = (w: bigint, pos: number, width: number): bigint => (w >> BigInt(pos)) & ((1n << BigInt(width)) - 1n);
const split = (w: bigint): { lo: number; hi: number } => ({ lo: Number(w & 0xffffffffn), hi: Number((w >> 32n) & 0xffffffffn) });

describe("word64 helpers", () => {
  test.prop([u32, u32, fc.integer({ min: 0, max: 63 })])("bit matches bigint", (lo, hi, n) => {
    expect(bit(lo, hi, n)).toBe(field(W(lo, hi), n, 1) === 1n);
  });

  test.prop([u32, u32, fc.integer({ min: 0, max: 63 }), fc.boolean()])("withBit matches bigint", (lo, hi, n, v) => {
    const [l, h] = withBit(lo, hi, n, v);
    const m = 1n << BigInt(n);
    const expected = v ? W(lo, hi) | m : W(lo, hi) & ~m;
    expect(W(l, h)).toBe(expected);
  });

  it("bit and withBit are total outside 0..63", () => {
    expect(bit(0xffffffff, 0xffffffff, 64)).toBe(false);
    expect(bit(0xffffffff, 0xffffffff, -1)).toBe(false);
    expect(withBit(1, 2, 99, true)).toEqual([1, 2]);
  });

  test.prop([u32, u32])("pfnOf is bits 51..12", (lo, hi) => {
    expect(BigInt(pfnOf(lo, hi))).toBe(field(W(lo, hi), 12, 40));
  });

  test.prop([pfn40])("loOfPfn/hiOfPfn split a PFN into address bits 51..12", (pfn) => {
    const lo = loOfPfn(pfn);
    const hi = hiOfPfn(pfn);
    expect(W(lo, hi)).toBe(BigInt(pfn) << 12n);
    expect(pfnOf(lo, hi)).toBe(pfn);
  });

  it("hiOfPfn drops PFN bits above 39 (never touches bits 52..63)", () => {
    expect(hiOfPfn(2 ** 40 + 5 * 2 ** 20)).toBe(5);
  });

  test.prop([u32, u32])("toBigInt/fromBigInt/hex64 round-trip", (lo, hi) => {
    const b = toBigInt(lo, hi);
    expect(b).toBe(W(lo, hi));
    expect(fromBigInt(b)).toEqual({ lo, hi });
    expect(hex64(lo, hi)).toBe("0x" + b.toString(16).padStart(16, "0"));
    expect(hex64(lo, hi)).toHaveLength(18);
  });

  it("fromBigInt reduces modulo 2^64", () => {
    expect(fromBigInt(-1n)).toEqual({ lo: 0xffffffff, hi: 0xffffffff });
    expect(fromBigInt(1n << 64n)).toEqual({ lo: 0, hi: 0 });
  });

  test.prop([u32, u32])("fls64 is the bit length", (lo, hi) => {
    expect(fls64(lo, hi)).toBe(W(lo, hi).toString(2).replace(/^0+$/, "").length);
  });

  test.prop([u32])("ctz32 / trailingOnes32", (x) => {
    const bits = x.toString(2).padStart(32, "0");
    expect(ctz32(x)).toBe(x === 0 ? 32 : bits.length - 1 - bits.lastIndexOf("1"));
    expect(trailingOnes32(x)).toBe(x === 0xffffffff ? 32 : 31 - bits.lastIndexOf("0"));
  });

  it("lowMask32 and sizeLog2Label", () => {
    expect([0, 1, 12, 31, 32, 40].map(lowMask32)).toEqual([0, 1, 0xfff, 0x7fffffff, 0xffffffff, 0xffffffff]);
    expect([12, 16, 21, 30, 39, 48, 57].map(sizeLog2Label)).toEqual([
      "4 KiB",
      "64 KiB",
      "2 MiB",
      "1 GiB",
      "512 GiB",
      "256 TiB",
      "128 PiB",
    ]);
  });
});

describe("x86 PTE bit positions (known answers)", () => {
  it("constants match pgtable_types.h", () => {
    expect(X86_BIT).toMatchObject({
      PRESENT: 0,
      RW: 1,
      USER: 2,
      PWT: 3,
      PCD: 4,
      ACCESSED: 5,
      DIRTY: 6,
      PSE: 7,
      PAT: 7,
      GLOBAL: 8,
      SOFTW1: 9,
      SOFTW2: 10,
      SOFTW3: 11,
      PAT_LARGE: 12,
      SOFTW4: 57,
      SOFTW5: 58,
      PKEY_BIT0: 59,
      PKEY_BIT3: 62,
      NX: 63,
    });
    expect(LINUX_SOFTBITS).toEqual({ special: 9, uffdWp: 10, softDirty: 11, savedDirty: 58 });
    expect([X86_LEVELS_4, X86_LEVELS_5]).toEqual([4, 5]);
  });

  it("Linux __PAGE_KERNEL (P|RW|A|D|G|NX) for pfn 0x1234 is 0x8000000001234163", () => {
    const lo = x86EncodeLo(0x1234, X86_LO_PRESENT | X86_LO_RW | X86_LO_ACCESSED | X86_LO_DIRTY | X86_LO_GLOBAL);
    const hi = x86EncodeHi(0x1234, true, 0, 0);
    expect(W(lo, hi)).toBe(0x8000000001234163n);
    expect(x86Present(lo) && x86Writable(lo) && x86Accessed(lo) && x86Dirty(lo) && x86Global(lo)).toBe(true);
    expect(x86User(lo)).toBe(false);
    expect(x86Nx(hi)).toBe(true);
  });

  it("NX is bit 63", () => {
    expect(W(0, x86EncodeHi(0, true, 0, 0))).toBe(1n << 63n);
    expect(x86Nx(split(1n << 63n).hi)).toBe(true);
    expect(x86Nx(split((1n << 63n) - 1n).hi)).toBe(false);
  });

  it("pkey is bits 59..62", () => {
    for (let k = 0; k < 16; k++) {
      const hi = x86EncodeHi(0, false, k, 0);
      expect(W(0, hi)).toBe(BigInt(k) << 59n);
      expect(x86Pkey(hi)).toBe(k);
    }
    expect(x86Pkey(split(0b1010n << 59n).hi)).toBe(10);
    // Neighbouring bits 58 and 63 are not part of the key.
    expect(x86Pkey(split((1n << 58n) | (1n << 63n)).hi)).toBe(0);
  });

  it("soft-dirty is bit 11, uffd-wp bit 10, special bit 9, saved-dirty bit 58", () => {
    expect(x86SoftDirty(1 << 11)).toBe(true);
    expect(x86SoftDirty(1 << 10)).toBe(false);
    expect(x86UffdWp(1 << 10)).toBe(true);
    expect(x86UffdWp(1 << 11)).toBe(false);
    expect(x86Special(1 << 9)).toBe(true);
    expect(x86SavedDirty(split(1n << 58n).hi)).toBe(true);
    expect(x86SavedDirty(split(1n << 57n).hi)).toBe(false);
    expect(W(0, x86EncodeHi(0, false, 0, X86_SOFTHI_4))).toBe(1n << 57n);
    expect(W(0, x86EncodeHi(0, false, 0, X86_SOFTHI_5))).toBe(1n << 58n);
    const e = decodeX86Pte(0x800 | 0x400, 0, 1);
    expect([e.soft1, e.soft2, e.soft3]).toEqual([false, true, true]);
  });

  it("bit 7 is PS at level 2 but PAT at level 1", () => {
    const lo = 0x00200000 | X86_LO_PRESENT | X86_LO_RW | X86_LO_PSE; // 0x200083
    const pmd = decodeX86Pte(lo, 0, 2);
    expect(pmd.huge).toBe(true);
    expect(pmd.pat).toBe(false);
    expect(x86IsHugeLeaf(lo, 2)).toBe(true);
    const pte = decodeX86Pte(lo, 0, 1);
    expect(pte.huge).toBe(false);
    expect(pte.pat).toBe(true);
    expect(x86IsHugeLeaf(lo, 1)).toBe(false);
    // "No 512 GiB huge pages yet": PS is not honoured at level 4.
    expect(x86IsHugeLeaf(lo, 4)).toBe(false);
    expect(x86Huge(lo)).toBe(true);
  });

  it("2 MiB leaf: bit 12 is PAT_LARGE, not address", () => {
    // phys 0x200000 (pfn 0x200), P|RW|PS|PAT_LARGE
    const lo = 0x00201083;
    expect(x86LeafPfn(lo, 0, 2)).toBe(0x200);
    const e = decodeX86Pte(lo, 0, 2);
    expect(e.patLarge).toBe(true);
    expect(e.pfn).toBe(0x200);
    expect(encodeX86Pte(e, 2)).toEqual({ lo, hi: 0 });
    // The same word as a 4 KiB PTE: bit 12 is an address bit.
    expect(x86Pfn(lo, 0)).toBe(0x201);
    expect(x86LeafPfn(lo, 0, 1)).toBe(0x201);
    expect(decodeX86Pte(lo, 0, 1).patLarge).toBe(false);
    expect(decodeX86Pte(lo, 0, 1).pfn).toBe(0x201);
  });

  it("1 GiB leaf masks frame bits 17..0, keeping reserved bits in the raw pfn", () => {
    // phys 0x40000000 (pfn 0x40000), reserved bit 13 set, PAT_LARGE, P|PS
    const lo = 0x40000000 | 0x2000 | X86_LO_PAT_LARGE | X86_LO_PSE | X86_LO_PRESENT;
    expect(x86LeafPfn(lo, 0, 3)).toBe(0x40000);
    const e = decodeX86Pte(lo, 0, 3);
    expect(e.pfn).toBe(0x40002);
    expect(e.patLarge).toBe(true);
    expect(encodeX86Pte(e, 3).lo).toBe(lo);
    // A 2 MiB leaf at 1 GiB + 2 MiB above 4 GiB: frame bits 8..0 are dropped.
    const pfn = 0x123400200;
    const lo2 = x86EncodeLo(pfn + 0x1ff, X86_LO_PRESENT | X86_LO_PSE);
    expect(x86LeafPfn(lo2, hiOfPfn(pfn), 2)).toBe(pfn);
  });

  it("a PMD without PS is a table pointer: bit 12 is address", () => {
    const lo = x86EncodeLo(0x1235, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER);
    expect(x86LeafPfn(lo, 0, 2)).toBe(0x1235);
    expect(decodeX86Pte(lo, 0, 2).pfn).toBe(0x1235);
  });

  it("level geometry", () => {
    expect([1, 2, 3, 4, 5].map(x86LevelShift)).toEqual([12, 21, 30, 39, 48]);
    const user = 0x7fffffffffffn >> 12n; // top of the 47-bit user half
    expect([1, 2, 3, 4].map((l) => x86Index(Number(user), l))).toEqual([511, 511, 511, 255]);
    // Direct map base 0xffff888000000000 sits in PGD slot 273 with 4 levels.
    expect(x86Index(Number(0xffff888000000000n >> 12n), 4)).toBe(273);
    // With LA57 the direct map base is 0xff11000000000000: PGD slot 273 too.
    expect(x86Index(Number(0xff11000000000000n >> 12n), 5)).toBe(273);
    expect(x86Index(12345, 0)).toBe(0);
    expect(x86Index(12345, 6)).toBe(0);
  });
});

describe("x86 PTE properties", () => {
  test.prop([u32, u32])("hot-path readers agree with bigint extraction", (lo, hi) => {
    const w = W(lo, hi);
    expect(x86Present(lo)).toBe(field(w, 0, 1) === 1n);
    expect(x86Writable(lo)).toBe(field(w, 1, 1) === 1n);
    expect(x86User(lo)).toBe(field(w, 2, 1) === 1n);
    expect(x86Accessed(lo)).toBe(field(w, 5, 1) === 1n);
    expect(x86Dirty(lo)).toBe(field(w, 6, 1) === 1n);
    expect(x86Huge(lo)).toBe(field(w, 7, 1) === 1n);
    expect(x86Global(lo)).toBe(field(w, 8, 1) === 1n);
    expect(x86Special(lo)).toBe(field(w, 9, 1) === 1n);
    expect(x86UffdWp(lo)).toBe(field(w, 10, 1) === 1n);
    expect(x86SoftDirty(lo)).toBe(field(w, 11, 1) === 1n);
    expect(x86SavedDirty(hi)).toBe(field(w, 58, 1) === 1n);
    expect(BigInt(x86Pkey(hi))).toBe(field(w, 59, 4));
    expect(x86Nx(hi)).toBe(field(w, 63, 1) === 1n);
    expect(BigInt(x86Pfn(lo, hi))).toBe(field(w, 12, 40));
  });

  test.prop([u32, u32, level])("x86LeafPfn agrees with PHYSICAL_PMD/PUD_PAGE_MASK", (lo, hi, l) => {
    const w = W(lo, hi);
    const ps = field(w, 7, 1) === 1n;
    const shift = ps && (l === 2 || l === 3) ? (l === 2 ? 21n : 30n) : 12n;
    const addr = w & ((1n << 52n) - 1n) & ~((1n << shift) - 1n);
    expect(BigInt(x86LeafPfn(lo, hi, l))).toBe(addr >> 12n);
  });

  test.prop([pfn40, fc.integer({ min: 0, max: 0xfff }), fc.boolean(), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 3 })])(
    "x86EncodeLo/Hi agree with bigint construction",
    (pfn, flags, nx, pkey, softHi) => {
      const expected =
        (BigInt(pfn) << 12n) | BigInt(flags) | (BigInt(softHi) << 57n) | (BigInt(pkey) << 59n) | (nx ? 1n << 63n : 0n);
      const lo = x86EncodeLo(pfn, flags);
      const hi = x86EncodeHi(pfn, nx, pkey, softHi);
      expect(W(lo, hi)).toBe(expected);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeGreaterThanOrEqual(0);
    },
  );

  test.prop([u32, u32, level])("encode(decode(w)) == w except the ignored bits 52..56", (lo, hi, l) => {
    expect(encodeX86Pte(decodeX86Pte(lo, hi, l), l)).toEqual({ lo, hi: (hi & ~X86_HI_IGNORED_MASK) >>> 0 });
  });

  it("ignored mask is bits 52..56", () => {
    expect(W(0, X86_HI_IGNORED_MASK)).toBe(0x1fn << 52n);
  });

  /** An X86Pte with only the fields that exist at level `l`. */
  const pteAt = (l: number): fc.Arbitrary<X86Pte> =>
    fc
      .record({
        present: fc.boolean(),
        writable: fc.boolean(),
        user: fc.boolean(),
        pwt: fc.boolean(),
        pcd: fc.boolean(),
        accessed: fc.boolean(),
        dirty: fc.boolean(),
        bit7: fc.boolean(),
        global: fc.boolean(),
        soft1: fc.boolean(),
        soft2: fc.boolean(),
        soft3: fc.boolean(),
        soft4: fc.boolean(),
        soft5: fc.boolean(),
        patLarge: fc.boolean(),
        pfn: pfn40,
        pkey: fc.integer({ min: 0, max: 15 }),
        nx: fc.boolean(),
      })
      .map(({ bit7, patLarge, pfn, ...rest }) => {
        const hugeLeaf = bit7 && (l === 2 || l === 3);
        return {
          ...rest,
          huge: l !== 1 && bit7,
          pat: l === 1 && bit7,
          patLarge: hugeLeaf && patLarge,
          pfn: hugeLeaf ? pfn - (pfn % 2) : pfn, // bit 12 belongs to patLarge
        };
      });

  test.prop([level.chain((l) => fc.tuple(fc.constant(l), pteAt(l)))])("decode(encode(e)) == e", ([l, e]) => {
    const { lo, hi } = encodeX86Pte(e, l);
    expect(decodeX86Pte(lo, hi, l)).toEqual(e);
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 45 - 1 }), level])("x86Index agrees with bigint shifts", (vaPage, l) => {
    const va = BigInt(vaPage) << 12n;
    expect(BigInt(x86Index(vaPage, l))).toBe((va >> BigInt(x86LevelShift(l))) & 0x1ffn);
  });

  test.prop([u32, u32, fc.integer({ min: -3, max: 9 })])("decode is total on any level", (lo, hi, l) => {
    const e = decodeX86Pte(lo, hi, l);
    expect(e.pkey).toBeLessThan(16);
    expect(Number.isInteger(x86LeafPfn(lo, hi, l))).toBe(true);
  });
});

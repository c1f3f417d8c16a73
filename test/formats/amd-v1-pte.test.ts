// Tests for model/formats/amd-v1-pte.ts. The oracle re-implements Linux's
// amd_iommu_types.h macros with bigint, independently of the code under test.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  AMD_V1_BIT,
  AMD_V1_MAX_LEVELS,
  AMD_V1_MODELED_HI,
  AMD_V1_MODELED_LO,
  AMD_V1_UNSUPPORTED_LOG2,
  amdAddrPfn,
  amdDefaultPageLog2,
  amdFc,
  amdHostDirty,
  amdIndex,
  amdIr,
  amdIsLeaf,
  amdIsLevelSkip,
  amdIw,
  amdLargeBasePfn,
  amdLargeLeaf,
  amdLargePageLog2,
  amdLevelShift,
  amdNextLevel,
  amdPageSizeSupported,
  amdPdeHi,
  amdPdeLo,
  amdPresent,
  amdPteHi,
  amdPteLo,
  amdReplicaCount,
  amdU,
  decodeAmdV1,
  describeAmdV1,
  encodeAmdV1,
  type AmdV1Entry,
} from "../../model/formats/amd-v1-pte.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const pfn40 = fc.integer({ min: 0, max: 2 ** 40 - 1 });

const W = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const field = (w: bigint, pos: number, width: number): bigint => (w >> BigInt(pos)) & ((1n << BigInt(width)) - 1n);
const split = (w: bigint): { lo: number; hi: number } => ({ lo: Number(w & 0xffffffffn), hi: Number((w >> 32n) & 0xffffffffn) });

// Linux amd_iommu_types.h, in bigint.
const IOMMU_PTE_PR = 1n;
const IOMMU_PTE_FC = 1n << 60n;
const IOMMU_PTE_IR = 1n << 61n;
const IOMMU_PTE_IW = 1n << 62n;
const PM_ADDR_MASK = 0x000ffffffffff000n;
const PM_LEVEL_ENC = (x: bigint): bigint => (x << 9n) & 0xe00n;
const PM_LEVEL_PDE = (x: bigint, a: bigint): bigint => a | PM_LEVEL_ENC(x) | IOMMU_PTE_PR | IOMMU_PTE_IR | IOMMU_PTE_IW;
const PAGE_SIZE_PTE = (address: bigint, pagesize: bigint): bigint =>
  (address | (pagesize - 1n)) & ~(pagesize >> 1n) & PM_ADDR_MASK;
const ffz = (x: bigint): number => {
  let i = 0;
  while (((x >> BigInt(i)) & 1n) === 1n) i++;
  return i;
};
const PTE_PAGE_SIZE_LOG2 = (pte: bigint): number => 1 + ffz(pte | 0xfffn);
const PM_LEVEL_SHIFT = (x: number): number => 12 + x * 9;
const PM_LEVEL_INDEX = (x: number, a: bigint): bigint => (a >> BigInt(PM_LEVEL_SHIFT(x))) & 0x1ffn;

describe("AMD v1 known answers", () => {
  it("bit positions", () => {
    expect(AMD_V1_BIT).toMatchObject({ PR: 0, HD: 6, NEXT_LEVEL_FIRST: 9, NEXT_LEVEL_LAST: 11, U: 59, FC: 60, IR: 61, IW: 62 });
    expect(AMD_V1_UNSUPPORTED_LOG2).toBe(39);
    expect(AMD_V1_MAX_LEVELS).toBe(6);
  });

  it("PM_LEVEL_PDE for a table at pfn 0x1234 with NL 2 is 0x6000000001234401", () => {
    // IR (bit 61) | IW (bit 62) | address 0x1234000 | NL 2 << 9 (0x400) | PR.
    const expected = 0x6000000001234401n;
    expect(PM_LEVEL_PDE(2n, 0x1234000n)).toBe(expected);
    expect(W(amdPdeLo(0x1234, 2), amdPdeHi(0x1234))).toBe(expected);
    expect(describeAmdV1(amdPdeLo(0x1234, 2), amdPdeHi(0x1234), 3)).toBe("PDE -> table L2 @pfn 0x1234 IR IW");
  });

  it("64 KiB NL7 leaf: bits 14:12 = 111, bit 15 = 0, 16 copies", () => {
    const { lo, hi } = amdLargeLeaf(0x10, 16, true, true); // address 0x10000
    const w = W(lo, hi);
    expect(field(w, 12, 3)).toBe(0b111n);
    expect(field(w, 15, 1)).toBe(0n);
    expect(field(w, 16, 1)).toBe(1n);
    expect(w).toBe(0x7000000000017e01n); // IW|IR|FC | 0x17000 | NL 7 | PR
    expect(amdNextLevel(lo)).toBe(7);
    expect(amdReplicaCount(16)).toBe(16);
    expect(amdLargePageLog2(lo, hi)).toBe(16);
    expect(amdLargeBasePfn(lo, hi)).toBe(0x10);
    expect(describeAmdV1(lo, hi, 1)).toBe("PTE 64 KiB (NL7) -> pfn 0x10 IR IW FC");
  });

  it("2 MiB: NL0 leaf at level 2 and the NL7 encoding", () => {
    const lo = amdPteLo(0x200);
    const hi = amdPteHi(0x200, true, true, true);
    expect(W(lo, hi)).toBe(0x7000000000200001n);
    expect(describeAmdV1(lo, hi, 2)).toBe("PTE 2 MiB -> pfn 0x200 IR IW FC");
    const big = amdLargeLeaf(0x200, 21, true, false);
    expect(W(big.lo, big.hi)).toBe(0x30000000002ffe01n); // FC|IR | 0x2ff000 | NL7 | PR
    expect(amdLargePageLog2(big.lo, big.hi)).toBe(21);
    expect(amdReplicaCount(21)).toBe(1);
  });

  it("1 GiB NL7 encoding and a size above 32 address bits", () => {
    const g = amdLargeLeaf(0x40000, 30, true, true);
    expect(W(g.lo, g.hi)).toBe(0x700000005ffffe01n);
    expect(amdLargePageLog2(g.lo, g.hi)).toBe(30);
    expect(amdLargeBasePfn(g.lo, g.hi)).toBe(0x40000);
    // 1 TiB at address 3 TiB: ones in bits 38..12, bit 39 clear.
    const t = amdLargeLeaf(3 * 2 ** 28, 40, true, true);
    expect(W(t.lo, t.hi) & PM_ADDR_MASK).toBe((3n << 40n) | 0x7ffffff000n);
    expect(amdLargePageLog2(t.lo, t.hi)).toBe(40);
    expect(amdLargeBasePfn(t.lo, t.hi)).toBe(3 * 2 ** 28);
    expect(amdReplicaCount(40)).toBe(2);
    // 2^51: ones in bits 49..12, bit 50 clear; 2^52: bit 51 clear.
    const top = amdLargeLeaf(0, 51, false, false);
    expect(W(top.lo, top.hi) & PM_ADDR_MASK).toBe((1n << 50n) - 4096n);
    expect(amdLargePageLog2(top.lo, top.hi)).toBe(51);
    const whole = amdLargeLeaf(0, 52, false, false);
    expect(amdLargePageLog2(whole.lo, whole.hi)).toBe(52);
    expect(amdLargeBasePfn(whole.lo, whole.hi)).toBe(0);
  });

  it("supported page sizes exclude 512 GiB", () => {
    expect(amdPageSizeSupported(12)).toBe(true);
    expect(amdPageSizeSupported(51)).toBe(true);
    expect(amdPageSizeSupported(39)).toBe(false);
    expect(amdPageSizeSupported(52)).toBe(false);
    expect(amdPageSizeSupported(11)).toBe(false);
  });

  it("level geometry and skipping", () => {
    expect([0, 1, 2, 3, 4, 5].map(amdLevelShift)).toEqual([12, 21, 30, 39, 48, 57]);
    expect([1, 2, 3, 4, 5, 6].map(amdDefaultPageLog2)).toEqual([12, 21, 30, 39, 48, 57]);
    const iova = 0x0000_1234_5678_9000n;
    expect(amdIndex(Number(iova >> 12n), 1)).toBe(Number((iova >> 12n) & 0x1ffn));
    expect(amdIndex(Number(iova >> 12n), 2)).toBe(Number((iova >> 21n) & 0x1ffn));
    // Top of a 64-bit IOVA: a level-6 table uses bits 63..57 only.
    expect(amdIndex(Number(0xfffffffffffff000n >> 12n), 6)).toBe(0x7f);
    expect(amdIndex(5, 0)).toBe(0);
    expect(amdIndex(5, 7)).toBe(0);
    expect(amdIsLevelSkip(3, 1)).toBe(true);
    expect(amdIsLevelSkip(3, 2)).toBe(false);
    expect(amdIsLevelSkip(6, 3)).toBe(true);
    expect(amdIsLevelSkip(2, 1)).toBe(false);
    expect(amdIsLevelSkip(3, 0)).toBe(false);
    expect(amdIsLevelSkip(4, 7)).toBe(false);
    expect(describeAmdV1(amdPdeLo(0x99, 1), amdPdeHi(0x99), 3)).toBe("PDE -> table L1 @pfn 0x99 IR IW (level skip)");
  });

  it("describe", () => {
    expect(describeAmdV1(0, 0, 1)).toBe("not present");
    expect(describeAmdV1(amdPdeLo(0x1234, 1), amdPdeHi(0x1234), 2)).toBe("PDE -> table L1 @pfn 0x1234 IR IW");
    expect(describeAmdV1(amdPteLo(7), amdPteHi(7, true, false, false), 1)).toBe("PTE 4 KiB -> pfn 0x7 IR");
    const { lo, hi } = amdLargeLeaf(0x10, 16, true, true);
    expect(describeAmdV1(lo, (hi & ~(1 << 28)) >>> 0, 1)).toBe("PTE 64 KiB (NL7) -> pfn 0x10 IR IW");
  });
});

describe("AMD v1 properties", () => {
  test.prop([u32, u32])("readers agree with bigint extraction", (lo, hi) => {
    const w = W(lo, hi);
    expect(amdPresent(lo)).toBe(field(w, 0, 1) === 1n);
    expect(amdHostDirty(lo)).toBe(field(w, 6, 1) === 1n);
    expect(BigInt(amdNextLevel(lo))).toBe(field(w, 9, 3));
    expect(BigInt(amdAddrPfn(lo, hi))).toBe((w & PM_ADDR_MASK) >> 12n);
    expect(amdU(hi)).toBe(field(w, 59, 1) === 1n);
    expect(amdFc(hi)).toBe(field(w, 60, 1) === 1n);
    expect(amdIr(hi)).toBe(field(w, 61, 1) === 1n);
    expect(amdIw(hi)).toBe(field(w, 62, 1) === 1n);
    expect(amdIsLeaf(lo)).toBe(field(w, 9, 3) === 0n || field(w, 9, 3) === 7n);
  });

  test.prop([u32, u32])("encode(decode(w)) == w restricted to modelled bits", (lo, hi) => {
    expect(encodeAmdV1(decodeAmdV1(lo, hi))).toEqual({ lo: (lo & AMD_V1_MODELED_LO) >>> 0, hi: (hi & AMD_V1_MODELED_HI) >>> 0 });
  });

  it("modelled bits are exactly PR, HD, NL, address, U, FC, IR, IW", () => {
    const m = W(AMD_V1_MODELED_LO, AMD_V1_MODELED_HI);
    expect(m).toBe(1n | (1n << 6n) | 0xe00n | PM_ADDR_MASK | (0xfn << 59n));
  });

  const entry: fc.Arbitrary<AmdV1Entry> = fc.record({
    present: fc.boolean(),
    hostDirty: fc.boolean(),
    nextLevel: fc.integer({ min: 0, max: 7 }),
    addrPfn: pfn40,
    u: fc.boolean(),
    fc: fc.boolean(),
    ir: fc.boolean(),
    iw: fc.boolean(),
  });

  test.prop([entry])("decode(encode(e)) == e", (e) => {
    const { lo, hi } = encodeAmdV1(e);
    expect(decodeAmdV1(lo, hi)).toEqual(e);
  });

  test.prop([pfn40, fc.integer({ min: 0, max: 7 })])("amdPdeLo/Hi == PM_LEVEL_PDE", (pfn, nl) => {
    expect(W(amdPdeLo(pfn, nl), amdPdeHi(pfn))).toBe(PM_LEVEL_PDE(BigInt(nl), BigInt(pfn) << 12n));
  });

  test.prop([pfn40, fc.boolean(), fc.boolean(), fc.boolean()])("amdPteLo/Hi: address | PR | IR/IW/FC, NL 0", (pfn, ir, iw, f) => {
    const expected =
      (BigInt(pfn) << 12n) | IOMMU_PTE_PR | (ir ? IOMMU_PTE_IR : 0n) | (iw ? IOMMU_PTE_IW : 0n) | (f ? IOMMU_PTE_FC : 0n);
    expect(W(amdPteLo(pfn), amdPteHi(pfn, ir, iw, f))).toBe(expected);
  });

  test.prop([pfn40, fc.integer({ min: 12, max: 52 }), fc.boolean(), fc.boolean()])(
    "amdLargeLeaf == PAGE_SIZE_PTE | PM_LEVEL_ENC(7) | PR | FC for any address",
    (pfn, log2, ir, iw) => {
      const expected =
        PAGE_SIZE_PTE(BigInt(pfn) << 12n, 1n << BigInt(log2)) |
        PM_LEVEL_ENC(7n) |
        IOMMU_PTE_PR |
        IOMMU_PTE_FC |
        (ir ? IOMMU_PTE_IR : 0n) |
        (iw ? IOMMU_PTE_IW : 0n);
      const { lo, hi } = amdLargeLeaf(pfn, log2, ir, iw);
      expect(W(lo, hi)).toBe(expected);
    },
  );

  test.prop([fc.integer({ min: 13, max: 52 }).chain((log2) => fc.tuple(fc.constant(log2), fc.integer({ min: 0, max: 2 ** (52 - log2) - 1 })))])(
    "aligned NL7 leaves decode to their size and base",
    ([log2, block]) => {
      const pfn = block * 2 ** (log2 - 12);
      const { lo, hi } = amdLargeLeaf(pfn, log2, true, true);
      expect(amdLargePageLog2(lo, hi)).toBe(log2);
      expect(PTE_PAGE_SIZE_LOG2(W(lo, hi))).toBe(log2);
      expect(amdLargeBasePfn(lo, hi)).toBe(pfn);
    },
  );

  test.prop([u32, u32])("amdLargePageLog2 == PTE_PAGE_SIZE on any word; base is the address with the low log2 bits cleared", (lo, hi) => {
    const w = W(lo, hi);
    const log2 = PTE_PAGE_SIZE_LOG2(w);
    expect(amdLargePageLog2(lo, hi)).toBe(log2);
    const base = log2 >= 52 ? 0n : (w & PM_ADDR_MASK & ~((1n << BigInt(log2)) - 1n)) >> 12n;
    expect(BigInt(amdLargeBasePfn(lo, hi))).toBe(base);
  });

  it("amdLargePageLog2 on an all-ones word is 65 (ffz(~0) undefined in Linux)", () => {
    expect(amdLargePageLog2(0xffffffff, 0xffffffff)).toBe(65);
    const { lo, hi } = split((1n << 63n) - 1n);
    expect(amdLargePageLog2(lo, hi)).toBe(64);
  });

  test.prop([fc.integer({ min: 12, max: 63 })])("amdReplicaCount == PAGE_SIZE_PTE_COUNT", (log2) => {
    expect(amdReplicaCount(log2)).toBe(2 ** ((log2 - 12) % 9));
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 52 - 1 }), fc.integer({ min: 1, max: 6 })])(
    "amdIndex(iovaPage, L) == PM_LEVEL_INDEX(L - 1, iova)",
    (iovaPage, l) => {
      expect(BigInt(amdIndex(iovaPage, l))).toBe(PM_LEVEL_INDEX(l - 1, BigInt(iovaPage) << 12n));
    },
  );

  test.prop([u32, u32, fc.integer({ min: -2, max: 9 })])("describe is total", (lo, hi, l) => {
    expect(typeof describeAmdV1(lo, hi, l)).toBe("string");
  });
});

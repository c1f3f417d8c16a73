// Tests for model/formats/ept-pte.ts. Oracles are written independently with
// bigint arithmetic on the 64-bit word.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  EPTP_AD_ENABLE,
  EPTP_PWL_4,
  EPTP_PWL_5,
  EPT_BIT,
  EPT_HI_IGNORED_MASK,
  EPT_LEVELS_4,
  EPT_LEVELS_5,
  EPT_LO_EXEC,
  EPT_LO_IGNORED_MASK,
  EPT_LO_LARGE,
  EPT_LO_READ,
  EPT_LO_USER_EXEC,
  EPT_LO_WRITE,
  EPT_MT,
  decodeEptPte,
  decodeEptp,
  encodeEptPte,
  encodeEptp,
  eptAccessed,
  eptDirty,
  eptEncodeHi,
  eptEncodeLo,
  eptExecutable,
  eptIgnorePat,
  eptIsLargeLeaf,
  eptIsLeaf,
  eptLarge,
  eptLeafFlags,
  eptLeafPfn,
  eptMemType,
  eptPfn,
  eptPresent,
  eptPresentMbec,
  eptReadable,
  eptSuppressVe,
  eptUserExecutable,
  eptWritable,
  type EptPte,
} from "../../model/formats/ept-pte.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const pfn40 = fc.integer({ min: 0, max: 2 ** 40 - 1 });
const level = fc.integer({ min: 1, max: 5 });

const W = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const field = (w: bigint, pos: number, width: number): bigint => (w >> BigInt(pos)) & ((1n << BigInt(width)) - 1n);
const split = (w: bigint): { lo: number; hi: number } => ({ lo: Number(w & 0xffffffffn), hi: Number((w >> 32n) & 0xffffffffn) });

describe("EPT entry bit positions (known answers, vmx.h)", () => {
  it("constants match vmx.h and spte.h", () => {
    expect(EPT_BIT).toMatchObject({
      READ: 0,
      WRITE: 1,
      EXEC: 2,
      MT_SHIFT: 3,
      IPAT: 6,
      LARGE: 7,
      ACCESSED: 8,
      DIRTY: 9,
      USER_EXEC: 10,
      SUPPRESS_VE: 63,
    });
    expect([EPT_LO_READ, EPT_LO_WRITE, EPT_LO_EXEC]).toEqual([0x1, 0x2, 0x4]);
    expect(EPT_LO_LARGE).toBe(0x80);
    expect(EPT_LO_USER_EXEC).toBe(1 << 10);
    expect(EPT_MT).toEqual({ UC: 0, WC: 1, WT: 4, WP: 5, WB: 6 });
    expect([EPT_LEVELS_4, EPT_LEVELS_5]).toEqual([4, 5]);
  });

  it("a KVM-style 4 KiB leaf, RWX, WB, IPAT, for pfn 0x1234 is 0x0000000001234077", () => {
    const lo = eptEncodeLo(0x1234, eptLeafFlags(7, EPT_MT.WB, true));
    const hi = eptEncodeHi(0x1234, false);
    expect(W(lo, hi)).toBe(0x0000000001234077n);
    expect(eptMemType(lo)).toBe(6);
    expect(eptIgnorePat(lo)).toBe(true);
    expect(eptIsLeaf(lo, 1)).toBe(true);
    expect(eptIsLeaf(lo, 2)).toBe(false); // no bit 7: a table pointer at level 2
  });

  it("suppress #VE is bit 63; accessed 8, dirty 9", () => {
    expect(W(0, eptEncodeHi(0, true))).toBe(1n << 63n);
    expect(eptSuppressVe(split(1n << 63n).hi)).toBe(true);
    expect(eptSuppressVe(split((1n << 63n) - 1n).hi)).toBe(false);
    expect(eptAccessed(0x100) && !eptDirty(0x100)).toBe(true);
    expect(eptDirty(0x200) && !eptAccessed(0x200)).toBe(true);
  });

  it("present means any of R/W/X; user-execute counts only with MBEC", () => {
    expect([0, 1, 2, 4, 7].map(eptPresent)).toEqual([false, true, true, true, true]);
    // Write-only or exec-only entries are misconfigurations but still "present" to the walk.
    expect(eptPresent(EPT_LO_USER_EXEC)).toBe(false);
    expect(eptPresentMbec(EPT_LO_USER_EXEC)).toBe(true);
    expect(eptPresent(0xfffff000 | 0x1f8)).toBe(false); // address and flags but no R/W/X
  });

  it("2 MiB and 1 GiB leaves mask their reserved low frame bits", () => {
    // 2 MiB at 0x40200000 with reserved bit 12 set, RW, WB
    const lo = 0x40200000 | 0x1000 | EPT_LO_LARGE | eptLeafFlags(3, EPT_MT.WB, false);
    expect(eptIsLargeLeaf(lo, 2)).toBe(true);
    expect(eptLeafPfn(lo, 0, 2)).toBe(0x40200);
    expect(eptPfn(lo, 0)).toBe(0x40201);
    expect(eptLeafPfn(lo, 0, 3)).toBe(0x40000);
    // Bit 7 at level 1 or 4 is not a large page.
    expect(eptIsLargeLeaf(lo, 1)).toBe(false);
    expect(eptIsLargeLeaf(lo, 4)).toBe(false);
    expect(eptIsLeaf(lo, 4)).toBe(false);
    expect(eptLeafPfn(lo, 0, 1)).toBe(0x40201);
    // Bit 7 without R/W/X is not present, so not a leaf.
    expect(eptIsLargeLeaf(EPT_LO_LARGE, 2)).toBe(false);
  });

  it("EPTP: WB, 4-level, A/D on, root 0x5000 is 0x505e; 5-level is 0x5066", () => {
    const p4 = encodeEptp({ memType: EPT_MT.WB, levels: 4, adEnable: true, rootPfn: 5 });
    expect(W(p4.lo, p4.hi)).toBe(0x505en);
    expect(p4.lo & 0x38).toBe(EPTP_PWL_4);
    expect(p4.lo & 0x40).toBe(EPTP_AD_ENABLE);
    const p5 = encodeEptp({ memType: EPT_MT.WB, levels: 5, adEnable: true, rootPfn: 5 });
    expect(W(p5.lo, p5.hi)).toBe(0x5066n);
    expect(p5.lo & 0x38).toBe(EPTP_PWL_5);
    expect(decodeEptp(p5.lo, p5.hi)).toEqual({ memType: 6, levels: 5, adEnable: true, rootPfn: 5 });
  });
});

describe("EPT entry properties", () => {
  test.prop([u32, u32])("hot-path readers agree with bigint extraction", (lo, hi) => {
    const w = W(lo, hi);
    expect(eptReadable(lo)).toBe(field(w, 0, 1) === 1n);
    expect(eptWritable(lo)).toBe(field(w, 1, 1) === 1n);
    expect(eptExecutable(lo)).toBe(field(w, 2, 1) === 1n);
    expect(eptPresent(lo)).toBe(field(w, 0, 3) !== 0n);
    expect(BigInt(eptMemType(lo))).toBe(field(w, 3, 3));
    expect(eptIgnorePat(lo)).toBe(field(w, 6, 1) === 1n);
    expect(eptLarge(lo)).toBe(field(w, 7, 1) === 1n);
    expect(eptAccessed(lo)).toBe(field(w, 8, 1) === 1n);
    expect(eptDirty(lo)).toBe(field(w, 9, 1) === 1n);
    expect(eptUserExecutable(lo)).toBe(field(w, 10, 1) === 1n);
    expect(BigInt(eptPfn(lo, hi))).toBe(field(w, 12, 40));
    expect(eptSuppressVe(hi)).toBe(field(w, 63, 1) === 1n);
  });

  test.prop([u32, u32, level])("eptLeafPfn masks 9 or 18 frame bits only for a large entry at level 2 or 3", (lo, hi, l) => {
    const w = W(lo, hi);
    const large = field(w, 7, 1) === 1n;
    const shift = large && (l === 2 || l === 3) ? (l === 2 ? 21n : 30n) : 12n;
    const addr = w & ((1n << 52n) - 1n) & ~((1n << shift) - 1n);
    expect(BigInt(eptLeafPfn(lo, hi, l))).toBe(addr >> 12n);
  });

  test.prop([pfn40, fc.integer({ min: 0, max: 0x7ff }), fc.boolean()])("eptEncodeLo/Hi agree with bigint construction", (pfn, flags, sve) => {
    const lo = eptEncodeLo(pfn, flags);
    const hi = eptEncodeHi(pfn, sve);
    expect(W(lo, hi)).toBe((BigInt(pfn) << 12n) | BigInt(flags) | (sve ? 1n << 63n : 0n));
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeGreaterThanOrEqual(0);
  });

  test.prop([u32, u32])("encode(decode(w)) == w except the ignored bits 11 and 52..62", (lo, hi) => {
    expect(encodeEptPte(decodeEptPte(lo, hi))).toEqual({
      lo: (lo & ~EPT_LO_IGNORED_MASK) >>> 0,
      hi: (hi & ~EPT_HI_IGNORED_MASK) >>> 0,
    });
  });

  it("ignored masks are bit 11 and bits 52..62", () => {
    expect(W(EPT_LO_IGNORED_MASK, 0)).toBe(1n << 11n);
    expect(W(0, EPT_HI_IGNORED_MASK)).toBe(0x7ffn << 52n);
  });

  const pte: fc.Arbitrary<EptPte> = fc.record({
    read: fc.boolean(),
    write: fc.boolean(),
    exec: fc.boolean(),
    memType: fc.integer({ min: 0, max: 7 }),
    ignorePat: fc.boolean(),
    large: fc.boolean(),
    accessed: fc.boolean(),
    dirty: fc.boolean(),
    userExec: fc.boolean(),
    pfn: pfn40,
    suppressVe: fc.boolean(),
  });

  test.prop([pte])("decode(encode(e)) == e", (e) => {
    const { lo, hi } = encodeEptPte(e);
    expect(decodeEptPte(lo, hi)).toEqual(e);
  });

  test.prop([fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 8 }), fc.boolean(), pfn40])(
    "EPTP round-trip and bigint layout",
    (memType, levels, adEnable, rootPfn) => {
      const p = { memType, levels, adEnable, rootPfn };
      const { lo, hi } = encodeEptp(p);
      expect(decodeEptp(lo, hi)).toEqual(p);
      const w = W(lo, hi);
      expect(field(w, 0, 3)).toBe(BigInt(memType));
      expect(field(w, 3, 3)).toBe(BigInt(levels - 1));
      expect(field(w, 6, 1)).toBe(adEnable ? 1n : 0n);
      expect(field(w, 12, 40)).toBe(BigInt(rootPfn));
    },
  );
});

// Tests for model/formats/amd-dte.ts against bigint field extraction.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  DTE_MODELED,
  decodeDte,
  describeDte,
  dteBlocked,
  dteDomainId,
  dteIotlb,
  dteIr,
  dteIw,
  dteKind,
  dteMode,
  dtePassthrough,
  dteRootPfn,
  dteTranslate,
  dteTranslationValid,
  dteValid,
  encodeDte,
  type AmdDte,
  type DteWords,
} from "../../model/formats/amd-dte.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const words = fc.tuple(u32, u32, u32, u32);

const W = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const field = (w: bigint, pos: number, width: number): bigint => (w >> BigInt(pos)) & ((1n << BigInt(width)) - 1n);
const data = (d: DteWords): [bigint, bigint] => [W(d[0], d[1]), W(d[2], d[3])];

describe("DTE known answers", () => {
  it("passthrough is V|TV|IR|IW with Mode 0", () => {
    const d = dtePassthrough(7);
    expect(data(d)).toEqual([0x6000000000000003n, 7n]);
    expect(dteKind(d)).toBe("passthrough");
    expect(describeDte(d)).toBe("passthrough DomainID 7 IR IW");
  });

  it("translate: root | mode << 9 | IR | IW | V | TV, domain id in data[1]", () => {
    const d = dteTranslate(3, 0x1234, 3);
    expect(data(d)).toEqual([0x6000000001234603n, 3n]);
    expect(dteKind(d)).toBe("translate");
    expect(describeDte(d)).toBe("translate DomainID 3 mode 3 root pfn 0x1234 IR IW");
    const six = dteTranslate(0xffff, 2 ** 40 - 1, 6);
    expect(data(six)).toEqual([0x600ffffffffffc03n, 0xffffn]);
  });

  it("blocked: V|TV, Mode 0, no IR/IW", () => {
    const d = dteBlocked(9);
    expect(data(d)).toEqual([3n, 9n]);
    expect(dteKind(d)).toBe("blocked");
  });

  it("IOTLB (ATS) is data[1] bit 32", () => {
    const d = encodeDte({ ...decodeDte(dteTranslate(1, 5, 3)), iotlb: true });
    expect(data(d)[1]).toBe((1n << 32n) | 1n);
    expect(describeDte(d)).toContain("ATS");
  });

  it("V = 0 passes untranslated, TV = 0 blocks, Mode 7 is invalid", () => {
    // QEMU hw/i386/amd_iommu.c amdvi_as_to_dte and amdvi_page_walk.
    const base: AmdDte = { valid: true, translationValid: true, mode: 3, rootPfn: 1, ir: true, iw: true, domainId: 1, iotlb: false };
    expect(dteKind(encodeDte({ ...base, valid: false }))).toBe("passthrough");
    expect(dteKind(encodeDte({ ...base, translationValid: false }))).toBe("blocked");
    expect(dteKind(encodeDte({ ...base, mode: 7 }))).toBe("invalid");
    expect(dteKind([0, 0, 0, 0])).toBe("passthrough");
    expect(dteKind([])).toBe("passthrough");
    // Mode 0 with only one permission still passes DMA through (for that direction).
    expect(dteKind(encodeDte({ ...base, mode: 0, iw: false }))).toBe("passthrough");
  });

  it("domain id round-trips for all 0..0xffff", () => {
    const wrong: number[] = [];
    for (let id = 0; id <= 0xffff; id++) {
      if (decodeDte(dteTranslate(id, 0x42, 4)).domainId !== id || dteDomainId(dteBlocked(id)[2]) !== id) wrong.push(id);
    }
    expect(wrong).toEqual([]);
    expect(decodeDte(dteTranslate(0x10000, 0x42, 4)).domainId).toBe(0); // only 16 bits are stored
  });

  it("a Uint32Array works as words", () => {
    const buf = new Uint32Array(dtePassthrough(2));
    expect(dteKind(buf)).toBe("passthrough");
    expect(decodeDte(buf).domainId).toBe(2);
  });
});

describe("DTE properties", () => {
  test.prop([words])("readers agree with bigint extraction", (d) => {
    const [d0, d1] = data(d);
    expect(dteValid(d[0])).toBe(field(d0, 0, 1) === 1n);
    expect(dteTranslationValid(d[0])).toBe(field(d0, 1, 1) === 1n);
    expect(BigInt(dteMode(d[0]))).toBe(field(d0, 9, 3));
    expect(BigInt(dteRootPfn(d[0], d[1]))).toBe(field(d0, 12, 40));
    expect(dteIr(d[1])).toBe(field(d0, 61, 1) === 1n);
    expect(dteIw(d[1])).toBe(field(d0, 62, 1) === 1n);
    expect(BigInt(dteDomainId(d[2]))).toBe(field(d1, 0, 16));
    expect(dteIotlb(d[3])).toBe(field(d1, 32, 1) === 1n);
  });

  test.prop([words])("encode(decode(w)) == w restricted to modelled bits", (d) => {
    expect(encodeDte(decodeDte(d))).toEqual(d.map((x, i) => (x & DTE_MODELED[i]) >>> 0));
  });

  const dte: fc.Arbitrary<AmdDte> = fc.record({
    valid: fc.boolean(),
    translationValid: fc.boolean(),
    mode: fc.integer({ min: 0, max: 7 }),
    rootPfn: fc.integer({ min: 0, max: 2 ** 40 - 1 }),
    ir: fc.boolean(),
    iw: fc.boolean(),
    domainId: fc.integer({ min: 0, max: 0xffff }),
    iotlb: fc.boolean(),
  });

  test.prop([dte])("decode(encode(e)) == e", (e) => {
    expect(decodeDte(encodeDte(e))).toEqual(e);
  });

  test.prop([fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 40 - 1 }), fc.integer({ min: 1, max: 6 })])(
    "helpers decode to their kind",
    (id, root, mode) => {
      expect(dteKind(dtePassthrough(id))).toBe("passthrough");
      expect(dteKind(dteBlocked(id))).toBe("blocked");
      expect(dteKind(dteTranslate(id, root, mode))).toBe("translate");
      expect(decodeDte(dteTranslate(id, root, mode))).toEqual({
        valid: true,
        translationValid: true,
        mode,
        rootPfn: root,
        ir: true,
        iw: true,
        domainId: id,
        iotlb: false,
      });
    },
  );

  test.prop([words])("dteKind matches a bigint classification", (d) => {
    const [d0] = data(d);
    const v = field(d0, 0, 1) === 1n;
    const tv = field(d0, 1, 1) === 1n;
    const mode = field(d0, 9, 3);
    const perm = field(d0, 61, 2) !== 0n;
    const expected = !v ? "passthrough" : !tv ? "blocked" : mode === 7n ? "invalid" : mode !== 0n ? "translate" : perm ? "passthrough" : "blocked";
    expect(dteKind(d)).toBe(expected);
  });
});

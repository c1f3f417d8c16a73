// Tests for model/formats/amd-command.ts. The oracle transcribes Linux's
// build_inv_address (drivers/iommu/amd/iommu.c) into bigint.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  CMD_BUFFER_ENTRIES,
  CMD_BUFFER_SIZE,
  CMD_COMPL_WAIT,
  CMD_INV_ALL,
  CMD_INV_DEV_ENTRY,
  CMD_INV_IOMMU_PAGES,
  CMD_INV_IOTLB_PAGES,
  INV_PAGES_ALL,
  buildCompletionWait,
  buildInvAll,
  buildInvalidateAll,
  buildInvalidateDevEntry,
  buildInvalidateIommuPages,
  buildInvalidateIotlbPages,
  cmdDomainId,
  cmdOpcode,
  decodeCommand,
  describeCommand,
  invEncodedPfn,
  invRangeAll,
  invRangeFirstPfn,
  invRangePages,
} from "../../model/formats/amd-command.ts";

const MASK64 = (1n << 64n) - 1n;
const PAGE_MASK = MASK64 & ~0xfffn;
const CMD_INV_IOMMU_ALL_PAGES_ADDRESS = 0x7fffffffffffffffn;

const bitLength = (x: bigint): number => (x === 0n ? 0 : x.toString(2).length);

/** Linux build_inv_address(address, size). */
function linuxBuildInvAddress(address: bigint, size: bigint): bigint {
  const pages = ((address & 0xfffn) + size + 0xfffn) >> 12n; // iommu_num_pages
  if (pages === 1n) return address & PAGE_MASK;
  const end = (address + size - 1n) & MASK64;
  const msbDiff = bitLength(end ^ address) - 1;
  let a = address;
  if (msbDiff > 51) a = CMD_INV_IOMMU_ALL_PAGES_ADDRESS;
  else a |= (1n << BigInt(msbDiff)) - 1n;
  a &= PAGE_MASK;
  a |= 1n; // CMD_INV_IOMMU_PAGES_SIZE_MASK
  return a;
}

/** What the hardware invalidates for a data[2..3] address, by the spec rule, in bigint. */
function hwRange(addr: bigint): { first: bigint; pages: bigint } {
  if ((addr & 1n) === 0n) return { first: addr >> 12n, pages: 1n };
  let t = 0n;
  while (t < 52n && ((addr >> (12n + t)) & 1n) === 1n) t++;
  if (t >= 51n) return { first: 0n, pages: 1n << 52n };
  const pages = 1n << (t + 1n);
  return { first: (addr >> 12n) & ~(pages - 1n), pages };
}

const W = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const TWO52 = 2 ** 52;

/** A page range inside the 64-bit IOVA space, with log-uniform length and boundary-hugging starts. */
const range = fc
  .tuple(
    fc.integer({ min: 0, max: 52 }).chain((k) => fc.integer({ min: 1, max: 2 ** k })),
    fc.oneof(
      fc.integer({ min: 0, max: TWO52 - 1 }),
      fc.tuple(fc.integer({ min: 1, max: 52 }), fc.integer({ min: -4, max: 4 })).map(([j, d]) => Math.max(0, 2 ** j + d)),
    ),
  )
  .map(([pages, start]) => {
    const n = Math.min(pages, TWO52);
    return { first: Math.min(start, TWO52 - n), pages: n };
  });

describe("command encodings (known answers)", () => {
  it("constants", () => {
    expect([CMD_COMPL_WAIT, CMD_INV_DEV_ENTRY, CMD_INV_IOMMU_PAGES, CMD_INV_IOTLB_PAGES, CMD_INV_ALL]).toEqual([1, 2, 3, 4, 8]);
    expect(CMD_BUFFER_ENTRIES * 16).toBe(CMD_BUFFER_SIZE);
    expect(INV_PAGES_ALL).toBe(2 ** 52);
  });

  it("COMPLETION_WAIT", () => {
    const c = buildCompletionWait(0x56789ab8, 0xf1234, 0xdeadbeef, 0x1);
    expect(c).toEqual([0x56789ab9, 0x100f1234, 0xdeadbeef, 0x1]);
    expect(cmdOpcode(c[1])).toBe(CMD_COMPL_WAIT);
    expect(decodeCommand(...c)).toEqual({
      op: "COMPLETION_WAIT",
      store: true,
      interrupt: false,
      storeAddrLo: 0x56789ab8,
      storeAddrHi: 0xf1234,
      valueLo: 0xdeadbeef,
      valueHi: 1,
    });
    expect(describeCommand(...c)).toBe("COMPLETION_WAIT store 0x000f123456789ab8 <- 0x00000001deadbeef");
    // Address bits 2..0 are flag space; a high address cannot clobber the opcode.
    const d = buildCompletionWait(0xffffffff, 0xffffffff, 0, 0);
    expect(d[0]).toBe(0xfffffff9);
    expect(cmdOpcode(d[1])).toBe(CMD_COMPL_WAIT);
  });

  it("one page has S = 0 and the page address", () => {
    const c = buildInvalidateIommuPages(1, 0x1f8, 1, true);
    expect(c).toEqual([0, 0x30000001, 0x1f8002, 0]);
    expect(decodeCommand(...c)).toEqual({
      op: "INVALIDATE_IOMMU_PAGES",
      domainId: 1,
      pde: true,
      s: false,
      gn: false,
      firstPfn: 0x1f8,
      pages: 1,
      all: false,
    });
    expect(describeCommand(...c)).toBe("INVALIDATE_IOMMU_PAGES DomainID 1 iova 0x1f8000 +1 page PDE");
  });

  it("pages [0x1f8, 0x200) encode as an aligned 8-page block", () => {
    const c = buildInvalidateIommuPages(1, 0x1f8, 8, true);
    // address 0x1f8000 | (1 << 14) - 1 = 0x1fbfff, & PAGE_MASK, | S | PDE
    expect(c).toEqual([0, 0x30000001, 0x1fb003, 0]);
    expect(W((c[2] & ~2) >>> 0, c[3])).toBe(linuxBuildInvAddress(0x1f8000n, 8n * 4096n));
    expect(invRangeFirstPfn(c[2], c[3])).toBe(0x1f8);
    expect(invRangePages(c[2], c[3])).toBe(8);
    expect(describeCommand(...c)).toBe("INVALIDATE_IOMMU_PAGES DomainID 1 iova 0x1f8000 +8 pages PDE");
  });

  it("[0x1ff, 0x201) crosses a 512-page boundary: it covers the 1024-page block [0, 0x400)", () => {
    const c = buildInvalidateIommuPages(1, 0x1ff, 2, true);
    expect(c[2]).toBe(0x1ff003); // bits 20..12 = 1 1111 1111, bit 21 = 0
    expect(c[3]).toBe(0);
    expect(invRangeFirstPfn(c[2], c[3])).toBe(0);
    expect(invRangePages(c[2], c[3])).toBe(0x400);
  });

  it("a 2-page range inside a 4-page block", () => {
    const c = buildInvalidateIommuPages(2, 0x1fd, 2, false);
    // first 0x1fd, last 0x1fe: differ at bit 1 -> aligned 4-page block 0x1fc..0x1ff
    expect(c[2]).toBe(0x1fd001);
    expect(invRangeFirstPfn(c[2], c[3])).toBe(0x1fc);
    expect(invRangePages(c[2], c[3])).toBe(4);
    expect(describeCommand(...c)).toBe("INVALIDATE_IOMMU_PAGES DomainID 2 iova 0x1fc000 +4 pages");
  });

  it("an IOVA above 4 GiB splits the address across data[2] and data[3]", () => {
    const first = 0x123456789; // IOVA 0x123456789000
    const c = buildInvalidateIommuPages(0xffff, first, 16, true);
    expect(W(c[2], c[3])).toBe(linuxBuildInvAddress(BigInt(first) << 12n, 16n * 4096n) | 2n);
    expect(cmdDomainId(c[1])).toBe(0xffff);
    expect(invRangeFirstPfn(c[2], c[3])).toBe(0x123456780);
    expect(invRangePages(c[2], c[3])).toBe(32); // 0x789..0x798 straddles 0x790
  });

  it("domain flush-all is the all-pages address with S and PDE", () => {
    const c = buildInvalidateAll(5);
    expect(c).toEqual([0, 0x30000005, 0xfffff003, 0x7fffffff]);
    // Same as build_inv_address(0, CMD_INV_IOMMU_ALL_PAGES_ADDRESS) from amd_iommu_domain_flush_all.
    expect(W((c[2] & ~2) >>> 0, c[3])).toBe(linuxBuildInvAddress(0n, CMD_INV_IOMMU_ALL_PAGES_ADDRESS));
    expect(decodeCommand(...c)).toMatchObject({ op: "INVALIDATE_IOMMU_PAGES", domainId: 5, firstPfn: 0, pages: INV_PAGES_ALL, all: true });
    expect(describeCommand(...c)).toBe("INVALIDATE_IOMMU_PAGES DomainID 5 all PDE");
    expect(buildInvalidateIommuPages(5, 0, TWO52, true)).toEqual(c);
  });

  it("ranges wider than 2^52 bytes, or crossing a 2^52-byte boundary, give the all-pages address", () => {
    const wide = buildInvalidateIommuPages(1, 0, 2 ** 40 + 1, true);
    expect(invRangeAll(wide[2], wide[3])).toBe(true);
    const crossing = buildInvalidateIommuPages(1, 2 ** 40 - 1, 2, true);
    expect([crossing[2], crossing[3]]).toEqual([0xfffff003, 0x7fffffff]);
    // 2^51 bytes + one page inside an aligned 2^52-byte block: not all.
    const big = buildInvalidateIommuPages(1, 0, 2 ** 39 + 1, true);
    expect(invRangeAll(big[2], big[3])).toBe(false);
    expect(invRangePages(big[2], big[3])).toBe(2 ** 40);
  });

  it("INVALIDATE_IOTLB_PAGES: devid in data[0] and data[1], same address encoding, no PDE", () => {
    const c = buildInvalidateIotlbPages(0x10, 0x1f8, 8);
    expect(c).toEqual([0x10, 0x40000010, 0x1fb001, 0]);
    expect(decodeCommand(...c)).toEqual({ op: "INVALIDATE_IOTLB_PAGES", devId: 0x10, qdep: 0, s: true, firstPfn: 0x1f8, pages: 8, all: false });
    expect(describeCommand(...c)).toBe("INVALIDATE_IOTLB_PAGES dev 0x10 iova 0x1f8000 +8 pages");
    expect(buildInvalidateIotlbPages(0x10, 0, 1, 32)[0]).toBe(0x20000010);
  });

  it("other opcodes", () => {
    expect(decodeCommand(...buildInvalidateDevEntry(0x1234))).toEqual({ op: "INVALIDATE_DEVTAB_ENTRY", devId: 0x1234 });
    expect(describeCommand(...buildInvalidateDevEntry(0x1234))).toBe("INVALIDATE_DEVTAB_ENTRY dev 0x1234");
    expect(buildInvAll()).toEqual([0, 0x80000000, 0, 0]);
    expect(decodeCommand(...buildInvAll())).toEqual({ op: "INVALIDATE_ALL" });
    expect(decodeCommand(0, 0x50000000, 0, 0)).toEqual({ op: "UNKNOWN", opcode: 5 });
    expect(describeCommand(0, 0xf0000000, 0, 0)).toBe("UNKNOWN opcode 0xf");
  });

  it("degenerate page counts are one page", () => {
    expect(invEncodedPfn(7, 0)).toBe(7);
    expect(invEncodedPfn(7, Number.NaN)).toBe(7);
    expect(buildInvalidateIommuPages(1, 7, 0, true)[2] & 1).toBe(0);
  });
});

describe("command properties", () => {
  test.prop([range, fc.integer({ min: 0, max: 0xffff }), fc.boolean()])(
    "data[2..3] equal Linux build_inv_address | PDE",
    ({ first, pages }, dom, pde) => {
      const c = buildInvalidateIommuPages(dom, first, pages, pde);
      const expected = linuxBuildInvAddress(BigInt(first) << 12n, BigInt(pages) << 12n) | (pde ? 2n : 0n);
      expect(W(c[2], c[3])).toBe(expected);
      expect(c[0]).toBe(0);
      expect(c[1]).toBe((0x30000000 | dom) >>> 0);
      const t = buildInvalidateIotlbPages(dom, first, pages);
      expect(W(t[2], t[3])).toBe(expected & ~2n);
    },
  );

  test.prop([range])("covered block is aligned, contains the request, and is the smallest such block", ({ first, pages }) => {
    const c = buildInvalidateIommuPages(1, first, pages, true);
    const f = invRangeFirstPfn(c[2], c[3]);
    const n = invRangePages(c[2], c[3]);
    const last = first + pages - 1;
    // A power of two, aligned, containing [first, last].
    expect(Number.isInteger(Math.log2(n))).toBe(true);
    expect(f % n).toBe(0);
    expect(f).toBeLessThanOrEqual(first);
    expect(last).toBeLessThanOrEqual(f + n - 1);
    // All-pages exactly when the smallest block would exceed 2^40 pages (msb_diff > 51).
    const all = Math.floor(first / 2 ** 40) !== Math.floor(last / 2 ** 40);
    expect(invRangeAll(c[2], c[3])).toBe(all);
    // Otherwise smallest: the aligned half containing `first` does not contain `last`.
    if (!all && n > 1) expect(Math.floor(first / (n / 2))).not.toBe(Math.floor(last / (n / 2)));
    expect(decodeCommand(...c)).toMatchObject({ firstPfn: f, pages: n, all: n === INV_PAGES_ALL });
  });

  test.prop([u32, u32])("decoded range agrees with the bigint hardware rule on any address", (d2, d3) => {
    const { first, pages } = hwRange(W(d2, d3));
    expect(BigInt(invRangeFirstPfn(d2, d3))).toBe(first);
    expect(BigInt(invRangePages(d2, d3))).toBe(pages);
    expect(invRangeAll(d2, d3)).toBe(pages === 1n << 52n);
  });

  test.prop([u32, u32, u32, u32])("decode and describe are total", (d0, d1, d2, d3) => {
    const c = decodeCommand(d0, d1, d2, d3);
    expect(c.op).toBeTypeOf("string");
    expect(describeCommand(d0, d1, d2, d3)).toBeTypeOf("string");
    expect(cmdOpcode(d1)).toBeLessThan(16);
  });
});

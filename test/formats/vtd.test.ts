// Known-answer tests for the VT-d formats (model/formats/vtd-*.ts). The
// oracles transcribe Linux drivers/iommu/intel/iommu.h macros and dmar.c /
// cache.c functions into bigint; the expected constants are worked by hand
// from those macros.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { toBigInt } from "../../model/formats/word64.ts";
import { buildRootEntry, rootCtpPfn, rootPresent } from "../../model/formats/vtd-root-entry.ts";
import {
  AGAW_48, AGAW_57, CONTEXT_TT_DEV_IOTLB, CONTEXT_TT_MULTI_LEVEL, CONTEXT_TT_PASS_THROUGH, agawToLevel, agawToWidth, buildContextEntry,
  decodeContextEntry, describeContextEntry, widthToAgaw,
} from "../../model/formats/vtd-context-entry.ts";
import { slAddrPfn, slPdeHi, slPdeLo, slPresent, slPs, slPteHi, slPteLo, slR, slSnp, slW } from "../../model/formats/vtd-sl-pte.ts";
import {
  GRAN_DOMAIN, GRAN_GLOBAL, GRAN_PAGE, QI_DONE, VTD_MAMV, buildContextCacheInv, buildDevIotlbInv, buildInvWait, buildIotlbInv, descDid, descGran,
  descType, describeDescriptor, devIotlbFirstPfn, devIotlbPages, devIotlbSid, iotlbAm, iotlbFirstPfn, iotlbIh, iwdStatusAddr, iwdStatusData, psiAligned,
} from "../../model/formats/vtd-descriptor.ts";

const q = (w: readonly number[]): [bigint, bigint] => [toBigInt(w[0], w[1]), toBigInt(w[2], w[3])];

describe("root entry (Linux iommu.h root_entry_lctp; iommu.c iommu_context_addr)", () => {
  it("is the context table's physical address | 1", () => {
    const w = buildRootEntry(0x12345);
    expect(q(w)).toEqual([0x12345001n, 0n]);
    expect(rootPresent(w[0])).toBe(true);
    expect(rootCtpPfn(w[0], w[1])).toBe(0x12345);
  });
  it("a not-present entry has no context table", () => {
    expect(rootCtpPfn(0x12345000, 0)).toBe(-1);
  });
});

describe("context entry (Linux context_set_*; domain_context_mapping_one)", () => {
  it("translated, DID 1, 4-level: lo = SLPTPTR | P, hi = DID << 8 | AW", () => {
    const w = buildContextEntry({ present: true, fpd: false, tt: CONTEXT_TT_MULTI_LEVEL, slptPfn: 0x100, aw: AGAW_48, domainId: 1 });
    expect(q(w)).toEqual([0x100001n, 0x102n]);
    expect(describeContextEntry(w)).toContain("4-level");
  });
  it("ATS: TT = CONTEXT_TT_DEV_IOTLB (lo bits 3..2 = 01)", () => {
    const w = buildContextEntry({ present: true, fpd: false, tt: CONTEXT_TT_DEV_IOTLB, slptPfn: 0x7, aw: AGAW_57, domainId: 0xabcd });
    expect(q(w)).toEqual([0x7005n, 0xabcd03n]);
    expect(decodeContextEntry(w)).toEqual({ present: true, fpd: false, tt: 1, slptPfn: 7, aw: 3, domainId: 0xabcd });
  });
  it("pass-through: TT 2 (lo = 0x9 with P), FPD is bit 1", () => {
    const w = buildContextEntry({ present: true, fpd: true, tt: CONTEXT_TT_PASS_THROUGH, slptPfn: 0, aw: AGAW_48, domainId: 2 });
    expect(q(w)).toEqual([0xbn, 0x202n]);
  });
  it("AGAW: agaw_to_level = agaw + 2, agaw_to_width = 30 + 9 agaw, width_to_agaw(48) = 2, (57) = 3", () => {
    expect([agawToLevel(AGAW_48), agawToWidth(AGAW_48), widthToAgaw(48)]).toEqual([4, 48, 2]);
    expect([agawToLevel(AGAW_57), agawToWidth(AGAW_57), widthToAgaw(57)]).toEqual([5, 57, 3]);
  });
});

describe("second-level PTE (Linux struct dma_pte, DMA_PTE_*)", () => {
  it("directory entry: next table | R | W", () => {
    expect(toBigInt(slPdeLo(0x1234), slPdeHi(0x1234))).toBe(0x1234003n);
  });
  it("4 KiB leaf, read-only, SNP", () => {
    const lo = slPteLo(0xabcdef123, true, false, false, true), hi = slPteHi(0xabcdef123);
    expect(toBigInt(lo, hi)).toBe(0xabcdef123801n);
    expect([slPresent(lo), slR(lo), slW(lo), slPs(lo), slSnp(lo), slAddrPfn(lo, hi)]).toEqual([true, true, false, false, true, 0xabcdef123]);
  });
  it("2 MiB leaf: DMA_PTE_LARGE_PAGE bit 7", () => {
    expect(toBigInt(slPteLo(0x200, true, true, true), slPteHi(0x200))).toBe(0x200083n);
  });
  it("present means R or W (dma_pte_present: (val & 3) != 0)", () => {
    expect(slPresent(slPteLo(5, false, true))).toBe(true);
    expect(slPresent(slPteLo(5, false, false))).toBe(false);
  });
  test.prop([fc.integer({ min: 0, max: 2 ** 40 - 1 }), fc.boolean(), fc.boolean(), fc.boolean()])("address round-trips over bits 51..12", (pfn, r, w, ps) => {
    const lo = slPteLo(pfn, r, w, ps), hi = slPteHi(pfn);
    expect(slAddrPfn(lo, hi)).toBe(pfn);
    expect(toBigInt(lo, hi)).toBe((BigInt(pfn) << 12n) | (r ? 1n : 0n) | (w ? 2n : 0n) | (ps ? 0x80n : 0n));
  });
});

/** Linux cache.c calculate_psi_aligned_address, in bigint (start/end are byte addresses). */
function linuxPsi(start: bigint, end: bigint): { addr: bigint; mask: bigint } {
  const pages = ((start & 0xfffn) + (end - start + 1n) + 0xfffn) >> 12n; // aligned_nrpages
  let aligned = 1n;
  while (aligned < pages) aligned <<= 1n; // __roundup_pow_of_two
  let mask = BigInt(aligned.toString(2).length - 1); // ilog2
  const pfn = start >> 12n;
  const bitmask = aligned - 1n;
  if ((bitmask & pfn) !== 0n) {
    const endPfn = pfn + pages - 1n;
    const shared = ~(pfn ^ endPfn) & ~bitmask & ((1n << 64n) - 1n);
    let b = 0n;
    while (((shared >> b) & 1n) === 0n) b++;
    mask = shared !== 0n ? b : 52n;
  }
  return { addr: (start >> (12n + mask)) << (12n + mask), mask };
}

describe("page-selective alignment (Linux calculate_psi_aligned_address)", () => {
  it("known answers", () => {
    expect(psiAligned(0x1f8, 8)).toEqual({ addrPfn: 0x1f8, mask: 3 }); // aligned: AM 3
    expect(psiAligned(0x1f9, 2)).toEqual({ addrPfn: 0x1f8, mask: 2 }); // 0x1f9..0x1fa: rounded to 4 pages at 0x1f8
    expect(psiAligned(0x1ff, 2)).toEqual({ addrPfn: 0, mask: 10 }); // straddles 0x200: bits agree first at bit 10
    expect(psiAligned(0x5, 1)).toEqual({ addrPfn: 0x5, mask: 0 });
  });
  test.prop([fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 4096 })])("matches the bigint transcription", (first, pages) => {
    const r = linuxPsi(BigInt(first) << 12n, ((BigInt(first) + BigInt(pages)) << 12n) - 1n);
    expect(psiAligned(first, pages)).toEqual({ addrPfn: Number(r.addr >> 12n), mask: Number(r.mask) });
  });
  it("QEMU VTD_MAMV is 18", () => {
    expect(VTD_MAMV).toBe(18);
  });
});

describe("invalidation descriptors (Linux iommu.h QI_*; dmar.c qi_flush_*)", () => {
  it("IOTLB page-selective: qw0 = DID << 16 | PSI gran (3 << 4) | type 2; qw1 = addr | IH << 6 | AM", () => {
    const d = buildIotlbInv(GRAN_PAGE, 1, 0x1f8, 3, true);
    expect(q(d)).toEqual([0x10032n, 0x1f8043n]);
    expect([descType(d[0]), descGran(d[0]), descDid(d[0]), iotlbAm(d[2]), iotlbIh(d[2]), iotlbFirstPfn(d[2], d[3])]).toEqual([2, 3, 1, 3, true, 0x1f8]);
    expect(describeDescriptor(...d)).toBe("IOTLB_INV page DID 1 iova 0x1f8000 AM 3 (+8 pages) IH");
  });
  it("IOTLB domain-selective and global: DMA_TLB_DSI_FLUSH >> 56 = 0x20, DMA_TLB_GLOBAL_FLUSH >> 56 = 0x10; DW/DR bits 6/7", () => {
    expect(q(buildIotlbInv(GRAN_DOMAIN, 7))).toEqual([0x70022n, 0n]);
    expect(q(buildIotlbInv(GRAN_GLOBAL, 0, 0, 0, false, true))).toEqual([0xd2n, 0n]);
  });
  it("IOTLB address above 4 GiB uses qw1's high half", () => {
    const d = buildIotlbInv(GRAN_PAGE, 1, 0x123456789, 0);
    expect(q(d)[1]).toBe(0x123456789000n);
    expect(iotlbFirstPfn(d[2], d[3])).toBe(0x123456789);
  });
  it("context-cache: DMA_CCMD_GLOBAL_INVL >> 57 = 0x10, domain 0x20 with DID, device 0x30 with SID and FM at 48", () => {
    expect(q(buildContextCacheInv(GRAN_GLOBAL, 0))).toEqual([0x11n, 0n]);
    expect(q(buildContextCacheInv(2, 5))).toEqual([0x50021n, 0n]);
    expect(q(buildContextCacheInv(3, 5, 0x0108, 0))).toEqual([0x0000010800050031n, 0n]);
  });
  it("device-TLB: SID << 32, QDEP << 16, type 3; mask 3 -> addr | (1 << (12 + 2)) - 1, SIZE", () => {
    const d = buildDevIotlbInv(0x0002, 0x1f8, 3, 0);
    // addr 0x1f8000 | 0x3fff = 0x1fbfff, & VTD_PAGE_MASK = 0x1fb000, | SIZE
    expect(q(d)).toEqual([0x0000000200000003n, 0x1fb001n]);
    expect([devIotlbSid(d[1]), devIotlbFirstPfn(d[2], d[3]), devIotlbPages(d[2], d[3])]).toEqual([2, 0x1f8, 8]);
    expect(q(buildDevIotlbInv(0x0002, 0x1f9, 0, 5))).toEqual([0x0000000200050003n, 0x1f9000n]);
    expect(devIotlbPages(0x1f9000, 0)).toBe(1);
  });
  it("device-TLB: PFSID bits 15..12 and 63..52; QDEP >= QI_DEV_IOTLB_MAX_INVS is written as 0", () => {
    expect(q(buildDevIotlbInv(1, 0, 0, 32, 0x123))[0]).toBe((0x12n << 52n) | (1n << 32n) | (3n << 12n) | 3n);
  });
  it("invalidation wait: QI_IWD_STATUS_DATA(QI_DONE) | STATUS_WRITE | type 5; qw1 = status address", () => {
    const d = buildInvWait(0x7fff0010);
    expect(q(d)).toEqual([0x0000000200000025n, 0x7fff0010n]);
    expect([iwdStatusData(d[1]), iwdStatusAddr(d[2], d[3])]).toEqual([QI_DONE, 0x7fff0010]);
    expect(describeDescriptor(...d)).toBe("INV_WAIT status 0x000000007fff0010 <- 2");
  });
});

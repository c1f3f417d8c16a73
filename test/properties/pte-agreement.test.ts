/**
 * pte-agreement on the two encodings of shared morsel entries: every leaf
 * the sharing-safe encoding can write agrees for both walkers; the naive one
 * disagrees exactly where the formats conflict.
 */
import { describe, expect, it } from "vitest";
import { makeSystem } from "../../model/system.ts";
import { morsel } from "../../model/policies/morsel.ts";
import { morselCreate, morselFault, morselRoot } from "../../model/morsel.ts";
import { ptWrite } from "../../model/page-table-memory.ts";
import { X86_LO_ACCESSED, X86_LO_PRESENT, X86_LO_PSE, X86_LO_RW, X86_LO_USER, x86EncodeHi, x86EncodeLo } from "../../model/formats/x86-pte.ts";
import { findProperty } from "../../properties/index.ts";
import { config, txOn } from "../model/helpers.ts";

const pteAgreement = findProperty("pte-agreement")!;
const sys = makeSystem(config(), morsel);

/** pte-agreement's verdict on a level-1 morsel holding one page entered with these parameters. */
function verdict(enc: "naive" | "safe", cpuWrite: boolean, devRead: boolean, devWrite: boolean): string | null {
  const { tx, obs } = txOn(sys);
  morselCreate(tx, 0, 0, 1, 1, 0, obs);
  morselFault(tx, 0, 0, 0, 20, cpuWrite, devRead, devWrite, enc, obs);
  return pteAgreement.check(sys, sys.init, { t: "iommu" }, obs, tx.commit())?.message ?? null;
}

describe("pte-agreement and the shared-entry encodings", () => {
  it("the sharing-safe encoding agrees for every fault and direction; the naive one does not", () => {
    let naiveBad = 0;
    for (const cpuWrite of [false, true]) for (const devRead of [false, true]) for (const devWrite of [false, true]) {
      expect(verdict("safe", cpuWrite, devRead, devWrite), `safe ${cpuWrite} ${devRead} ${devWrite}`).toBeNull();
      if (verdict("naive", cpuWrite, devRead, devWrite) !== null) naiveBad++;
    }
    expect(naiveBad).toBe(6); // every write fault (soft-dirty), and every device-writable page the CPU has not written
  });

  it("naive: the kernel's soft-dirty bit reads as NextLevel 4; a device-writable page the CPU only read is writable for the IOMMU only", () => {
    expect(verdict("naive", true, true, false)).toMatch(/NextLevel 4 in bits 9..11, set by Linux's soft-dirty \(bit 11\)/);
    expect(verdict("naive", false, false, true)).toMatch(/grants write .* read-only/);
    expect(verdict("naive", false, true, false)).toBeNull(); // a read fault for a to-device page: no conflict
  });

  it("naive, in a 1 GiB morsel: _PAGE_SPECIAL on a 2 MiB leaf makes the IOMMU walk the data page as a page table", () => {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, 2, 0, 0, obs);
    const root = morselRoot(tx, 0, 0);
    // A 2 MiB leaf at frames 512..1023 with bit 9 (special) set, as pte_mkspecial would on a PFN map.
    ptWrite(tx, root, 3, x86EncodeLo(512, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | X86_LO_ACCESSED | X86_LO_PSE | (1 << 9)), x86EncodeHi(512, true, 12, 0));
    const msg = pteAgreement.check(sys, sys.init, { t: "iommu" }, obs, tx.commit())?.message;
    expect(msg).toMatch(/NextLevel 1 in bits 9..11, set by Linux's special \(bit 9\), as a pointer to a level-1 table at frame 512, so the IOMMU walks the data in frame 512 as a page table/);
  });

  it("a directory entry written as Linux writes it (NextLevel 0) is a 2 MiB leaf for the IOMMU: it maps the page table as data", () => {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, 2, 0, 0, obs);
    ptWrite(tx, morselRoot(tx, 0, 0), 0, x86EncodeLo(21, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER), x86EncodeHi(21, false, 0, 0));
    expect(pteAgreement.check(sys, sys.init, { t: "iommu" }, obs, tx.commit())?.message).toMatch(/pointer to the table at frame 21; the IOMMU reads NextLevel 0, a 2 MiB leaf/);
  });
});

/**
 * pte-agreement on the two encodings of shared morsel entries: every leaf
 * the sharing-safe encoding can write agrees for both walkers; the naive one
 * disagrees exactly where the formats conflict.
 */
import { describe, expect, it } from "vitest";
import { makeSystem } from "../../model/system.ts";
import { morsel } from "../../model/policies/morsel.ts";
import { morselCreate, morselFault, morselRoot } from "../../model/morsel.ts";
import { ptFind, ptWrite } from "../../model/page-table-memory.ts";
import { FRAMES, PTMEM } from "../../model/geometry.ts";
import { type State } from "../../model/state.ts";
import { X86_LO_ACCESSED, X86_LO_PAT_LARGE, X86_LO_PRESENT, X86_LO_PSE, X86_LO_RW, X86_LO_USER, x86EncodeHi, x86EncodeLo } from "../../model/formats/x86-pte.ts";
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

// The rules no encoding test reaches (issue 16): a leaf both walkers read as a
// leaf but of different frames, and a directory entry the IOMMU reads with
// another NextLevel than the one below the table's level.
describe("pte-agreement's leaf-frame and directory rules", () => {
  /** pte-agreement's verdict on a level-2 morsel whose root entry 3 is written as given. */
  function rootEntry(lo: number, hi: number): string | null {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, 2, 0, 0, obs);
    ptWrite(tx, morselRoot(tx, 0, 0), 3, lo, hi);
    return pteAgreement.check(sys, sys.init, { t: "iommu" }, obs, tx.commit())?.message ?? null;
  }
  const LEAF = X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | X86_LO_ACCESSED | X86_LO_PSE;

  it("a 2 MiB leaf with the PAT bit (bit 12, _PAGE_PAT_LARGE): the MMU maps frame 512, the IOMMU frame 513", () => {
    // The MMU clears bits 20..12 of a 2 MiB leaf's address; the IOMMU (NextLevel 0) takes them as address.
    expect(rootEntry((x86EncodeLo(512, LEAF) | X86_LO_PAT_LARGE) >>> 0, x86EncodeHi(512, true, 0, 0))).toMatch(
      /entry 3 of morsel table frame \d+ \(level 2\): the MMU maps frame 512, the IOMMU frame 513$/,
    );
    // Without it both read frame 512 (and the IOMMU grants no write: pkey 0).
    expect(rootEntry(x86EncodeLo(512, LEAF), x86EncodeHi(512, true, 0, 0))).toBeNull();
  });

  it("a leaf whose software bits read as NextLevel 7: a leaf of non-default size for the IOMMU", () => {
    expect(rootEntry(x86EncodeLo(512, LEAF | (7 << 9)), x86EncodeHi(512, true, 0, 0))).toMatch(
      /the MMU reads a leaf mapping frame 512; the IOMMU reads NextLevel 7 .* as a leaf of non-default size \(NextLevel 7\)$/,
    );
  });

  it("a 4 KiB leaf with Linux's special bit (bit 9) reads as NextLevel 1, which a level-1 table cannot hold", () => {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, 1, 1, 0, obs);
    ptWrite(tx, morselRoot(tx, 0, 0), 0, x86EncodeLo(20, X86_LO_PRESENT | X86_LO_USER | (1 << 9)), x86EncodeHi(20, true, 0, 0));
    expect(pteAgreement.check(sys, sys.init, { t: "iommu" }, obs, tx.commit())?.message).toMatch(
      /\(level 1\): the MMU reads a leaf mapping frame 20; the IOMMU reads NextLevel 1 .* special \(bit 9\), as a pointer to a level-1 table at frame 20, which a level-1 table cannot hold/,
    );
  });

  it("a directory entry the IOMMU reads with NextLevel 1 agrees; NextLevel 3 (software bits 9 and 10) does not", () => {
    const table = 21;
    expect(rootEntry(x86EncodeLo(table, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | (1 << 9)), x86EncodeHi(table, false, 0, 0))).toBeNull();
    expect(rootEntry(x86EncodeLo(table, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | (3 << 9)), x86EncodeHi(table, false, 0, 0))).toMatch(
      /entry 3 of morsel table frame \d+ \(level 2\): the MMU reads a pointer to the table at frame 21; the IOMMU reads NextLevel 3$/,
    );
  });

  it("a step that changed neither the entries nor the frames is not re-examined", () => {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, 2, 0, 0, obs);
    ptWrite(tx, morselRoot(tx, 0, 0), 3, x86EncodeLo(512, LEAF | (7 << 9)), x86EncodeHi(512, true, 0, 0));
    const bad = tx.commit();
    expect(pteAgreement.check(sys, bad, { t: "iommu" }, obs, bad)).toBeNull();
  });
});

describe("pte-agreement's antecedent", () => {
  const count = (pre: State, post: State): number => {
    const counts = new Float64Array(1);
    pteAgreement.antecedent!.count(sys, pre, { t: "iommu" }, txOn(sys).obs, post, counts, 0);
    return counts[0];
  };

  it("counts a change after which a shared morsel table holds a present entry, and nothing else", () => {
    const made = (shared: boolean, fault: boolean) => {
      const { tx, obs } = txOn(sys);
      morselCreate(tx, 0, 0, 1, 1, 0, obs, shared);
      if (fault) morselFault(tx, 0, 0, 0, 20, false, true, false, "safe", obs);
      return tx.commit();
    };
    expect(count(sys.init, made(true, true))).toBe(1);
    expect(count(sys.init, made(true, false))).toBe(0); // an empty shared table
    expect(count(sys.init, made(false, true))).toBe(0); // the CPU's own table: not shared
    const s = made(true, true);
    expect(count(s, s)).toBe(0); // nothing changed
  });
});

// What the rules above do not pin (issue 16, mutation testing): the
// violation's fields, the soft-bit names listed together, a level-3
// directory entry read as a leaf, entries the rule leaves alone (a table the
// CPU does not share with the IOMMU, a non-present entry such as a swap
// entry, whose bits neither walker reads), and a step that changed only the
// entries or only the frames.
describe("pte-agreement: fields, names, and what is not checked", () => {
  const LEAF = X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | X86_LO_ACCESSED | X86_LO_PSE;

  /** A morsel of `level` (span 1 at level 1) with entry `i` of its root written as given; the committed state and the root. */
  function written(level: number, i: number, lo: number, hi: number, shared = true) {
    const { tx, obs } = txOn(sys);
    morselCreate(tx, 0, 0, level, level === 1 ? 1 : 0, 0, obs, shared);
    const root = morselRoot(tx, 0, 0);
    const made = tx.commit();
    const t2 = txOn(sys, made);
    ptWrite(t2.tx, root, i, lo >>> 0, hi >>> 0);
    return { made, post: t2.tx.commit(), root };
  }
  const check = (pre: State, post: State) => pteAgreement.check(sys, pre, { t: "iommu" }, txOn(sys).obs, post);

  it("every kind of violation names pte-agreement and the morsel table's frame", () => {
    const cases = [
      written(2, 3, x86EncodeLo(512, LEAF | (7 << 9)), x86EncodeHi(512, true, 0, 0)), // NextLevel in a leaf
      written(2, 3, (x86EncodeLo(512, LEAF) | X86_LO_PAT_LARGE) >>> 0, x86EncodeHi(512, true, 0, 0)), // another frame
      written(2, 3, x86EncodeLo(512, X86_LO_PRESENT | X86_LO_USER | X86_LO_ACCESSED | X86_LO_PSE), x86EncodeHi(512, true, 8, 0)), // IW over read-only
      written(2, 0, x86EncodeLo(21, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | (3 << 9)), x86EncodeHi(21, false, 0, 0)), // directory
    ];
    const got = cases.map(({ made, post, root }) => {
      const v = check(made, post);
      expect(v?.property).toBe("pte-agreement");
      expect(v?.frame).toBe(root);
      return v!.message.replace(/^entry \d+ of morsel table frame \d+ \(level \d\): /, "");
    });
    expect(got[0]).toMatch(/^the MMU reads a leaf mapping frame 512; the IOMMU reads NextLevel 7/);
    expect(got[1]).toBe("the MMU maps frame 512, the IOMMU frame 513");
    expect(got[2]).toMatch(/^the IOMMU grants write \(IW, bit 62.*\) to frame 512, which the MMU maps read-only/);
    expect(got[3]).toBe("the MMU reads a pointer to the table at frame 21; the IOMMU reads NextLevel 3");
  });

  it("two software bits are named together", () => {
    const { made, post } = written(1, 0, x86EncodeLo(20, X86_LO_PRESENT | X86_LO_USER | (1 << 9) | (1 << 11)), x86EncodeHi(20, true, 0, 0));
    expect(check(made, post)?.message).toMatch(/NextLevel 5 in bits 9..11, set by Linux's special \(bit 9\) and soft-dirty \(bit 11\), as /);
    const uffd = written(1, 0, x86EncodeLo(20, X86_LO_PRESENT | X86_LO_USER | (1 << 9) | (1 << 10)), x86EncodeHi(20, true, 0, 0));
    expect(check(uffd.made, uffd.post)?.message).toMatch(/NextLevel 3 in bits 9..11, set by Linux's special \(bit 9\) and uffd-wp \(bit 10\), as /);
  });

  it("a level-3 directory entry with NextLevel 0 is a large leaf for the IOMMU", () => {
    const { made, post } = written(3, 0, x86EncodeLo(21, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER), x86EncodeHi(21, false, 0, 0));
    expect(check(made, post)?.message).toMatch(/\(level 3\): the MMU reads a pointer to the table at frame 21; the IOMMU reads NextLevel 0, a large leaf at frame 21: it maps the page table and its neighbours as data$/);
  });

  it("a table the CPU keeps to itself (not shared) is not checked, nor counted", () => {
    const { made, post } = written(2, 3, x86EncodeLo(512, LEAF | (7 << 9)), x86EncodeHi(512, true, 0, 0), false);
    expect(check(made, post)).toBeNull();
    const counts = new Float64Array(1);
    pteAgreement.antecedent!.count(sys, made, { t: "iommu" }, txOn(sys).obs, post, counts, 0);
    expect(counts[0]).toBe(0);
  });

  it("a non-present entry (a swap entry: any bits but Present) is not checked, nor counted", () => {
    const { made, post, root } = written(1, 0, (7 << 9) | X86_LO_RW, 0x12345);
    expect(ptFind(post[PTMEM], root, 0)).toBeGreaterThanOrEqual(0); // stored
    expect(check(made, post)).toBeNull();
    const counts = new Float64Array(1);
    pteAgreement.antecedent!.count(sys, made, { t: "iommu" }, txOn(sys).obs, post, counts, 0);
    expect(counts[0]).toBe(0);
  });

  it("a step that changed only the entries, or only the frames, is examined and counted", () => {
    const { made, post } = written(2, 3, x86EncodeLo(512, LEAF | (7 << 9)), x86EncodeHi(512, true, 0, 0));
    expect(post[FRAMES]).toBe(made[FRAMES]); // the write changed the entries only
    expect(check(made, post)).not.toBeNull();
    const framesOnly: State = post.map((c, i) => (i === FRAMES ? c.slice() : c));
    expect(check(framesOnly, post)).not.toBeNull();
    for (const pre of [made, framesOnly]) {
      const counts = new Float64Array(1);
      pteAgreement.antecedent!.count(sys, pre, { t: "iommu" }, txOn(sys).obs, post, counts, 0);
      expect(counts[0]).toBe(1);
    }
  });
});

// Known-answer tests for fidelity fixes found by auditing the model against
// Linux and QEMU (issue 12 part 4). Each case names the source of its answer.
import { describe, expect, it } from "vitest";
import { decodeDte, dteKind, encodeDte, dteTranslate, type DteWords } from "../../model/formats/amd-dte.ts";
import { amdLargeLeafHi, amdLargeLeafLo, amdPteHi, amdPteLo } from "../../model/formats/amd-v1-pte.ts";
import { x86Index, x86Pfn } from "../../model/formats/x86-pte.ts";
import { DTE, DTE_W, H_KERNEL_PML4, HDR, IOVA, makeGeometry, PT_W, PTMEM } from "../../model/geometry.ts";
import { allocIova, freeIova, iovaAllocated, iovaAllocPages, IOVA_RCACHE_LIMIT_PAGES } from "../../model/iova-allocator.ts";
import { tableIndex, walkFrom, WalkResult } from "../../model/iommu-page-table.ts";
import { KERNEL_LARGE_LO_FLAGS, PAGE_OFFSET_VPAGE } from "../../model/mmu.ts";
import { ptFind, ptWrite } from "../../model/page-table-memory.ts";
import { emptyState, Tx } from "../../model/state.ts";
import { deviceAccess, deviceMode, isPassthrough } from "../../model/iommu.ts";
import { FAULT_BLOCKED, FAULT_NONE, FAULT_PERMISSION, Observation, SRC_PASSTHROUGH } from "../../model/observation.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { config, freshTx, Runner, txOn } from "./helpers.ts";
import { type Event } from "../../model/events.ts";
import { C } from "../../model/counters.ts";
import { MAPS } from "../../model/geometry.ts";
import { mIova, mSegFrame } from "../../model/dma-mapping.ts";
import { decodeState } from "../../model/decode/state.ts";
import { amdNextLevel } from "../../model/formats/amd-v1-pte.ts";
import { iommuPageSizeOffered, walkMemory } from "../../model/iommu-page-table.ts";
import { Kernel } from "../../model/kernel.ts";
import { vfio, vfio4k } from "../../model/policies/vfio.ts";

/** Device 0 of a strict system with its DTE replaced by `words`; one access of 8 bytes at physical page 5. */
function accessWith(words: DteWords, write: boolean): Observation {
  const sys = makeSystem(config(), strict);
  const { tx } = txOn(sys);
  const d = tx.w(DTE);
  for (let i = 0; i < DTE_W; i++) d[i] = words[i] | 0;
  const obs = new Observation();
  deviceAccess(tx, 0, write, 5 * 4096 + 16, 8, obs);
  return obs;
}

const translating = decodeDte(dteTranslate(0, 0x1234, 3));

describe("AMD device table entry: what a DMA request through it does", () => {
  // QEMU hw/i386/amd_iommu.c amdvi_as_to_dte: "DTE[V] not set, address is
  // passed untranslated"; AMD IOMMU spec, Device Table Entry, V.
  it("V = 0 passes DMA untranslated, both directions", () => {
    const v0 = encodeDte({ ...translating, valid: false });
    expect(dteKind(v0)).toBe("passthrough");
    for (const write of [false, true]) {
      const obs = accessWith(v0, write);
      expect(obs.fault).toBe(FAULT_NONE);
      expect(Array.from(obs.segFrame.slice(0, obs.nseg))).toEqual([5]);
      expect(obs.segSource[0]).toBe(SRC_PASSTHROUGH);
    }
  });

  // QEMU amdvi_page_walk: "A DTE with V=1, TV=0 does not have a valid Page
  // Table Root Pointer ... terminates the walk".
  it("V = 1, TV = 0 blocks", () => {
    const tv0 = encodeDte({ ...translating, translationValid: false });
    expect(dteKind(tv0)).toBe("blocked");
    expect(accessWith(tv0, false).fault).toBe(FAULT_BLOCKED);
  });

  // AMD spec: Mode 0 forwards untranslated with the IR and IW permissions;
  // QEMU tests/qtest/amd-iommu-test.c tests IR = 1, IW = 0 and the reverse.
  it("Mode 0 with only IR reads but refuses writes; only IW the reverse", () => {
    const base = { ...translating, mode: 0, rootPfn: 0 };
    const irOnly = encodeDte({ ...base, ir: true, iw: false });
    const iwOnly = encodeDte({ ...base, ir: false, iw: true });
    expect(dteKind(irOnly)).toBe("passthrough");
    expect(accessWith(irOnly, false).fault).toBe(FAULT_NONE);
    expect(accessWith(irOnly, true).fault).toBe(FAULT_PERMISSION);
    expect(accessWith(iwOnly, true).fault).toBe(FAULT_NONE);
    expect(accessWith(iwOnly, false).fault).toBe(FAULT_PERMISSION);
    expect(accessWith(encodeDte({ ...base, ir: false, iw: false }), false).fault).toBe(FAULT_BLOCKED);
  });

  // QEMU amdvi_page_walk: mode >= 7 is invalid, the request is not translated.
  it("reserved Mode 7 faults", () => {
    const m7 = encodeDte({ ...translating, mode: 7 });
    expect(dteKind(m7)).toBe("invalid");
    expect(accessWith(m7, false).fault).toBe(FAULT_BLOCKED);
  });

  it("the hot path and the classifier agree on every V, TV, Mode, IR, IW", () => {
    const sys = makeSystem(config(), strict);
    for (let bits = 0; bits < 2 ** 7; bits++) {
      const words = encodeDte({
        ...translating, valid: (bits & 1) !== 0, translationValid: (bits & 2) !== 0,
        mode: (bits >>> 2) & 7, ir: (bits & 32) !== 0, iw: (bits & 64) !== 0,
      });
      const { tx } = txOn(sys);
      const d = tx.w(DTE);
      for (let i = 0; i < DTE_W; i++) d[i] = words[i] | 0;
      expect(isPassthrough(tx.c[DTE], 0)).toBe(dteKind(words) === "passthrough");
      expect(deviceMode(tx.c[DTE], 0)).toBe(dteKind(words));
    }
  });
});

describe("AMD v1 tables: no translation entry at the top level", () => {
  // AMD IOMMU spec Table 15; Linux drivers/iommu/generic_pt/fmt/amdv1.h
  // amdv1pt_can_have_leaf: "The top most level cannot have translation entries".
  function ptTx(): Tx {
    const g = makeGeometry(config());
    const tx = new Tx(g);
    tx.begin(emptyState(g));
    return tx;
  }

  it("a leaf (NextLevel 0 or 7) in a level-6 table faults; the same leaf at level 5 translates", () => {
    const tx = ptTx();
    const root = 100;
    const leaves = [
      { lo: amdPteLo(7), hi: amdPteHi(7, true, true, false) },
      { lo: amdLargeLeafLo(0, 21), hi: amdLargeLeafHi(0, 21, true, true) },
    ];
    for (const leaf of leaves) {
      ptWrite(tx, root, tableIndex(0, 6), leaf.lo, leaf.hi);
      expect(walkFrom(tx.c[PTMEM], root, 6, 0, true, true, new WalkResult()).frame).toBe(-1);
      ptWrite(tx, root, tableIndex(0, 5), leaf.lo, leaf.hi);
      expect(walkFrom(tx.c[PTMEM], root, 5, 0, true, true, new WalkResult()).frame).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("kernel page-table entries carry A and D as Linux writes them", () => {
  // arch/x86/include/asm/pgtable_types.h: __PAGE_KERNEL_LARGE is P|RW|A|D|PSE|G
  // with NX (the 0x1e3 of head_64.S's early mappings, with NX);
  // _KERNPG_TABLE is P|RW|A|D = 0x063, _PAGE_TABLE adds U = 0x067.
  it("direct-map 2 MiB leaves are 0x1e3 | NX, kernel tables 0x063", () => {
    const sys = makeSystem(config({ userPages: 2 }), strict);
    const s = sys.init;
    const pml4 = s[HDR][H_KERNEL_PML4];
    const flags = (table: number, vp: number, level: number) => {
      const p = ptFind(s[PTMEM], table, x86Index(vp, level));
      return { lo: s[PTMEM][2 + p * PT_W] >>> 0, hi: s[PTMEM][3 + p * PT_W] >>> 0 };
    };
    const e4 = flags(pml4, PAGE_OFFSET_VPAGE, 4);
    expect(e4.lo & 0xfff).toBe(0x063);
    const pdpt = x86Pfn(e4.lo, e4.hi);
    const e3 = flags(pdpt, PAGE_OFFSET_VPAGE, 3);
    expect(e3.lo & 0xfff).toBe(0x063);
    const e2 = flags(x86Pfn(e3.lo, e3.hi), PAGE_OFFSET_VPAGE, 2);
    expect(e2.lo & 0xfff).toBe(0x1e3);
    expect(e2.hi >>> 31).toBe(1);
    expect(KERNEL_LARGE_LO_FLAGS).toBe(0x1e3);
  });
});

describe("IOVA allocation as Linux alloc_iova_fast", () => {
  // Linux drivers/iommu/iova.c alloc_iova_fast: a size below
  // 1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1) = 32 pages is rounded up to a power
  // of two; alloc_iova(..., size_aligned) then places it at
  // (limit - size) & ~(2^fls(size - 1) - 1), the highest aligned fit below the limit.
  function iovaTx(over: Partial<Parameters<typeof config>[0]> = {}): Tx {
    return freshTx(config(over)).tx;
  }
  const taken = (tx: Tx, v: number) => iovaAllocated(tx, tx.c[IOVA], 0, v);

  it("3 pages take 4, size-aligned, at the top of the window; freeing the 3 frees the 4", () => {
    const tx = iovaTx(); // window 504..519
    expect(IOVA_RCACHE_LIMIT_PAGES).toBe(32);
    expect(allocIova(tx, 0, 3)).toBe(516);
    for (const v of [516, 517, 518, 519]) expect(taken(tx, v)).toBe(true);
    expect(allocIova(tx, 0, 1)).toBe(515); // top-down: the next page below
    expect(allocIova(tx, 0, 2)).toBe(512);
    freeIova(tx, 0, 516, 3);
    for (const v of [516, 517, 518, 519]) expect(taken(tx, v)).toBe(false);
    expect(taken(tx, 515)).toBe(true);
    expect(allocIova(tx, 0, 4)).toBe(516); // the freed range is the highest fit again
  });

  it("at or above the rcache limit the size is not rounded (only aligned)", () => {
    const tx = iovaTx({ iovaBasePfn: 512, iovaPages: 64, iommuLevels: 3 }); // window 512..575
    expect(iovaAllocPages(31)).toBe(32);
    expect(iovaAllocPages(32)).toBe(32);
    expect(iovaAllocPages(33)).toBe(33);
    expect(allocIova(tx, 0, 33)).toBe(512); // (576 - 33) & ~63
    expect(taken(tx, 544)).toBe(true);
    expect(taken(tx, 545)).toBe(false);
    expect(allocIova(tx, 0, 1)).toBe(575);
  });

  it("a caller-chosen IOVA (VFIO user, sizeAligned false) takes exactly its pages, lowest first", () => {
    const tx = iovaTx();
    expect(allocIova(tx, 0, 3, false)).toBe(504);
    expect(taken(tx, 506)).toBe(true);
    expect(taken(tx, 507)).toBe(false);
    expect(allocIova(tx, 0, 3, false)).toBe(507);
    freeIova(tx, 0, 504, 3);
    expect(taken(tx, 504) || taken(tx, 506)).toBe(false);
    expect(taken(tx, 507)).toBe(true);
  });
});

describe("VFIO maps contiguous pinned runs with the largest aligned IOMMU pages", () => {
  // Linux drivers/iommu/iommu.c iommu_pgsize: the largest size in the domain's
  // pgsize_bitmap (AMD_IOMMU_PGSIZES: every power of two from 4 KiB but
  // 512 GiB) that (iova | paddr) is aligned to and the run covers;
  // drivers/iommu/amd/io_pgtable.c iommu_v1_map_pages writes it in the table
  // at PAGE_SIZE_LEVEL + 1 as PAGE_SIZE_PTE_COUNT = 2^((log2 - 12) % 9)
  // copies of a NextLevel-7 leaf (one NextLevel-0 leaf for 4 KiB, 2 MiB, 1 GiB).
  const cfg = { iovaBasePfn: 512, iovaPages: 16, frames: 64, maxOrder: 4, reclaimEmptyTables: true };
  const map16k: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 16384, dir: "bidirectional" };

  it("a 16 KiB pinned block at a 16 KiB-aligned IOVA is one 16 KiB page: 4 NextLevel-7 copies; vfio-4k writes 4 plain leaves", () => {
    for (const [policy, nl] of [[vfio, 7], [vfio4k, 0]] as const) {
      const r = Runner.of(policy, cfg);
      const s = r.step(map16k);
      const v = mIova(r.state[MAPS], 0);
      expect(v % 4).toBe(0);
      const leaves = decodeState(r.sys, r.state).pageTableEntries.filter((e) => e.table === "IOMMU dom 0 L1");
      expect(leaves.length).toBe(4);
      for (const e of leaves) expect(amdNextLevel(Number(BigInt(e.raw as string) & 0xffffffffn))).toBe(nl);
      expect(s.counters[C.iommuPteWrites] - s.counters[C.ptFramesAllocated]).toBe(4);
      // Every 4 KiB page of it translates to its own frame.
      const f0 = mSegFrame(r.state[MAPS], 0, 0);
      for (let p = 0; p < 4; p++) {
        const w = new WalkResult();
        walkMemory(r.sys, r.state[PTMEM], r.state[DTE], 0, v + p, w);
        expect(w.frame).toBe(f0 + p);
      }
      // The unmap clears every copy (iommu_v1_unmap_pages) and the emptied tables go.
      r.steps([{ t: "unmap", cpu: 0, k: 0, free: false }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }]);
      expect(decodeState(r.sys, r.state).pageTableEntries.filter((e) => e.table.startsWith("IOMMU dom 0")).length).toBe(0);
    }
  });

  it("the page size follows the alignment: a 2 MiB run is one NextLevel-0 leaf at level 2; VT-d offers 4 KiB, 2 MiB, 1 GiB only", () => {
    const k = new Kernel(freshTx(config()).tx, new Observation());
    expect(k.pageSizeFor(512, 512, 512)).toBe(21);
    expect(k.pageSizeFor(512, 1024, 8)).toBe(15);
    expect(k.pageSizeFor(513, 1024, 8)).toBe(12); // the IOVA is not aligned
    expect(k.pageSizeFor(512, 1026, 8)).toBe(13); // the frame is 8 KiB-aligned only
    expect(iommuPageSizeOffered(false, 3, 39)).toBe(false); // "512GB Pages are not supported"
    expect(iommuPageSizeOffered(true, 4, 15)).toBe(false);
    expect(iommuPageSizeOffered(true, 4, 21)).toBe(true);
    const kv = new Kernel(freshTx(config({ iommu: "vtd", iommuLevels: 4 })).tx, new Observation());
    expect(kv.pageSizeFor(512, 1024, 8)).toBe(12);
  });
});

// view-refinement's rules no policy scenario reaches (issue 16): the primary
// destroyed under a view, a view that allows execute where the primary is NX,
// and a view's directory entries (a level-2 morsel, whose view has a level-2
// root pointing at a level-1 view table), in both view formats.
import { describe, expect, it } from "vitest";
import { FRAMES, PTMEM } from "../../model/geometry.ts";
import { morselBasePage, morselCreate, morselFault, morselPut, morselRoot, morselZap } from "../../model/morsel.ts";
import { VIEW_AMD_V1, VIEW_EPT, viewFill, viewTable, type ViewFormat } from "../../model/morsel-view.ts";
import { ptFind, ptHi, ptLo, ptWrite } from "../../model/page-table-memory.ts";
import { frameAux, frameRole, ROLE_IOMMU_PT, ROLE_MORSEL_VIEW, setFrame } from "../../model/physical-memory.ts";
import { EPT_LO_EXEC, EPT_LO_WRITE } from "../../model/formats/ept-pte.ts";
import { AMD_HI_IW } from "../../model/formats/amd-v1-pte.ts";
import { X86_LO_PRESENT, X86_LO_PSE, X86_LO_RW, X86_LO_USER, x86EncodeHi, x86EncodeLo, x86Pfn } from "../../model/formats/x86-pte.ts";
import { tableIndex } from "../../model/iommu-page-table.ts";
import { morselViews } from "../../model/policies/morsel-views.ts";
import { makeSystem } from "../../model/system.ts";
import { type State } from "../../model/state.ts";
import { viewRefinement } from "../../properties/view-refinement.ts";
import { config, txOn } from "../model/helpers.ts";

const sys = makeSystem(config(), morselViews);
const FORMATS = [[VIEW_AMD_V1, "AMD IOMMU v1"], [VIEW_EPT, "Intel EPT"]] as const;

/**
 * A level-`level` morsel at span 1 with page 0 entered (frame 20, read-only,
 * NX unless `exec`), and a view of `fmt` filled for it.
 */
function viewed(fmt: ViewFormat, level: 1 | 2, exec = false) {
  const { tx, obs } = txOn(sys);
  morselCreate(tx, 0, 0, level, level === 1 ? 1 : 0, 0, obs, false);
  const base = morselBasePage(tx, 0, 0);
  morselFault(tx, 0, 0, 0, 20, false, true, false, "native", obs);
  const primary = morselRoot(tx, 0, 0);
  if (exec) {
    // The same leaf without NX (an executable page: text, a JIT buffer).
    let table = primary;
    if (level === 2) table = x86Pfn(ptLo(tx.c[PTMEM], primary, tableIndex(base, 2)) >>> 0, ptHi(tx.c[PTMEM], primary, tableIndex(base, 2)) >>> 0);
    const i = tableIndex(base, 1);
    ptWrite(tx, table, i, ptLo(tx.c[PTMEM], table, i) >>> 0, x86EncodeHi(20, false, 0, 0));
  }
  const view = viewTable(tx, primary, fmt, level, base, obs);
  expect(viewFill(tx, view, level, base, obs)).toBe(true);
  return { s: tx.commit(), base, primary, view };
}

function check(pre: State, post: State): string | null {
  const v = viewRefinement.check(sys, pre, { t: "iommu" }, txOn(sys, pre).obs, post);
  if (v !== null) expect(v.property).toBe("view-refinement");
  return v?.message ?? null;
}

/** `s` changed by `f` in one transaction. */
function changed(s: State, f: (tx: ReturnType<typeof txOn>["tx"], obs: ReturnType<typeof txOn>["obs"]) => void): State {
  const { tx, obs } = txOn(sys, s);
  f(tx, obs);
  return tx.commit();
}

describe("view-refinement", () => {
  for (const [fmt, name] of FORMATS) {
    it(`${name}: the primary destroyed under the view`, () => {
      const { s, primary, view } = viewed(fmt, 1);
      expect(check(sys.init, s)).toBeNull();
      const post = changed(s, (tx, obs) => morselPut(tx, 0, 0, obs));
      expect(frameRole(post[FRAMES], view)).toBe(ROLE_MORSEL_VIEW);
      expect(check(s, post)).toMatch(new RegExp(`${name} view table in frame ${view} \\(level 1\\), mirroring morsel table frame ${primary}: frame ${primary} is no longer a morsel table, yet the view still translates through this entry`));
    });

    it(`${name}: a view's directory entry mirrors the primary's; one that does not is caught`, () => {
      const { s, base, primary, view } = viewed(fmt, 2);
      expect(check(sys.init, s)).toBeNull();
      const j = tableIndex(base, 2);
      expect(ptFind(s[PTMEM], view, j)).toBeGreaterThanOrEqual(0);
      const child = x86Pfn(ptLo(s[PTMEM], view, j) >>> 0, ptHi(s[PTMEM], view, j) >>> 0);
      const primChild = x86Pfn(ptLo(s[PTMEM], primary, j) >>> 0, ptHi(s[PTMEM], primary, j) >>> 0);
      const says = new RegExp(`entry ${j} of the ${name} view table in frame ${view} \\(level 2\\), mirroring morsel table frame ${primary}: the view points at table frame ${child}, which does not mirror what the primary has there`);
      // The primary's directory entry cleared (its level-1 table kept: nothing else changes for the leaf below).
      expect(check(s, changed(s, (tx) => ptWrite(tx, primary, j, 0, 0)))).toMatch(says);
      // The primary now has a 2 MiB leaf there.
      expect(check(s, changed(s, (tx) => ptWrite(tx, primary, j, x86EncodeLo(512, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER | X86_LO_PSE), x86EncodeHi(512, true, 0, 0))))).toMatch(says);
      // The primary points at another level-1 table.
      expect(check(s, changed(s, (tx) => ptWrite(tx, primary, j, x86EncodeLo(primChild + 1, X86_LO_PRESENT | X86_LO_RW | X86_LO_USER), x86EncodeHi(primChild + 1, false, 0, 0))))).toMatch(says);
      // Not present, the address left in place (as pmdp_invalidate leaves a PMD while it splits a huge page).
      const pointer = ptLo(s[PTMEM], primary, j) >>> 0;
      expect(check(s, changed(s, (tx) => ptWrite(tx, primary, j, (pointer & ~X86_LO_PRESENT) >>> 0, ptHi(s[PTMEM], primary, j) >>> 0)))).toMatch(says);
      // A 2 MiB leaf whose address field is the level-1 table's frame: the primary maps that region as data.
      expect(check(s, changed(s, (tx) => ptWrite(tx, primary, j, (pointer | X86_LO_PSE) >>> 0, ptHi(s[PTMEM], primary, j) >>> 0)))).toMatch(says);
      // The view table the entry points at was reused (as an IOMMU table) while the entry stayed.
      const reused = changed(s, (tx) => setFrame(tx.w(FRAMES), child, ROLE_IOMMU_PT, 0, 0, frameAux(s[FRAMES], child)));
      expect(check(s, reused)).toMatch(says);
    });

    it(`${name}: a leaf the primary no longer has, one that maps another frame, one that grants write over a read-only page`, () => {
      const { s, view } = viewed(fmt, 1);
      const lo = ptLo(s[PTMEM], view, 0) >>> 0, hi = ptHi(s[PTMEM], view, 0) >>> 0;
      const head = `entry 0 of the ${name} view table in frame ${view} \\(level 1\\), mirroring morsel table frame \\d+: the view`;
      expect(check(s, changed(s, (tx, obs) => morselZap(tx, 0, 0, 0, obs)))).toMatch(new RegExp(`${head} maps frame 20, but the primary \\(x86-64\\) maps nothing there: the view was not invalidated when the primary unmapped$`));
      expect(check(s, changed(s, (tx) => ptWrite(tx, view, 0, ((lo & 0xfff) | (23 << 12)) >>> 0, hi)))).toMatch(new RegExp(`${head} maps frame 23, the primary frame 20$`));
      const writable = fmt === VIEW_EPT ? [(lo | EPT_LO_WRITE) >>> 0, hi] : [lo, (hi | AMD_HI_IW) >>> 0];
      expect(check(s, changed(s, (tx) => ptWrite(tx, view, 0, writable[0], writable[1])))).toMatch(new RegExp(`${head} lets frame 20 be written, the primary maps it read-only$`));
      // A stored entry that is not present (AMD PR clear, EPT no R/W/X) is neither checked nor counted, whatever else it holds.
      const absent = fmt === VIEW_EPT ? [(lo & ~7) >>> 0, hi] : [(lo & ~1) >>> 0, (hi | AMD_HI_IW) >>> 0];
      const post = changed(s, (tx, obs) => {
        morselZap(tx, 0, 0, 0, obs);
        ptWrite(tx, view, 0, absent[0], absent[1]);
      });
      expect(ptFind(post[PTMEM], view, 0)).toBeGreaterThanOrEqual(0);
      expect(check(s, post)).toBeNull();
    });

    it(`${name}: a step that changed neither the entries nor the frames is not re-examined`, () => {
      const { s, primary } = viewed(fmt, 1);
      const bad = changed(s, (tx) => ptWrite(tx, primary, 0, 0, 0));
      expect(check(s, bad)).not.toBeNull();
      expect(check(bad, bad)).toBeNull();
    });
  }

  it("Intel EPT: a view that allows execute where the primary is NX", () => {
    const { s, view } = viewed(VIEW_EPT, 1);
    const lo = ptLo(s[PTMEM], view, 0) >>> 0;
    expect(lo & EPT_LO_EXEC).toBe(0); // filled from an NX primary: no X
    const post = changed(s, (tx) => ptWrite(tx, view, 0, (lo | EPT_LO_EXEC) >>> 0, ptHi(s[PTMEM], view, 0) >>> 0));
    expect(check(s, post)).toMatch(/Intel EPT view table .*: the view lets frame 20 be executed, the primary maps it NX$/);
  });

  it("AMD IOMMU v1 has no execute right: bit 2 of a view leaf (EPT's X) is ignored there", () => {
    const { s, view } = viewed(VIEW_AMD_V1, 1);
    const post = changed(s, (tx) => ptWrite(tx, view, 0, (ptLo(s[PTMEM], view, 0) | EPT_LO_EXEC) >>> 0, ptHi(s[PTMEM], view, 0) >>> 0));
    expect(check(s, post)).toBeNull();
  });

  it("Intel EPT: an executable primary page is executable in the view", () => {
    const { s, view } = viewed(VIEW_EPT, 1, true);
    expect(ptLo(s[PTMEM], view, 0) & EPT_LO_EXEC).toBe(EPT_LO_EXEC);
    expect(check(sys.init, s)).toBeNull();
  });
});

describe("view-refinement's antecedent", () => {
  const count = (pre: State, post: State): number => {
    const counts = new Float64Array(1);
    viewRefinement.antecedent!.count(sys, pre, { t: "iommu" }, txOn(sys).obs, post, counts, 0);
    return counts[0];
  };

  for (const [fmt, name] of FORMATS) {
    it(`${name}: counts a change after which a view table holds a present entry, and nothing else`, () => {
      const { s, view } = viewed(fmt, 1);
      expect(count(sys.init, s)).toBe(1);
      expect(count(s, s)).toBe(0); // nothing changed
      // The view's only entry cleared: the tables changed, but no view entry is present.
      expect(count(s, changed(s, (tx) => ptWrite(tx, view, 0, 0, 0)))).toBe(0);
      // Only the entries changed (no frame): a present view entry is counted.
      const lo = ptLo(s[PTMEM], view, 0) >>> 0, hi = ptHi(s[PTMEM], view, 0) >>> 0;
      const entriesOnly = changed(s, (tx) => ptWrite(tx, view, 1, lo, hi));
      expect(entriesOnly[FRAMES]).toBe(s[FRAMES]);
      expect(count(s, entriesOnly)).toBe(1);
      // Only the frames changed (a frame's record rewritten, the entries kept): counted too.
      const framesOnly: State = s.map((c, i) => (i === FRAMES ? c.slice() : c));
      expect(count(framesOnly, s)).toBe(1);
      // A stored entry that is not present in this format is not counted, though the other format would take it as present:
      // AMD PR clear with bit 1 (ignored by AMD, EPT's W) set; EPT with X only (execute-only) is present, PR clear for AMD.
      const absent = fmt === VIEW_EPT ? [(lo & ~7) >>> 0, hi] : [((lo & ~1) | 2) >>> 0, hi];
      expect(count(s, changed(s, (tx) => ptWrite(tx, view, 0, absent[0], absent[1])))).toBe(0);
      if (fmt === VIEW_EPT) expect(count(s, changed(s, (tx) => ptWrite(tx, view, 0, ((lo & ~7) | EPT_LO_EXEC) >>> 0, hi)))).toBe(1);
    });
  }

  it("an EPT entry with none of R, W, X is not present, whatever its address", () => {
    const { s, view } = viewed(VIEW_EPT, 1);
    const post = changed(s, (tx) => ptWrite(tx, view, 0, (ptLo(s[PTMEM], view, 0) & ~7) >>> 0, ptHi(s[PTMEM], view, 0) >>> 0));
    expect(count(s, post)).toBe(0);
    expect(check(s, post)).toBeNull();
  });
});

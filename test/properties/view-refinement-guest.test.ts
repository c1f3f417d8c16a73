// view-refinement's rule for a vCPU's access through an EPT view (issue 16):
// what the vCPU reached (obs.guestFrame, through a walk or its EPT TLB) must
// be what the primary (x86-64) morsel table maps at that guest-physical
// page now, with the permission the access needs; the primary must still be
// a morsel table. Reached with vm-morsel's own mount and guest access; the
// ways it can go wrong (the stale EPT TLB of vm-morsel-no-invept, another
// frame, a write to a read-only page, an unmounted morsel) are fed to the
// check as observations of that access.
import { describe, expect, it } from "vitest";
import { DEFAULT_SCOPE } from "../../checker/scope.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES, PTMEM, PT_W } from "../../model/geometry.ts";
import { frameRole, ROLE_MORSEL_VIEW } from "../../model/physical-memory.ts";
import { tableIndex } from "../../model/iommu-page-table.ts";
import { ptFind } from "../../model/page-table-memory.ts";
import { Observation } from "../../model/observation.ts";
import { vmMorsel } from "../../model/policies/vm-morsel.ts";
import { type State } from "../../model/state.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { viewRefinement } from "../../properties/view-refinement.ts";

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
const GUEST_READ: Event = { t: "guest-access", cpu: 0, page: 0, write: false };

function mounted() {
  const sys = makeSystem(DEFAULT_SCOPE.config, vmMorsel);
  const ex = new Stepper(sys, new Observation());
  let s: State = sys.init;
  for (const e of [MAP, { t: "resume", cpu: 0 } as Event]) s = ex.step(s, e);
  const pre = s;
  s = ex.step(s, GUEST_READ);
  const o = ex.obs;
  return { sys, pre, post: s, access: { frame: o.guestFrame, page: o.guestPage, primary: o.guestPrimary, viaTlb: o.guestViaTlb } };
}

type Access = ReturnType<typeof mounted>["access"];

function obsOf(a: Access, write = false): Observation {
  const o = new Observation();
  o.guestFrame = a.frame;
  o.guestPage = a.page;
  o.guestWrite = write;
  o.guestPrimary = a.primary;
  o.guestViaTlb = a.viaTlb;
  return o;
}

describe("view-refinement on a vCPU's access through an EPT view", () => {
  const { sys, pre, post, access } = mounted();
  const check = (a: Access, write = false) => viewRefinement.check(sys, post, GUEST_READ, obsOf(a, write), post);

  it("vm-morsel: the vCPU's walk reaches what the primary maps; counted as the guest case", () => {
    expect(access.frame).toBeGreaterThan(0);
    expect(access.primary).toBeGreaterThanOrEqual(0);
    expect(access.viaTlb).toBe(false);
    expect(viewRefinement.check(sys, pre, GUEST_READ, obsOf(access), post)).toBeNull();
    expect(check({ ...access, viaTlb: true })).toBeNull();
    const counts = new Float64Array(4);
    viewRefinement.antecedent!.count(sys, post, GUEST_READ, obsOf(access), post, counts, 1);
    expect([...counts]).toEqual([0, 0, 1, 0]);
    viewRefinement.antecedent!.count(sys, post, GUEST_READ, obsOf({ ...access, frame: -1 }), post, counts, 1);
    expect([...counts]).toEqual([0, 0, 1, 0]); // no guest access: nothing counted
    viewRefinement.antecedent!.count(sys, post, GUEST_READ, obsOf({ ...access, frame: 0 }), post, counts, 1);
    expect([...counts]).toEqual([0, 0, 2, 0]); // frame 0 is a frame
  });

  it("another frame than the primary maps there", () => {
    const v = check({ ...access, frame: access.frame + 1 });
    expect(v).toEqual({
      property: "view-refinement", frame: access.frame + 1,
      message: `a vCPU of the VM read frame ${access.frame + 1} at guest-physical window page 0 through an EPT walk; the primary maps frame ${access.frame} there`,
    });
    expect(check({ ...access, frame: 0 })?.message).toMatch(/^a vCPU of the VM read frame 0 at .*; the primary maps frame \d+ there$/);
  });

  it("a page the primary maps nothing at now (a stale EPT TLB entry, no INVEPT)", () => {
    const v = check({ ...access, page: 1, viaTlb: true });
    expect(v?.message).toBe(
      `a vCPU of the VM read frame ${access.frame} at guest-physical window page 1 through its EPT TLB (a translation cached earlier); the primary (x86-64) maps nothing there now: the EPT translation was not invalidated (INVEPT) when the primary unmapped`,
    );
    expect(v?.property).toBe("view-refinement");
    expect(v?.frame).toBe(access.frame);
  });

  it("a primary that is no longer a morsel table, or none", () => {
    for (const primary of [-1, access.frame]) {
      const v = check({ ...access, primary });
      expect(v?.message).toBe(
        `a vCPU of the VM read frame ${access.frame} at guest-physical window page 0 through an EPT walk, mirroring morsel table frame ${primary}, which is no longer a morsel table: the EPT translation outlived the morsel (no INVEPT at the unmount)`,
      );
      expect(v?.property).toBe("view-refinement");
      expect(v?.frame).toBe(access.frame);
    }
  });

  it("a write where the primary maps the page read-only", () => {
    expect(check(access, true)).toBeNull(); // vm-morsel's primary maps it writable
    // The primary's entry with RW (bit 1) cleared: reading is fine, writing is not.
    const ro = post.map((c) => c.slice()) as unknown as State;
    const pt = ro[PTMEM];
    const p = ptFind(pt, access.primary, tableIndex(sys.cfg.iovaBasePfn + access.page, 1));
    expect(p).toBeGreaterThanOrEqual(0);
    pt[2 + p * PT_W] &= ~2;
    const checkRo = (write: boolean) => viewRefinement.check(sys, ro, GUEST_READ, obsOf(access, write), ro);
    expect(checkRo(false)).toBeNull();
    const v = checkRo(true);
    expect(v).toEqual({
      property: "view-refinement", frame: access.frame,
      message: `a vCPU of the VM wrote frame ${access.frame} at guest-physical window page 0 through an EPT walk; the primary maps it read-only`,
    });
  });

  it("a good vCPU access does not end the check: a view entry changed in the same step is still examined", () => {
    const fr = post[FRAMES];
    const view = Array.from({ length: sys.cfg.frames }, (_, f) => f).find((f) => frameRole(fr, f) === ROLE_MORSEL_VIEW)!;
    expect(view).toBeDefined();
    const bad = post.map((c) => c.slice()) as unknown as State;
    const p = ptFind(bad[PTMEM], view, tableIndex(sys.cfg.iovaBasePfn + access.page, 1));
    expect(p).toBeGreaterThanOrEqual(0);
    bad[PTMEM][2 + p * PT_W] ^= 1 << 12; // the view's leaf now names a neighbouring frame
    const v = viewRefinement.check(sys, post, GUEST_READ, obsOf(access), bad);
    expect(v?.message).toMatch(/view table in frame \d+ \(level 1\).*: the view maps frame \d+, the primary frame \d+$/);
  });
});

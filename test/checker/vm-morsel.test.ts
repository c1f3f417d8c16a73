/**
 * Morsels in a VM (model/policies/vm-morsel.ts; issue 13 part 5): a morsel
 * of host memory lent to a VM, mounted into the guest's physical address
 * space through an EPT view (walked by the VM's vCPUs: the guest-access
 * event, model/vm-ept.ts) and to the VM's assigned device through an AMD
 * IOMMU v1 view, checked with view-refinement and vm-confinement. vm-morsel
 * holds every claim over the whole default scope (10 frames), both checks
 * reached through the device and the vCPU; each broken variant is caught
 * with its expected shortest counterexample.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { FRAMES, POL } from "../../model/geometry.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";
import { frameAux, frameRole, ROLE_HOST } from "../../model/physical-memory.ts";
import { HOST_LENT, HOST_OWNED } from "../../model/vm-memory.ts";
import { findAnyPolicy } from "../../model/policies/index.ts";
import { strict } from "../../model/policies/strict.ts";
import {
  VM_MORSEL_POLICIES, vmMorsel, vmMorselGivesBackEarly, vmMorselMountsHostPage, vmMorselNoInvept, vmMorselStaleEptView,
} from "../../model/policies/vm-morsel.ts";
import { type Event } from "../../model/events.ts";
import { type State } from "../../model/state.ts";
import { findProperty, PROPERTIES, VM_PROPERTIES } from "../../properties/index.ts";
import { checkPolicyExhaustively, checkCell, type CellResult } from "../../checker/matrix.ts";
import { alphabetEvents, DEFAULT_SCOPE, policyScope } from "../../checker/scope.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { policyShapeProblem } from "../../checker/policy-module.ts";
import { vmExperiment } from "../../checker/experiments/vm.ts";
import { runWorkload, WORKLOADS } from "../../checker/workloads.ts";
import { VIOMMU_KINDS } from "../../model/policies/guest.ts";
import { defaultCosts } from "../../costs/cost-table.ts";

const PROPS = [...PROPERTIES, ...VM_PROPERTIES];

function exhaust(policy = vmMorsel): CellResult[] {
  return checkPolicyExhaustively({ policy, module: null }, PROPS, { scope: DEFAULT_SCOPE, depth: 40, maxStates: 2_000_000, timing: false, allProperties: true }).cells;
}
const cell = (cells: CellResult[], name: string) => cells.find((c) => c.property === name)!;
const kinds = (c: CellResult) => c.counterexample!.events.map((e) => e.t);

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
const GUEST_READ: Event = { t: "guest-access", cpu: 0, page: 0, write: false };

/** Runs `events` on `policy` at the default machine; returns the states after each and the observation's guest frame. */
function run(policy = vmMorsel, events: Event[]): { states: State[]; guest: number[]; noop: boolean[] } {
  const sys = makeSystem(DEFAULT_SCOPE.config, policy);
  const ex = new Stepper(sys, new Observation());
  let s = sys.init;
  const states: State[] = [], guest: number[] = [], noop: boolean[] = [];
  for (const e of events) {
    s = ex.step(s, e);
    states.push(s);
    guest.push(ex.obs.guestFrame);
    noop.push(ex.obs.noop);
  }
  return { states, guest, noop };
}
const lentFrames = (s: State, aux: number) => Array.from({ length: DEFAULT_SCOPE.config.frames }, (_, f) => f).filter((f) => frameRole(s[FRAMES], f) === ROLE_HOST && frameAux(s[FRAMES], f) === aux);

describe("vm-morsel", () => {
  it("is found by name, and keeps one frame of host memory outside the VM from boot", () => {
    for (const p of VM_MORSEL_POLICIES) {
      expect(findAnyPolicy(p.name)).toBe(p);
      expect(policyShapeProblem(p as unknown as Record<string, unknown>), p.name).toBeNull();
    }
    const sys = makeSystem(DEFAULT_SCOPE.config, vmMorsel);
    expect(lentFrames(sys.init, HOST_OWNED)).toHaveLength(1);
    // A policy module may declare the EPT hooks too, both or neither.
    const shape = { ...(vmMorsel as unknown as Record<string, unknown>) };
    delete shape.eptTlbWord;
    expect(policyShapeProblem(shape)).toBe("eptTable and eptTlbWord go together: give both or neither");
    expect(policyShapeProblem({ ...(vmMorsel as unknown as Record<string, unknown>), eptTlbWord: -1 })).toMatch(/^eptTlbWord must be an integer/);
  });

  it("guest-access events are in vm-morsel's alphabet only (the default policies' spaces do not change)", () => {
    expect(policyScope(strict, DEFAULT_SCOPE)).toBe(DEFAULT_SCOPE);
    expect(alphabetEvents(policyScope(strict, DEFAULT_SCOPE)).some((e) => e.t === "guest-access")).toBe(false);
    const guest = alphabetEvents(policyScope(vmMorsel, DEFAULT_SCOPE)).filter((e) => e.t === "guest-access");
    expect(guest).toHaveLength(2 * DEFAULT_SCOPE.alphabet.dmaPages.length);
    // Under a policy that mounts nothing into a VM, a guest access is a no-op.
    expect(run(strict, [GUEST_READ]).noop).toEqual([true]);
  });

  it("lends the host frame at the mount, the vCPU walks the EPT view and caches it, INVEPT at the unmount, the frame given back", () => {
    const { states, guest, noop } = run(vmMorsel, [
      MAP, { t: "resume", cpu: 0 }, GUEST_READ, GUEST_READ, { t: "unmap", cpu: 0, k: 0, free: true }, GUEST_READ, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 },
    ]);
    const host = lentFrames(makeSystem(DEFAULT_SCOPE.config, vmMorsel).init, HOST_OWNED)[0];
    expect(lentFrames(states[1], HOST_LENT)).toEqual([host]); // mounted: lent
    expect(guest.slice(2, 4)).toEqual([host, host]); // a walk, then the EPT TLB
    expect(states[2][POL].some((w) => w !== 0 && (w & 0x3fff) - 1 === host)).toBe(true);
    expect(noop[5]).toBe(true); // after the unmount started: INVEPT, the entry cleared: an EPT violation
    expect(lentFrames(states[4], HOST_LENT)).toEqual([host]); // still lent until the invalidation completed
    expect(lentFrames(states[8], HOST_OWNED)).toEqual([host]); // given back
    expect(lentFrames(states[8], HOST_LENT)).toEqual([]);
  });

  it("holds every claim over the whole default scope (10 frames), view-refinement and vm-confinement reached through the device and the vCPU", () => {
    const cells = exhaust();
    for (const c of cells) {
      if (!vmMorsel.claims.includes(c.property)) continue;
      expect(c.verdict, c.property).toBe("holds");
      expect(c.exhausted, c.property).toBe(true);
      // pte-agreement is about tables shared by MMU and IOMMU: views are separate tables.
      expect(c.vacuous, c.property).toBe(c.property === "pte-agreement");
    }
    const vr = cell(cells, "view-refinement").coverage!.antecedent!.cases;
    expect(vr["view entry checked"]).toBeGreaterThan(0);
    expect(vr["guest CPU access through an EPT view"]).toBeGreaterThan(0);
    const vc = cell(cells, "vm-confinement").coverage!.antecedent!.cases;
    expect(vc["walk"]).toBeGreaterThan(0);
    expect(vc["vCPU through the EPT"]).toBeGreaterThan(0);
    expect(cells[0].states).toBe(623);
    // Not claimed: the whole lent page is the device's (byte-confinement, leftover-data: the host's
    // bytes beside the object), and the domain keeps an emptied table (no-leak), as for morsel-views.
    expect(cells.filter((c) => c.verdict === "violated").map((c) => `${c.property} ${c.length}`)).toEqual(["byte-confinement 3", "no-leak 6", "leftover-data 3"]);
  });
});

describe("vm-morsel-stale-ept-view", () => {
  it("exhaustive: view-refinement violated at the unmount, by the EPT view (the AMD view is invalidated); then a vCPU reaches the given-back frame (vm-confinement)", () => {
    const cells = exhaust(vmMorselStaleEptView);
    const v = cell(cells, "view-refinement");
    expect(v.verdict).toBe("violated");
    expect(v.counterexample!.events).toEqual([MAP, { t: "resume", cpu: 0 }, { t: "unmap", cpu: 0, k: 0, free: true }]);
    expect(v.explanation).toMatch(/of the Intel EPT view table .* the view maps frame \d+, but the primary \(x86-64\) maps nothing there/);
    expect(replayCounterexample(v.counterexample!).reproduced).toBe(true);
    const c = cell(cells, "vm-confinement");
    expect(c.verdict).toBe("violated");
    expect(c.length).toBe(8);
    expect(c.explanation).toMatch(/^a vCPU of the VM read frame \d+ .* through its EPT TLB; frame \d+ is outside the VM's memory: it is a host frame/);
    for (const x of cells) if (!["view-refinement", "vm-confinement"].includes(x.property) && vmMorselStaleEptView.claims.includes(x.property)) expect(x.verdict, x.property).toBe("holds");
  });

  it("random engine (default machine, seed 42): caught with a map, a resume and an unmap", () => {
    const c = checkCell({ policy: vmMorselStaleEptView, module: null }, findProperty("view-refinement")!, { config: DEFAULT_CONFIG, runs: 200, seed: 42, maxEvents: 24, timing: false });
    expect(c.verdict).toBe("violated");
    // A map (or a one-entry map-sg: the same single page), the mount's resume, the unmount.
    const t = c.counterexample!.events.map((e) => e.t);
    expect(["map", "map-sg"]).toContain(t[0]);
    expect(t.slice(1)).toEqual(["resume", "unmap"]);
    expect(c.explanation).toContain("Intel EPT view");
  });
});

describe("vm-morsel-no-invept", () => {
  it("exhaustive: every view table stays faithful, but a vCPU keeps reaching the unmounted page through its EPT TLB (view-refinement, 5 events)", () => {
    const cells = exhaust(vmMorselNoInvept);
    const v = cell(cells, "view-refinement");
    expect(v.verdict).toBe("violated");
    expect(v.counterexample!.events).toEqual([MAP, { t: "resume", cpu: 0 }, GUEST_READ, { t: "unmap", cpu: 0, k: 0, free: true }, GUEST_READ]);
    expect(v.explanation).toMatch(/^a vCPU of the VM read frame \d+ at guest-physical window page 0 through its EPT TLB .* the primary \(x86-64\) maps nothing there now: the EPT translation was not invalidated \(INVEPT\)/);
    expect(replayCounterexample(v.counterexample!).reproduced).toBe(true);
    // Once the frame is given back, the same stale translation reaches host memory.
    expect(cell(cells, "vm-confinement").verdict).toBe("violated");
    expect(kinds(cell(cells, "vm-confinement")).at(-1)).toBe("guest-access");
    for (const x of cells) if (!["view-refinement", "vm-confinement"].includes(x.property) && vmMorselNoInvept.claims.includes(x.property)) expect(x.verdict, x.property).toBe("holds");
  });
});

describe("vm-morsel-mounts-host-page", () => {
  it("exhaustive: vm-confinement violated by the device's first access to the unlent host frame (map, resume, dma); the views stay faithful", () => {
    const cells = exhaust(vmMorselMountsHostPage);
    const v = cell(cells, "vm-confinement");
    expect(v.verdict).toBe("violated");
    expect(kinds(v)).toEqual(["map", "resume", "dma"]);
    expect(v.explanation).toMatch(/^device 0, assigned to the VM, read frame \d+ through a page walk .* outside the VM's memory/);
    expect(replayCounterexample(v.counterexample!).reproduced).toBe(true);
    expect(cell(cells, "view-refinement").verdict).toBe("holds");
    expect(cell(cells, "view-refinement").vacuous).toBe(false);
  });

  it("the vCPU side: a guest access to the unlent frame is a vm-confinement violation too", () => {
    const sys = makeSystem(DEFAULT_SCOPE.config, vmMorselMountsHostPage);
    const ex = new Stepper(sys, new Observation());
    let s = sys.init;
    for (const e of [MAP, { t: "resume", cpu: 0 } as Event]) s = ex.step(s, e);
    const pre = s;
    s = ex.step(s, GUEST_READ);
    const v = findProperty("vm-confinement")!.check(sys, pre, GUEST_READ, ex.obs, s);
    expect(v?.message).toMatch(/^a vCPU of the VM read frame \d+ at guest-physical window page 0 through an EPT walk; frame \d+ is outside the VM's memory/);
  });

  it("random engine (default machine, seed 42): caught with 3 events, the last a device or vCPU access", () => {
    const c = checkCell({ policy: vmMorselMountsHostPage, module: null }, findProperty("vm-confinement")!, { config: DEFAULT_CONFIG, runs: 200, seed: 42, maxEvents: 24, timing: false });
    expect(c.verdict).toBe("violated");
    const t = c.counterexample!.events.map((e) => e.t);
    expect(t.slice(0, 2)).toEqual(["map", "resume"]);
    expect(["dma", "guest-access"]).toContain(t[2]);
    expect(t).toHaveLength(3);
  });
});

describe("vm-morsel-gives-back-early", () => {
  it("exhaustive: the frame goes back to the host while the device's IOTLB still reaches it (vm-confinement, 5 events)", () => {
    const cells = exhaust(vmMorselGivesBackEarly);
    const v = cell(cells, "vm-confinement");
    expect(v.verdict).toBe("violated");
    expect(kinds(v)).toEqual(["map", "resume", "dma", "unmap", "dma"]);
    expect(v.explanation).toMatch(/^device 0, assigned to the VM, read frame \d+ through an IOTLB entry .* outside the VM's memory/);
    expect(replayCounterexample(v.counterexample!).reproduced).toBe(true);
    for (const x of cells) if (x.property !== "vm-confinement" && vmMorselGivesBackEarly.claims.includes(x.property)) expect(x.verdict, x.property).toBe("holds");
  });
});

describe("random engine, the CLI's default 10,000 runs (default machine, seed 42)", () => {
  it("draws guest-access for vm-morsel (only): vm-morsel-no-invept and vm-morsel-gives-back-early are caught with their shortest shapes", () => {
    const opts = { config: DEFAULT_CONFIG, runs: 10_000, seed: 42, maxEvents: 24, timing: false };
    const a = checkCell({ policy: vmMorselNoInvept, module: null }, findProperty("view-refinement")!, opts);
    expect(a.counterexample?.events.map((e) => e.t)).toEqual(["map", "resume", "guest-access", "unmap", "guest-access"]);
    const b = checkCell({ policy: vmMorselGivesBackEarly, module: null }, findProperty("vm-confinement")!, opts);
    expect(b.counterexample?.events.map((e) => e.t)).toEqual(["map", "resume", "dma", "unmap", "dma"]);
  });
});

describe("cost --experiment vm: the morsel row", () => {
  it("net-rx: no VM exit, no pin, no nested walk, one INVEPT per I/O; cheaper than guest strict over every vIOMMU kind, dearer than native strict", { timeout: 30_000 }, () => {
    const rows = vmExperiment(defaultCosts(), 100, WORKLOADS.filter((w) => w.name === "net-rx"));
    const row = (where: string, guest: string) => rows.find((r) => r.where === where && r.guest === guest)!;
    const m = row("morsel", "vm-morsel");
    expect(rows.at(-1)).toBe(m); // the last row of the workload
    expect(m.policy).toBe("vm-morsel");
    expect(m.error).toBeNull();
    expect([m.vmExits, m.pins, m.nestedExtraRefs, m.tlbShootdowns, m.iotlbInvCmds]).toEqual([0, 0, 0, 1, 1]);
    // The device's IOTLB miss walks the host stage only (the AMD view), as natively.
    expect(m.walkRefs).toBe(row("native", "strict").walkRefs);
    for (const kind of VIOMMU_KINDS) expect(m.nsPerIo, kind).toBeLessThan(row(kind, "strict").nsPerIo);
    expect(m.nsPerIo).toBeGreaterThan(row("native", "strict").nsPerIo);
    expect(m.vsNativePassthrough).toBeGreaterThan(1);
  });

  it("a workload whose buffers exceed the one lent host page reports the error (net-tx: 64 KiB)", () => {
    const w = WORKLOADS.find((x) => x.name === "net-tx")!;
    expect(() => runWorkload(w, vmMorsel, 1)).toThrow(/out of memory for the driver's buffer/);
  });
});

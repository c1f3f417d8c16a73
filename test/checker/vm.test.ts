/**
 * Guest policies (model/policies/guest.ts): guest strict, lazy and passthrough
 * over an emulated, nested or virtio vIOMMU; the guest's I/O page table as
 * state; VM exits per kind; vm-confinement (properties/vm-confinement.ts)
 * claimed by every guest policy, by viommu and by coiommu, and the broken
 * VMMs it catches.
 */
import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { DTE, MAPS, POL, PTMEM } from "../../model/geometry.ts";
import { mIova } from "../../model/dma-mapping.ts";
import { walkMemory, WalkResult } from "../../model/iommu-page-table.ts";
import { type Kernel } from "../../model/kernel.ts";
import { type Policy } from "../../model/policy.ts";
import { BROKEN_GUEST_POLICIES, BROKEN_POLICIES, findAnyPolicy, GUEST_POLICIES, POLICIES } from "../../model/policies/index.ts";
import { guestPolicyName, GUEST_KINDS, VIOMMU_KINDS } from "../../model/policies/guest.ts";
import { viommu } from "../../model/policies/viommu.ts";
import { coiommu } from "../../model/policies/coiommu.ts";
import { HOST_OWNED, takeHostFrame } from "../../model/vm-memory.ts";
import { ALL_PROPERTIES, findProperty, PROPERTIES } from "../../properties/index.ts";
import { checkPolicyExhaustively } from "../../checker/matrix.ts";
import { DEFAULT_SCOPE } from "../../checker/scope.ts";
import { Runner } from "../model/helpers.ts";
import { vmExperiment } from "../../checker/experiments/vm.ts";
import { COST_CONFIG, WORKLOADS } from "../../checker/workloads.ts";
import { defaultCosts } from "../../costs/cost-table.ts";
import { nestedWalkRefs } from "../../model/nested-walk.ts";

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
const UNMAP: Event = { t: "unmap", cpu: 0, k: 0, free: true };
const vmConfinement = findProperty("vm-confinement")!;

function exhaust(policy: Policy, props = ALL_PROPERTIES.filter((p) => policy.claims.includes(p.name)), depth = 9) {
  return checkPolicyExhaustively({ policy, module: null }, props, { scope: DEFAULT_SCOPE, depth, maxStates: 60_000, timing: false });
}

/** The host frame IOVA page `v` of dev 0 reaches through the tables, or -1. */
function hostMapped(r: Runner, v: number): number {
  return walkMemory({ g: r.sys.g }, r.state[PTMEM], r.state[DTE], 0, v, new WalkResult()).frame;
}
function guestEntry(r: Runner, v: number): number {
  return r.state[POL][v - r.sys.g.winBase] - 1;
}

describe("guest policies", () => {
  it("are nine, named guest-<guest>@<viommu>, found by name, and kept out of the built-in and broken lists", () => {
    expect(GUEST_POLICIES.map((p) => p.name)).toEqual(GUEST_KINDS.flatMap((g) => VIOMMU_KINDS.map((v) => guestPolicyName(g, v))));
    for (const p of [...GUEST_POLICIES, ...BROKEN_GUEST_POLICIES]) {
      expect(findAnyPolicy(p.name)).toBe(p);
      expect(POLICIES).not.toContain(p);
      expect(BROKEN_POLICIES).not.toContain(p);
      expect(p.claims).toContain("vm-confinement");
    }
    expect(PROPERTIES.map((p) => p.name)).not.toContain("vm-confinement"); // not in the default run
  });

  it("keep the guest's I/O page table as state: written at map, cleared at unmap; the host table follows per kind", () => {
    for (const kind of VIOMMU_KINDS) {
      const r = Runner.of(findAnyPolicy(`guest-strict@${kind}`)!);
      r.step(MAP);
      const v = mIova(r.state[MAPS], 0);
      const f = guestEntry(r, v);
      expect(f, kind).toBeGreaterThanOrEqual(0);
      expect(hostMapped(r, v), kind).toBe(f); // guest-physical = host-physical for the VM's frames
      r.step(UNMAP);
      expect(guestEntry(r, v), kind).toBe(-1);
      expect(hostMapped(r, v), kind).toBe(-1);
    }
    // Lazy over a shadowing kind: the guest's entry goes at once, the host's shadow only at the flush exit.
    for (const kind of ["emulated", "virtio"] as const) {
      const r = Runner.of(findAnyPolicy(`guest-lazy@${kind}`)!);
      r.step(MAP);
      const v = mIova(r.state[MAPS], 0);
      const f = guestEntry(r, v);
      const un = r.step(UNMAP);
      expect(un.counters[C.vmExits], kind).toBe(0);
      expect(guestEntry(r, v), kind).toBe(-1);
      expect(hostMapped(r, v), kind).toBe(f);
      // The timer first unplugs a free page (its invalidation and wait), then flushes: one exit for the flush.
      let exitsSeen = r.step({ t: "tick", ms: 10 }).counters[C.vmExits];
      for (let i = 0; i < 6; i++) {
        r.step({ t: "iommu" });
        r.step({ t: "iommu" });
        exitsSeen += r.step({ t: "resume", cpu: r.sys.g.timerCtx }).counters[C.vmExits];
      }
      expect(exitsSeen, kind).toBe(1);
      expect(hostMapped(r, v), kind).toBe(-1);
    }
    // Lazy over nested: the hardware walks the guest's table, so the entry is gone from what the device walks at once.
    const n = Runner.of(findAnyPolicy("guest-lazy@nested")!);
    n.step(MAP);
    const v = mIova(n.state[MAPS], 0);
    n.step(UNMAP);
    expect(hostMapped(n, v)).toBe(-1);
  });

  it("exit to the VMM as each kind does: emulated and virtio on map and unmap, nested only to invalidate, passthrough never", () => {
    const exits = (name: string): [number, number] => {
      const r = Runner.of(findAnyPolicy(name)!);
      const m = r.step(MAP).counters[C.vmExits];
      const u = r.step(UNMAP).counters[C.vmExits];
      return [m, u];
    };
    expect(exits("guest-strict@emulated")).toEqual([1, 1]);
    expect(exits("guest-strict@virtio")).toEqual([1, 1]);
    expect(exits("guest-strict@nested")).toEqual([0, 1]);
    expect(exits("guest-lazy@emulated")).toEqual([1, 0]);
    expect(exits("guest-lazy@nested")).toEqual([0, 0]);
    for (const kind of VIOMMU_KINDS) expect(exits(`guest-passthrough@${kind}`)).toEqual([0, 0]);
  });

  it("hold every claimed property up to depth 9 of the default scope, vm-confinement never vacuously", { timeout: 120_000 }, () => {
    for (const policy of GUEST_POLICIES) {
      const { cells } = exhaust(policy);
      for (const c of cells) expect(c.verdict, `${policy.name} x ${c.property}`).toBe("holds");
      const vm = cells.find((c) => c.property === "vm-confinement")!;
      expect(vm.vacuous, policy.name).toBe(false);
    }
  });
});

describe("vm-confinement", () => {
  it("catches each broken VMM with a shortest counterexample", { timeout: 60_000 }, () => {
    const expected: Record<string, number> = {
      // the blind identity map reaches the host frame at once
      "guest-passthrough@emulated-vmm-maps-outside-vm": 1,
      // dma (IOTLB filled), tick (unplug without invalidation), dma
      "guest-passthrough@nested-unplug-no-invalidate": 3,
      // map, dma, unmap (stale IOTLB entry), tick (unplug of the freed page without invalidation), dma
      "guest-lazy@nested-unplug-no-invalidate": 5,
    };
    for (const p of BROKEN_GUEST_POLICIES) {
      const { cells } = exhaust(p, [vmConfinement], 8);
      expect(cells[0].verdict, p.name).toBe("violated");
      expect(cells[0].length, p.name).toBe(expected[p.name]);
    }
  });

  it("is claimed by viommu and coiommu, and holds for them with host memory beside the VM", { timeout: 60_000 }, () => {
    for (const base of [viommu, coiommu]) {
      expect(base.claims).toContain("vm-confinement");
      // The default machine has no memory outside the VM: reserve a host frame at boot, as the guest policies do.
      const withHost: Policy = {
        ...base,
        boot(k: Kernel): void {
          takeHostFrame(k.tx, HOST_OWNED, k.obs);
          base.boot?.(k);
        },
      };
      // coiommu puts guest-physical frame f at window page f: a window of 8 pages covers the default scope's free frames.
      const scope = base === coiommu
        ? { config: { ...DEFAULT_SCOPE.config, iovaPages: 8 }, alphabet: { ...DEFAULT_SCOPE.alphabet, dmaPages: [3, 4, 5, 6, 7] } }
        : DEFAULT_SCOPE;
      const { cells } = checkPolicyExhaustively({ policy: withHost, module: null }, [vmConfinement], { scope, depth: 9, maxStates: 60_000, timing: false });
      expect(cells[0].verdict, base.name).toBe("holds");
      expect(cells[0].vacuous, base.name).toBe(false);
    }
  });
});

describe("cost --experiment vm", () => {
  it("has the seed's shape: strict costs far more in a VM, lazy recovers much of it, guest passthrough is cheapest, nested trades map exits for 2-D walks", { timeout: 60_000 }, () => {
    // Network receive at its default 1000 I/Os (lazy's flushes amortise over them); the other workloads take longer.
    const rows = vmExperiment(defaultCosts(), undefined, WORKLOADS.filter((w) => w.name === "net-rx"));
    const row = (w: string, where: string, guest: string) => rows.find((r) => r.workload === w && r.where === where && r.guest === guest)!;
    for (const w of ["net-rx"]) {
      const nativeStrict = row(w, "native", "strict");
      for (const kind of VIOMMU_KINDS) {
        const s = row(w, kind, "strict");
        const l = row(w, kind, "lazy");
        const p = row(w, kind, "passthrough");
        expect(s.error, `${w} ${kind}`).toBeNull();
        expect(s.nsPerIo, `${w} ${kind} strict vs native strict`).toBeGreaterThan(2 * nativeStrict.nsPerIo);
        if (l.error === null) expect(l.nsPerIo, `${w} ${kind} lazy`).toBeLessThan(s.nsPerIo);
        for (const other of [s, l]) if (other.error === null) expect(p.nsPerIo, `${w} ${kind} passthrough`).toBeLessThan(other.nsPerIo);
        expect(p.vmExits).toBe(0);
      }
      // Nested: no exit on a map (one per I/O, the unmap's invalidation, against two), and every IOTLB miss a 2-D walk.
      const n = row(w, "nested", "strict");
      expect(n.vmExits).toBe(1);
      expect(row(w, "emulated", "strict").vmExits).toBe(2);
      expect(n.nestedExtraRefs).toBeCloseTo(n.iotlbMisses * (nestedWalkRefs(COST_CONFIG.iommuLevels, COST_CONFIG.iommuLevels) - COST_CONFIG.iommuLevels), 3);
      expect(n.nestedExtraRefs).toBeGreaterThan(0);
    }
    // Network receive: nested lazy recovers most of what strict costs in the VM.
    const pt = row("net-rx", "native", "passthrough").nsPerIo;
    expect(row("net-rx", "nested", "lazy").nsPerIo - pt).toBeLessThan(0.5 * (row("net-rx", "nested", "strict").nsPerIo - pt));
  });
});

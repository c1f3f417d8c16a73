/**
 * vm-confinement (properties/vm-confinement.ts): the three broken VMMs'
 * shortest counterexamples (test/checker/vm.test.ts finds them by search)
 * replayed with their exact messages, the vCPU clause on a hand-made
 * observation, and the antecedent's cases by translation source. Added for
 * issue 15 part 7 (Stryker survivors).
 */
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { DEFAULT_SCOPE } from "../../checker/scope.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES } from "../../model/geometry.ts";
import { Observation, SRC_ATC, SRC_FORGED, SRC_IOTLB, SRC_NONE, SRC_PASSTHROUGH, SRC_WALK } from "../../model/observation.ts";
import { findAnyPolicy } from "../../model/policies/index.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem, type System } from "../../model/system.ts";
import { isHostFrame } from "../../model/vm-memory.ts";
import { vmConfinement } from "../../properties/vm-confinement.ts";

const dma = (page: number): Event => ({ t: "dma", dev: 0, write: false, page, offset: 0, len: 1 });
const sysOf = (name: string) => makeSystem(DEFAULT_SCOPE.config, findAnyPolicy(name)!);
const hostFrame = (sys: System) => {
  for (let f = 0; f < sys.cfg.frames; f++) if (isHostFrame(sys.init[FRAMES], f)) return f;
  return -1;
};
/** The antecedent's counts from index 1 of a zeroed array, checking that nothing was written before or after them. */
const count = (sys: System, obs: Observation) => {
  const c = new Float64Array(10);
  vmConfinement.antecedent!.count(sys, sys.init, { t: "tick", ms: 1 }, obs, sys.init, c, 1);
  expect([c[0], c[9]]).toEqual([0, 0]);
  return Array.from(c.subarray(1, 9));
};

describe("vm-confinement", () => {
  const cases: [string, Event[], string][] = [
    ["guest-passthrough@emulated-vmm-maps-outside-vm", [dma(0)],
      "device 0, assigned to the VM, read frame 6 through a page walk for IOVA 0x1fe000; frame 6 is outside the VM's memory: it is a host frame"],
    ["guest-passthrough@nested-unplug-no-invalidate", [dma(1), { t: "tick", ms: 10 }, dma(1)],
      "device 0, assigned to the VM, read frame 7 through an IOTLB entry for IOVA 0x1ff000; frame 7 is outside the VM's memory: it is a host frame"],
    ["guest-lazy@nested-unplug-no-invalidate",
      [{ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" }, dma(3), { t: "unmap", cpu: 0, k: 0, free: true }, { t: "tick", ms: 10 }, dma(3)],
      "device 0, assigned to the VM, read frame 4 through an IOTLB entry for IOVA 0x201000; frame 4 is outside the VM's memory: it is a host frame"],
  ];
  for (const [name, events, message] of cases) {
    it(`${name}: the device reaches a host frame, at the last event`, () => {
      const v = new Executor(sysOf(name), [vmConfinement]).run(events).violation!;
      expect(v.step).toBe(events.length - 1);
      expect(v.message).toBe(message);
      expect([v.property, v.dev, v.frame]).toEqual(["vm-confinement", 0, Number(/frame (\d+)/.exec(message)![1])]);
      expect(v.iovaPfn).toBe(Number.parseInt(/IOVA 0x([0-9a-f]+)/.exec(message)![1], 16) / 4096);
      // One event fewer: no violation yet.
      expect(new Executor(sysOf(name), [vmConfinement]).run(events.slice(0, -1)).violation).toBeNull();
    });
  }

  it("the vCPU clause: a vCPU reaching a host frame through its EPT TLB or an EPT walk", () => {
    const sys = sysOf("guest-passthrough@nested-unplug-no-invalidate");
    const f = hostFrame(sys);
    expect(f).toBeGreaterThanOrEqual(0);
    const obs = new Observation();
    obs.guestFrame = f;
    obs.guestWrite = true;
    obs.guestPage = 3;
    obs.guestViaTlb = true;
    const e: Event = { t: "guest-access", cpu: 0, page: 3, write: true };
    const v = vmConfinement.check(sys, sys.init, e, obs, sys.init)!;
    expect(v.message).toMatch(new RegExp(`^a vCPU of the VM wrote frame ${f} at guest-physical window page 3 through its EPT TLB; frame ${f} is outside the VM's memory: it is `));
    expect([v.property, v.frame, v.dev]).toEqual(["vm-confinement", f, undefined]);
    obs.guestWrite = false;
    obs.guestViaTlb = false;
    expect(vmConfinement.check(sys, sys.init, e, obs, sys.init)!.message).toMatch(new RegExp(`^a vCPU of the VM read frame ${f} at guest-physical window page 3 through an EPT walk;`));
    expect(count(sys, obs)).toEqual([0, 0, 0, 0, 0, 0, 1, 0]);
    // A vCPU reaching one of the VM's own frames: nothing.
    let own = -1;
    for (let g = 0; g < sys.cfg.frames && own < 0; g++) if (!isHostFrame(sys.init[FRAMES], g)) own = g;
    obs.guestFrame = own;
    expect(vmConfinement.check(sys, sys.init, e, obs, sys.init)).toBeNull();
  });

  it("the antecedent counts device accesses by source, only while memory outside the VM exists", () => {
    const sys = sysOf("guest-passthrough@nested-unplug-no-invalidate");
    const obs = new Observation();
    obs.dev = 0;
    obs.nseg = 6;
    [SRC_PASSTHROUGH, SRC_WALK, SRC_IOTLB, SRC_ATC, SRC_FORGED, SRC_NONE].forEach((s, i) => (obs.segSource[i] = s));
    obs.segSource[5] = 4; // a cached-directory walk
    expect(count(sys, obs)).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    obs.nseg = 0;
    expect(count(sys, obs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // Segments without a translation source, and a stale one past nseg, count nowhere.
    obs.nseg = 2;
    obs.segSource[0] = SRC_NONE;
    obs.segSource[1] = 7;
    obs.segSource[2] = SRC_WALK;
    expect(count(sys, obs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // No device access this step (dev -1), though a walk's record is left in the first segment.
    obs.nseg = 1;
    obs.segSource[0] = SRC_WALK;
    obs.dev = -1;
    expect(count(sys, obs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // The default machine has no memory outside the VM: nothing to count, nothing violated.
    const plain = makeSystem(DEFAULT_SCOPE.config, strict);
    obs.dev = 0; // a walk by device 0
    obs.guestFrame = 2;
    expect(count(plain, obs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(vmConfinement.antecedent!.cases).toEqual(["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged", "vCPU through the EPT"]);
    expect(vmConfinement.antecedent!.afterMap).toBe(false);
  });

  it("a device access to the VM's own frames is fine; the first host frame among several segments is named", () => {
    const sys = sysOf("guest-passthrough@nested-unplug-no-invalidate");
    const f = hostFrame(sys);
    let own = -1;
    for (let g = 1; g < sys.cfg.frames && own < 0; g++) if (!isHostFrame(sys.init[FRAMES], g)) own = g;
    const obs = new Observation();
    obs.dev = 1;
    obs.write = true;
    obs.nseg = 2;
    obs.segFrame[0] = own;
    obs.segFrame[1] = f;
    obs.segIovaPfn[1] = 600;
    obs.segOffset[1] = 8;
    obs.segSource[1] = SRC_FORGED;
    const e: Event = { t: "tick", ms: 1 };
    const v = vmConfinement.check(sys, sys.init, e, obs, sys.init)!;
    expect(v.message).toMatch(new RegExp(`^device 1, assigned to the VM, wrote frame ${f} through .* for IOVA 0x258008; frame ${f} is outside the VM's memory`));
    expect([v.dev, v.frame, v.iovaPfn]).toEqual([1, f, 600]);
    obs.nseg = 1;
    expect(vmConfinement.check(sys, sys.init, e, obs, sys.init)).toBeNull(); // the host frame is a stale segment past nseg
    obs.nseg = 2;
    obs.dev = -1; // no device access: the segments are not this step's
    expect(vmConfinement.check(sys, sys.init, e, obs, sys.init)).toBeNull();
  });
});

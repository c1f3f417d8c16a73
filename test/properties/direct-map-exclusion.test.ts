/**
 * direct-map-exclusion (properties/direct-map-exclusion.ts) step by step:
 * a kernel read of a guest frame through the direct map is a violation
 * with ordinary guest memory (the exact message: the direct-map address and
 * the kind), faults and reaches nothing with devdax and guest_memfd; reads
 * of other frames and other events are never checked; the antecedent counts
 * guest-frame reads apart from the others; inert without a guest region.
 * Added for issue 15 part 7 (Stryker survivors).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type GuestMemoryKind } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES } from "../../model/geometry.ts";
import { Observation } from "../../model/observation.ts";
import { frameRole, ROLE_GUEST, setFrame } from "../../model/physical-memory.ts";
import { Tx } from "../../model/state.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { directMapExclusion } from "../../properties/direct-map-exclusion.ts";

function setup(kind?: GuestMemoryKind) {
  const sys = makeSystem({ ...DEFAULT_CONFIG, ...(kind ? { guestMemory: kind } : {}) }, strict);
  const obs = new Observation();
  const st = new Stepper(sys, obs);
  const guest: number[] = [];
  for (let f = 0; f < sys.cfg.frames; f++) if (frameRole(sys.init[FRAMES], f) === ROLE_GUEST) guest.push(f);
  /** Steps `e` from the initial state: the check's answer and the antecedent's counts. */
  const step = (e: Event) => {
    const post = st.step(sys.init, e);
    const counts = new Float64Array(3);
    directMapExclusion.antecedent!.count(sys, sys.init, e, obs, post, counts, 1);
    return { v: directMapExclusion.check(sys, sys.init, e, obs, post), counts: Array.from(counts), kernelFrame: obs.kernelFrame };
  };
  return { sys, step, guest };
}

describe("direct-map-exclusion", () => {
  it("ordinary guest memory: a kernel read of a guest frame is a violation naming the direct-map address and the kind", () => {
    const { step, guest } = setup("ordinary");
    expect(guest.length).toBeGreaterThan(0);
    const f = guest[0];
    const r = step({ t: "kernel-read", frame: f });
    expect(r.kernelFrame).toBe(f);
    const va = (0xffff888000000000n + BigInt(f) * 4096n).toString(16);
    expect(r.v).toEqual({
      property: "direct-map-exclusion", frame: f,
      message: `the kernel read frame ${f} through the direct map (virtual address 0x${va}); frame ${f} is guest memory (ordinary) that the host kernel can read`,
    });
    expect(r.counts).toEqual([0, 1, 0]);
    // A frame that is not guest memory: read, counted as context, no violation.
    const other = step({ t: "kernel-read", frame: 2 });
    expect(guest).not.toContain(2);
    expect([other.v, other.kernelFrame, other.counts]).toEqual([null, 2, [0, 0, 1]]);
    // Another event is neither checked nor counted.
    const map = step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" });
    expect([map.v, map.counts]).toEqual([null, [0, 0, 0]]);
  });

  for (const kind of ["devdax", "guest-memfd"] as const) {
    it(`${kind}: the read of a guest frame faults and reaches nothing; it still counts as the antecedent's case`, () => {
      const { step, guest } = setup(kind);
      const r = step({ t: "kernel-read", frame: guest[0] });
      expect([r.v, r.kernelFrame, r.counts]).toEqual([null, -1, [0, 1, 0]]);
    });
  }

  it("the message names the kind of guest memory the frame is", () => {
    // Frames of kind devdax read through a direct map that still maps them (a hand-made observation).
    const { sys, guest } = setup("devdax");
    const obs = new Observation();
    obs.kernelFrame = guest[0];
    const v = directMapExclusion.check(sys, sys.init, { t: "kernel-read", frame: guest[0] }, obs, sys.init);
    expect(v?.message).toMatch(/ is guest memory \(devdax\) that the host kernel can read$/);
    // A guest frame of a kind the table does not name: just "guest".
    const tx = new Tx(sys.g);
    tx.begin(sys.init);
    setFrame(tx.w(FRAMES), guest[0], ROLE_GUEST, 0, 0, 7);
    expect(directMapExclusion.check(sys, sys.init, { t: "kernel-read", frame: guest[0] }, obs, tx.commit())?.message).toMatch(/ is guest memory \(guest\) that/);
    // Not a kernel-read event: nothing to check even with a kernel frame observed.
    expect(directMapExclusion.check(sys, sys.init, { t: "tick", ms: 1 }, obs, sys.init)).toBeNull();
  });

  it("inert exactly without a guest region", () => {
    expect(directMapExclusion.inert!(DEFAULT_CONFIG)).toBe(true);
    expect(directMapExclusion.inert!({ ...DEFAULT_CONFIG, guestMemory: "ordinary" })).toBe(false);
    expect(directMapExclusion.antecedent!.cases).toEqual(["guest frame read"]);
    expect(directMapExclusion.antecedent!.context).toEqual(["other frame read"]);
  });
});

/**
 * direct-map-exclusion and the guest memory regions (model/memory-regions.ts):
 * ordinary guest memory is caught with a one-event counterexample (the kernel
 * reads a guest frame through its direct map); pageless (devdax) and
 * guest_memfd memory hold, with the interesting states reached: reads of
 * guest frames fault, reads of every other frame still work.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type GuestMemoryKind, type ModelConfig } from "../../model/config.ts";
import { FRAMES, HDR, H_KERNEL_PML4, PTMEM } from "../../model/geometry.ts";
import { mmuWalk, MmuWalk, PAGE_OFFSET_VPAGE } from "../../model/mmu.ts";
import { Observation } from "../../model/observation.ts";
import { frameAux, frameRole, ROLE_GUEST } from "../../model/physical-memory.ts";
import { strict } from "../../model/policies/strict.ts";
import { passthrough } from "../../model/policies/passthrough.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { guestKindCode, hasStructPages } from "../../model/memory-regions.ts";
import { findProperty } from "../../properties/index.ts";
import { randomCheck } from "../../checker/random.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";
import { traceEvents } from "../../checker/trace.ts";
import { configProblem } from "../../model/config.ts";

const prop = findProperty("direct-map-exclusion")!;
const cfg = (guestMemory: GuestMemoryKind): ModelConfig => ({ ...DEFAULT_CONFIG, guestMemory });

function guestFrames(c: ModelConfig): number[] {
  const s = makeSystem(c, strict).init;
  const out: number[] = [];
  for (let f = 0; f < c.frames; f++) if (frameRole(s[FRAMES], f) === ROLE_GUEST) out.push(f);
  return out;
}

describe("guest memory regions", () => {
  it("boot gives the region guestFrames frames of role guest, tagged with their kind", () => {
    for (const kind of ["ordinary", "devdax", "guest-memfd"] as const) {
      const c = { ...cfg(kind), guestFrames: 3 };
      const fs = guestFrames(c);
      expect(fs).toHaveLength(3);
      const s = makeSystem(c, strict).init;
      for (const f of fs) expect(frameAux(s[FRAMES], f)).toBe(guestKindCode(kind));
    }
    expect(guestFrames(DEFAULT_CONFIG)).toEqual([]);
    expect([hasStructPages("ordinary"), hasStructPages("devdax"), hasStructPages("guest-memfd")]).toEqual([true, false, true]);
    expect(configProblem({ ...DEFAULT_CONFIG, guestFrames: 9 })).toMatch(/guestFrames/);
    expect(configProblem({ ...DEFAULT_CONFIG, guestMemory: "nvram" as GuestMemoryKind })).toMatch(/guestMemory/);
  });

  it("devdax and guest-memfd split the 2 MiB direct-map entry: guest frames unmapped, every other frame still maps to itself", () => {
    for (const kind of ["devdax", "guest-memfd", "ordinary"] as const) {
      const c = cfg(kind);
      const s = makeSystem(c, strict).init;
      const guest = new Set(guestFrames(c));
      const w = new MmuWalk();
      for (let f = 0; f < c.frames; f++) {
        mmuWalk(s[PTMEM], s[HDR][H_KERNEL_PML4], PAGE_OFFSET_VPAGE + f, w);
        const excluded = kind !== "ordinary" && guest.has(f);
        expect(w.frame, `${kind} frame ${f}`).toBe(excluded ? -1 : f);
        // A 2 MiB entry is a 3-reference walk; a split one (4 KiB entries) a 4-reference one.
        expect(w.refs).toBe(kind === "ordinary" ? 3 : 4);
      }
    }
  });
});

describe("direct-map-exclusion", () => {
  it("ordinary guest memory: violated, and the counterexample is one kernel read of a guest frame", () => {
    const sys = makeSystem(cfg("ordinary"), strict);
    const r = randomCheck(sys, prop, { runs: 2000, seed: 42, maxEvents: 24 });
    expect(r.verdict).toBe("violated");
    expect(r.events).toHaveLength(1);
    const e = r.events![0];
    expect(e.t).toBe("kernel-read");
    expect(guestFrames(cfg("ordinary"))).toContain(e.t === "kernel-read" ? e.frame : -1);
    expect(traceEvents(sys, [prop], r.events!).explanation).toMatch(/the kernel read frame \d+ through the direct map .* guest memory \(ordinary\)/);
  });

  for (const kind of ["devdax", "guest-memfd"] as const) {
    it(`${kind}: holds (random and exhaustive), and reads of guest frames were tried and faulted`, () => {
      const c = cfg(kind);
      for (const policy of [strict, passthrough]) {
        const r = randomCheck(makeSystem(c, policy), prop, { runs: 2000, seed: 42, maxEvents: 24 });
        expect(r.verdict).toBe("holds");
      }
      const scope = { ...DEFAULT_SCOPE, config: { ...DEFAULT_SCOPE.config, guestMemory: kind } };
      const ex = exhaustiveCheck(makeSystem(scope.config, strict), [prop], alphabetEvents(scope), { depth: 40, maxStates: 200_000 });
      expect(ex.exhausted).toBe(true);
      expect(ex.outcomes[0].events).toBeNull();
      // Not vacuous: the alphabet reads every frame; guest frames fault, the others are reached.
      const sys = makeSystem(scope.config, strict);
      const obs = new Observation();
      const st = new Stepper(sys, obs);
      const guest = new Set(guestFrames(scope.config));
      expect(guest.size).toBe(2);
      for (let f = 0; f < scope.config.frames; f++) {
        st.step(sys.init, { t: "kernel-read", frame: f });
        expect(obs.kernelFrame).toBe(guest.has(f) ? -1 : f);
      }
      // The same reads under ordinary memory reach the guest frames.
      const ord = makeSystem({ ...scope.config, guestMemory: "ordinary" }, strict);
      const st2 = new Stepper(ord, obs);
      for (const f of guestFrames(ord.cfg)) {
        st2.step(ord.init, { t: "kernel-read", frame: f });
        expect(obs.kernelFrame).toBe(f);
      }
    });
  }

  it("without a guest region the alphabet has no kernel reads and the property holds trivially", () => {
    expect(alphabetEvents(DEFAULT_SCOPE).some((e) => e.t === "kernel-read")).toBe(false);
  });
});

/**
 * leftover-data: frames carry the owner of their contents; a device that
 * reads another owner's data (a live neighbour, or what a reused frame's
 * earlier owner left) violates it. Broken variants are caught by both
 * engines; the correct policies hold in the same runs; the antecedent (dirty
 * frames reaching a device-visible place) is reached.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES } from "../../model/geometry.ts";
import { Observation } from "../../model/observation.ts";
import { frameContents, frameRole, ROLE_BOUNCE, ROLE_FREE, ROLE_IO_POOL, ROLE_SLAB } from "../../model/physical-memory.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { damn } from "../../model/policies/damn.ts";
import { strict } from "../../model/policies/strict.ts";
import { shadow } from "../../model/policies/shadow.ts";
import { bounceNoZeroPadding, damnUnzeroedPool } from "../../model/policies/broken.ts";
import { type Policy } from "../../model/policy.ts";
import { type State } from "../../model/state.ts";
import { makeSystem, Stepper, type System } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { Contents, contentsAt, FROM_LEFTOVER } from "../../properties/leftover-data.ts";
import { eventsArbitrary } from "../../checker/arbitraries.ts";
import { Executor } from "../../checker/execute.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { randomCheck } from "../../checker/random.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";

const prop = findProperty("leftover-data")!;

describe("leftover-data", () => {
  it("damn-unzeroed-pool: memory free at boot holds the kernel's data; a new pool page mapped unzeroed exposes it (2 events, both engines)", () => {
    const ex = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, damnUnzeroedPool), [prop], alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 });
    const o = ex.outcomes[0];
    expect(o.events!.map((e) => e.t)).toEqual(["map", "dma"]);
    expect(o.violation!.message).toMatch(/holds the kernel's data: left there by an earlier user of frame \d+ and never zeroed/);
    expect(new Executor(makeSystem(DEFAULT_SCOPE.config, damn), [prop]).run(o.events!).violation).toBeNull();
    const r = randomCheck(makeSystem(DEFAULT_CONFIG, damnUnzeroedPool), prop, { runs: 10000, seed: 42, maxEvents: 24 });
    expect(r.events!.map((e) => e.t)).toEqual(["map", "dma"]);
    expect(new Executor(makeSystem(DEFAULT_CONFIG, damn), [prop]).run(r.events!).violation).toBeNull();
  });

  it("the correct damn, bounce and shadow hold over the whole default scope", () => {
    for (const p of [damn, bounce, shadow]) {
      const ok = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, p), [prop], alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 });
      expect([p.name, ok.outcomes[0].events, ok.exhausted]).toEqual([p.name, null, true]);
    }
  });

  it("bounce-no-zero-padding, random engine: a device reads another device's data left in a reused slot's padding", () => {
    // Seed 42 finds it no more since a quarter of the random maps became ranges inside their allocation
    // (of seeds 1-7, 3 and 7 find it); seed 7 in 3 events.
    const r = randomCheck(makeSystem(DEFAULT_CONFIG, bounceNoZeroPadding), prop, { runs: 10000, seed: 7, maxEvents: 24 });
    expect(r.verdict).toBe("violated");
    expect(r.events!.length).toBe(3);
    expect(r.violation!.message).toMatch(/data of the driver of dev\d: left there by an earlier user/);
    expect(new Executor(makeSystem(DEFAULT_CONFIG, bounce), [prop]).run(r.events!).violation).toBeNull();
  });

  it("a live neighbour counts too: strict exposes a kernel object beside a kmalloc buffer (3 events)", () => {
    const events: Event[] = [
      { t: "kmalloc", size: 64 },
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "dma", dev: 0, write: false, page: 3, offset: 0, len: 1 }, // IOVA page 513, the window's top (top-down)
    ];
    const v = new Executor(makeSystem(DEFAULT_SCOPE.config, strict), [prop]).run(events).violation;
    expect(v?.message).toMatch(/holds the kernel's data: a live kmalloc-64 object of the kernel/);
    // A write reads nothing: not this property's business.
    const w = events.slice(0, 2).concat({ t: "dma", dev: 0, write: true, page: 3, offset: 0, len: 1 });
    expect(new Executor(makeSystem(DEFAULT_SCOPE.config, strict), [prop]).run(w).violation).toBeNull();
  });

  it("frames keep their contents through the page allocator: a freed kernel slab's data is there for the next slab", () => {
    const sys = makeSystem(DEFAULT_SCOPE.config, strict);
    const st = new Stepper(sys, new Observation());
    let s = st.step(sys.init, { t: "kmalloc", size: 64 });
    const slab = [...Array(sys.cfg.frames).keys()].find((f) => frameRole(s[FRAMES], f) !== frameRole(sys.init[FRAMES], f))!;
    s = st.step(s, { t: "kfree", k: 0 });
    expect(frameRole(s[FRAMES], slab)).toBe(ROLE_FREE);
    expect(frameContents(s[FRAMES], slab)).toBe(1); // the kernel's (owner 0) + 1
    // The driver's kmalloc takes the same frame for a new slab, unzeroed: its free slots hold the kernel's old object.
    s = st.step(s, { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" });
    expect(frameRole(s[FRAMES], slab)).toBe(ROLE_SLAB);
    expect(frameContents(s[FRAMES], slab)).toBe(1);
    const exec = new Executor(sys, [prop]);
    const events: Event[] = [
      { t: "kmalloc", size: 64 }, { t: "kfree", k: 0 }, { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "dma", dev: 0, write: false, page: 3, offset: 64, len: 1 },
    ];
    expect(exec.run(events).violation?.message).toMatch(/byte 0x40 of frame \d+ holds the kernel's data: left there by an earlier user of frame \d+ and never zeroed \(the frame is now a kmalloc-64 slab/);
    // Inside the buffer the driver's own data: nothing to report.
    expect(exec.run(events.slice(0, 3).concat({ t: "dma", dev: 0, write: false, page: 3, offset: 0, len: 64 })).violation).toBeNull();
  });
});

type Witness = (sys: System, pre: State, obs: Observation, post: State) => boolean;

function search(policy: Policy, w: Witness, runs = 20000, seed = 7): Event[] | null {
  const sys = makeSystem(DEFAULT_CONFIG, policy);
  const obs = new Observation();
  const st = new Stepper(sys, obs);
  const found = fc.check(
    fc.property(eventsArbitrary(DEFAULT_CONFIG, 24), (events) => {
      let s = sys.init;
      for (const e of events) {
        const pre = s;
        s = st.step(s, e);
        if (w(sys, pre, obs, s)) return false;
      }
      return true;
    }),
    { seed, numRuns: runs, endOnFailure: true },
  );
  return found.failed ? found.counterexample![0] : null;
}

describe("leftover-data's antecedent is reached (its holds are not vacuous)", () => {
  it("damn: a frame holding another owner's leftovers joins a pool (and is zeroed)", () => {
    const joins: Witness = (sys, pre, _obs, post) => {
      for (let f = 0; f < sys.cfg.frames; f++) {
        if (frameRole(pre[FRAMES], f) === ROLE_FREE && frameContents(pre[FRAMES], f) !== 0 && frameRole(post[FRAMES], f) === ROLE_IO_POOL) {
          return frameContents(post[FRAMES], f) === 0;
        }
      }
      return false;
    };
    expect(search(damn, joins)).not.toBeNull();
  });

  it("bounce: a slot holding an earlier mapping's data is reused (its padding zeroed)", () => {
    const reused: Witness = (sys, pre, _obs, post) => {
      for (let f = 0; f < sys.cfg.frames; f++) {
        if (frameRole(pre[FRAMES], f) === ROLE_BOUNCE && frameContents(pre[FRAMES], f) !== 0 && frameContents(post[FRAMES], f) === 0) return true;
      }
      return false;
    };
    expect(search(bounce, reused)).not.toBeNull();
  });

  it("strict: a device reads bytes a reused frame's earlier owner left (the leftover case, not a live neighbour)", () => {
    const c = new Contents();
    const leftover: Witness = (sys, _pre, obs, post) => {
      if (obs.dev < 0 || obs.write) return false;
      for (let i = 0; i < obs.nseg; i++) {
        const start = obs.segFrame[i] * 4096 + obs.segOffset[i];
        for (let pos = start; pos < start + obs.segLen[i]; pos = c.end) {
          contentsAt(post, sys.cfg.maxMappings, pos, c);
          if (c.from === FROM_LEFTOVER && c.code !== 0) return true;
        }
      }
      return false;
    };
    expect(search(strict, leftover)).not.toBeNull();
  });
});

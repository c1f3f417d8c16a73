/**
 * MAIO with several user processes on one pool (model/policies/maio.ts,
 * ModelConfig.processes) and the process's own put_page (user-get,
 * user-put): user-confinement per process, leftover-data's user clause
 * (a pool page passing from one process to the next), and the broken
 * maio-grant-granted caught with its shortest counterexample.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { eventsArbitrary, OPT_IN_KINDS, swarmKinds } from "../../checker/arbitraries.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { randomCheck } from "../../checker/random.ts";
import { Executor } from "../../checker/execute.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { decodeScope } from "../../checker/scope-file.ts";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES, OBJECTS } from "../../model/geometry.ts";
import { objCount } from "../../model/objects.ts";
import { Observation } from "../../model/observation.ts";
import { contentsName, F_USER_SHARED, frameContents, frameFlags, userSharedProcess } from "../../model/physical-memory.ts";
import { findAnyPolicy, NET_BROKEN_POLICIES } from "../../model/policies/index.ts";
import { maio, maioGrantGranted } from "../../model/policies/maio.ts";
import { processOf } from "../../model/mmu.ts";
import { decodeFrames } from "../../model/decode/frames.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { ALL_PROPERTIES, findProperty } from "../../properties/index.ts";
import { checkInvariants, config, Runner } from "../model/helpers.ts";

/**
 * Two processes, one user page each (so the pool is one page, in both
 * processes' windows: process 0's user page 0, process 1's user page 1);
 * a 64-byte buffer both ways; each process touches, gets and puts its page.
 */
export const PROCS_SCOPE: Scope = {
  config: { ...DEFAULT_SCOPE.config, frames: 16, userPages: 2, processes: 2 },
  alphabet: {
    ...DEFAULT_SCOPE.alphabet, kmallocSizes: [64], pageSizes: [], mapRanges: [], directions: ["to-device", "from-device"],
    userTouchPages: [0, 1], userGetPages: [0, 1], userPutPages: [0, 1],
  },
};

const get = (page: number): Event => ({ t: "user-get", cpu: 0, page });
const put = (page: number): Event => ({ t: "user-put", cpu: 0, page });
const touch = (page: number, write = false): Event => ({ t: "user-touch", cpu: 0, page, write });

describe("several processes on one MAIO pool", () => {
  it("processOf splits the user pages evenly; one process owns them all", () => {
    expect([0, 1, 2, 3].map((p) => processOf({ userPages: 4, processes: 2 }, p))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2, 3, 4].map((p) => processOf({ userPages: 5, processes: 2 }, p))).toEqual([0, 0, 1, 1, 1]);
    expect([0, 3].map((p) => processOf({ userPages: 4 }, p))).toEqual([0, 0]);
  });

  it("a page is granted to one process at a time: mapped into it by user-get, revoked by user-put; the other is refused meanwhile", () => {
    const r = Runner.of(maio, PROCS_SCOPE.config);
    expect(r.step(touch(0)).reason).toMatch(/not granted to this process \(SIGBUS\)/); // nothing granted at boot, nothing faulted in
    expect(r.step(get(0)).noop).toBe(false);
    const f = r.step(touch(0)).post; // process 0 reaches the pool page
    const frame = Array.from({ length: 16 }, (_, i) => i).find((i) => (frameFlags(f[FRAMES], i) & F_USER_SHARED) !== 0)!;
    expect(userSharedProcess(f[FRAMES], frame)).toBe(0);
    expect(r.step(get(1)).reason).toBe("the page is granted to process 0");
    expect(r.step(put(1)).reason).toBe("the page is not granted to this process");
    expect(r.step(put(0)).noop).toBe(false);
    expect(r.step(touch(0)).reason).toMatch(/SIGBUS/); // the PTE and every TLB entry are gone
    expect(r.step(get(1)).noop).toBe(false);
    expect(userSharedProcess(r.step(touch(1)).post[FRAMES], frame)).toBe(1);
  });

  it("decoded states name the process a pool page is granted to and the process an anonymous page belongs to", () => {
    // Three pages each, a two-page pool: process 1's window is pages 3 and 4, page 5 its own.
    const r = Runner.of(maio, { ...PROCS_SCOPE.config, userPages: 6 });
    expect(r.steps([get(3), touch(5)]).map((x) => x.noop)).toEqual([false, false]);
    const frames = decodeFrames(r.sys.g, r.state);
    expect(frames.some((x) => x.role === "io-pool" && x.detail.includes("granted to user process 1"))).toBe(true);
    expect(frames.some((x) => x.role === "user" && x.owner === "user process 1")).toBe(true);
    // munmap frees process 1's page with its data in it: the frame's leftovers are process 1's.
    const user = frames.find((x) => x.role === "user")!;
    const after = r.step({ t: "user-unmap", cpu: 0, page: 5 }).post;
    expect(contentsName(frameContents(after[FRAMES], Number(user.key)))).toBe("data of user process 1");
  });

  it("the NIC's buffer is delivered to a process only after its unmap; user-put frees it (put_page by the process)", () => {
    const r = Runner.of(maio, PROCS_SCOPE.config);
    r.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" });
    expect(r.step(get(1)).reason).toBe("the NIC may still use a buffer in the page");
    r.step({ t: "unmap", cpu: 0, k: 0, free: false }); // handed over
    expect(r.step(get(1)).noop).toBe(false);
    const before = objCount(r.state[OBJECTS]);
    expect(r.step(put(1)).noop).toBe(false);
    expect(objCount(r.state[OBJECTS])).toBe(before - 1);
  });

  it("verdicts on every property, exhausted on the two-process scope: user-confinement holds; leftover-data is violated", () => {
    const r = exhaustiveCheck(makeSystem(PROCS_SCOPE.config, maio), ALL_PROPERTIES, alphabetEvents(PROCS_SCOPE), { depth: 40, maxStates: 200_000 });
    expect(r.exhausted).toBe(true);
    expect(r.states).toBe(7936);
    const got = Object.fromEntries(r.outcomes.map((o, i) => [ALL_PROPERTIES[i].name, o.events === null ? "holds" : `violated (${o.events.length})`]));
    const held = Object.fromEntries(ALL_PROPERTIES.map((p) => [p.name, "holds"]));
    expect(got).toEqual({ ...held, "leftover-data": "violated (3)" });
  });

  it("leftover-data's user clause: a page passes from process 0 to process 1 with process 0's data in it (MAIO does not zero on put_page)", () => {
    const prop = findProperty("leftover-data")!;
    const cx = [get(0), touch(0, true), put(0), get(1), touch(1)];
    const v = new Executor(makeSystem(PROCS_SCOPE.config, maio), [prop]).run(cx).violation!;
    expect(v.step).toBe(4);
    expect(v.message).toMatch(/^user process 1 read frame \d+; byte 0x0 holds data of user process 0/);
    // Process 1 reading back its own data is no violation.
    expect(new Executor(makeSystem(PROCS_SCOPE.config, maio), [prop]).run([get(1), touch(1, true), touch(1)]).violation).toBeNull();
  });
});

describe("maio-grant-granted", () => {
  it("is caught by user-confinement in 3 events: process 0 still reaches the page granted to process 1; maio holds in the same scope", () => {
    expect(findAnyPolicy("maio-grant-granted")).toBe(maioGrantGranted);
    expect(NET_BROKEN_POLICIES).toContain(maioGrantGranted);
    const prop = findProperty("user-confinement")!;
    // The broken grant leaks references, so its space has no end: the shortest counterexample is found within a few hundred states.
    const bad = exhaustiveCheck(makeSystem(PROCS_SCOPE.config, maioGrantGranted), [prop], alphabetEvents(PROCS_SCOPE), { depth: 40, maxStates: 5000 });
    const cx = bad.outcomes[0].events!;
    expect(cx).toHaveLength(3);
    expect(cx.slice(0, 2).map((e) => e.t)).toEqual(["user-get", "user-get"]);
    expect(cx[2].t).toBe("user-touch");
    const v = new Executor(makeSystem(PROCS_SCOPE.config, maioGrantGranted), [prop]).run(cx).violation!;
    expect(v.message).toMatch(/^user process \d reached frame \d+, which is not granted to it: it is I\/O memory granted to user process \d/);
    const good = exhaustiveCheck(makeSystem(PROCS_SCOPE.config, maio), [prop], alphabetEvents(PROCS_SCOPE), { depth: 40, maxStates: 200_000 });
    expect(good.exhausted).toBe(true);
    expect(good.outcomes[0].events).toBeNull();
  });
});

describe("the random engine on the two-process scope", () => {
  it("draws user-get and user-put for maio and finds maio-grant-granted's user-confinement violation and maio's leftover-data", () => {
    const uc = findProperty("user-confinement")!;
    const bad = randomCheck(makeSystem(PROCS_SCOPE.config, maioGrantGranted), uc, { runs: 2000, seed: 42, maxEvents: 24 });
    expect(bad.verdict).toBe("violated");
    expect(bad.events!.some((e) => e.t === "user-get")).toBe(true);
    const good = randomCheck(makeSystem(PROCS_SCOPE.config, maio), uc, { runs: 300, seed: 42, maxEvents: 24 });
    expect(good.verdict).toBe("holds");
    const lo = randomCheck(makeSystem(PROCS_SCOPE.config, maio), findProperty("leftover-data")!, { runs: 2000, seed: 42, maxEvents: 24 });
    expect(lo.verdict).toBe("violated");
  });
});

describe("user-put by the one process (MAIO mapped for good)", () => {
  it("frees the received buffers the kernel holds in the page; a page without one is a no-op", () => {
    const r = Runner.of(maio, { ...DEFAULT_SCOPE.config, frames: 16, userPages: 2 }); // the MAIO scope's machine (maio.test.ts)
    expect(r.step(put(0)).reason).toBe("the process holds no received buffer in that page");
    expect(r.step(get(0)).reason).toMatch(/for good/);
    r.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" });
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    const before = objCount(r.state[OBJECTS]);
    // The fragment sits at the top of page 0 of the compound page (page_frag carves downward).
    expect(r.step(put(0)).noop).toBe(false);
    expect(objCount(r.state[OBJECTS])).toBe(before - 1);
  });

  it("a policy without userGet/userPut: no-op", () => {
    const r = Runner.of(findAnyPolicy("strict")!, { userPages: 2 });
    expect(r.step(put(0)).reason).toBe("the policy shares no I/O memory with user processes");
  });
});

describe("opt-in events leave the default alphabets alone", () => {
  it("the default scope has no user-get, user-put or xdp-tx; the random engine draws them only for a policy that asks", () => {
    expect(alphabetEvents(DEFAULT_SCOPE).some((e) => (OPT_IN_KINDS as readonly string[]).includes(e.t))).toBe(false);
    expect(swarmKinds(DEFAULT_CONFIG).some((t) => OPT_IN_KINDS.includes(t))).toBe(false);
    expect(swarmKinds(DEFAULT_CONFIG, maio.events)).toEqual(expect.arrayContaining(["user-get", "user-put"]));
    expect(maio.events).toEqual(["user-get", "user-put"]);
  });

  it("a scope file lists them (userGetPages, userPutPages, xdpTxSlots) and the config's processes", () => {
    const r = decodeScope({ config: { userPages: 2, processes: 2 }, alphabet: { userGetPages: [0, 1], userPutPages: [1], xdpTxSlots: 1 } }, "s.json");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const evs = alphabetEvents(r.value.scope).filter((e) => (OPT_IN_KINDS as readonly string[]).includes(e.t));
    expect(evs).toEqual([get(0), get(1), put(1), { t: "xdp-tx", cpu: 0, k: 0 }]);
    const bad = decodeScope({ config: { userPages: 1, processes: 2 } }, "s.json");
    expect(bad.ok).toBe(false);
  });
});

describe("maio steps with the opt-in events", () => {
  const cfg = config({ processes: 2 });
  const sys = makeSystem(cfg, maio);
  test.prop([eventsArbitrary(cfg, 40, undefined, maio.events)], { numRuns: 60 })(
    "two processes on the random engine's machine: total and keeps the structural invariants",
    (evs) => {
      const stepper = new Stepper(sys, new Observation());
      let s = sys.init;
      for (let i = 0; i < evs.length; i++) {
        s = stepper.step(s, evs[i]);
        const bad = checkInvariants(sys, s);
        if (bad !== null) throw new Error(`after step ${i} (${JSON.stringify(evs[i])}): ${bad}`);
      }
      expect(fc).toBeDefined();
    },
  );
});

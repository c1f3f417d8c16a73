/**
 * user-confinement (properties/user-confinement.ts): a user process reaches
 * only its own anonymous pages and the I/O memory granted to it, and never
 * the kernel's data there. The two MAIO counterexamples of
 * test/checker/maio*.test.ts replayed with their exact messages, and the
 * check and antecedent on hand-made states: which role, process and flag
 * grant a frame, which message names whom. Added for issue 15 part 7
 * (Stryker survivors of properties/user-confinement.ts).
 */
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { DEFAULT_CONFIG, type ModelConfig } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES, FRAME_W } from "../../model/geometry.ts";
import { allocPoolObject, OWNER_KERNEL, OWNER_USER } from "../../model/objects.ts";
import { Observation } from "../../model/observation.ts";
import { F_USER_PROC_SHIFT, F_USER_SHARED, frameRole, ROLE_FREE, ROLE_IO_POOL, ROLE_KERNEL, ROLE_USER, setFrame } from "../../model/physical-memory.ts";
import { maio, maioGrantGranted, maioTailFreedWhileMapped } from "../../model/policies/maio.ts";
import { strict } from "../../model/policies/strict.ts";
import { type State, Tx } from "../../model/state.ts";
import { makeSystem, type System } from "../../model/system.ts";
import { userConfinement, userGranted } from "../../properties/user-confinement.ts";

const MAIO: ModelConfig = { ...DEFAULT_CONFIG, frames: 16, userPages: 2 };
const PROCS: ModelConfig = { ...DEFAULT_CONFIG, frames: 16, cpus: 1, devices: 1, iovaPages: 4, iovaBasePfn: 510, fqSize: 2, maxMappings: 1, maxObjects: 4, cmdQueueEntries: 8, maxOrder: 2, userPages: 2, processes: 2 };

/** The first frame of `s` with F_USER_SHARED. */
function sharedFrame(sys: System, s: State): number {
  for (let f = 0; f < sys.cfg.frames; f++) if ((s[FRAMES][f * FRAME_W] & F_USER_SHARED) !== 0) return f;
  return -1;
}
/** A state edited by `edit`, and an observation of process `proc` reaching frame `f`. */
function edited(sys: System, edit: (tx: Tx) => void, f: number, proc = 0) {
  const tx = new Tx(sys.g);
  tx.begin(sys.init);
  edit(tx);
  const post = tx.commit();
  const obs = new Observation();
  obs.userFrame = f;
  obs.userProc = proc;
  return { post, obs };
}
const check = (sys: System, post: State, obs: Observation) => userConfinement.check(sys, sys.init, { t: "user-touch", cpu: 0, page: 0, write: false }, obs, post);
const count = (sys: System, post: State, obs: Observation) => {
  const c = new Float64Array(4);
  userConfinement.antecedent!.count(sys, sys.init, { t: "user-touch", cpu: 0, page: 0, write: false }, obs, post, c, 1);
  return Array.from(c);
};

describe("user-confinement", () => {
  it("maio-tail-freed-while-mapped: the process reaches its freed tail page, then the slab page the kernel made of it", () => {
    const sys = makeSystem(MAIO, maioTailFreedWhileMapped);
    const map: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" };
    const unmap: Event = { t: "unmap", cpu: 0, k: 0, free: true };
    const touch: Event = { t: "user-touch", cpu: 0, page: 1, write: false };
    const v = new Executor(sys, [userConfinement]).run([map, unmap, touch]).violation!;
    expect(v.step).toBe(2);
    expect(v.frame).toBeGreaterThanOrEqual(0);
    expect(v.message).toBe(`the user process reached frame ${v.frame}, which is not granted to it: it is free`);
    const w = new Executor(sys, [userConfinement]).run([map, unmap, { t: "kmalloc", size: 64 }, touch]).violation!;
    expect(w.message).toBe(`the user process reached frame ${w.frame}, which is not granted to it: it is a kmalloc-64 slab holding a kmalloc-64 object of the kernel at +0x0`);
    // maio itself: the same events hold.
    expect(new Executor(makeSystem(MAIO, maio), [userConfinement]).run([map, unmap, touch]).violation).toBeNull();
  });

  it("maio-grant-granted (two processes): process 0 reaches the page granted to process 1, and the message names process 1", () => {
    const events: Event[] = [{ t: "user-get", cpu: 0, page: 0 }, { t: "user-get", cpu: 0, page: 1 }, { t: "user-touch", cpu: 0, page: 0, write: false }];
    const v = new Executor(makeSystem(PROCS, maioGrantGranted), [userConfinement]).run(events).violation!;
    expect(v.step).toBe(2);
    expect(v.message).toBe(`user process 0 reached frame ${v.frame}, which is not granted to it: it is I/O memory granted to user process 1`);
    expect(v.property).toBe("user-confinement");
    expect(new Executor(makeSystem(PROCS, maio), [userConfinement]).run(events).violation).toBeNull();
  });

  it("a frame shared with the process that holds a kernel object: the byte and whose data it is", () => {
    const sys = makeSystem(MAIO, maio);
    const f = sharedFrame(sys, sys.init);
    expect(f).toBeGreaterThanOrEqual(0);
    const clean = edited(sys, () => {}, f);
    expect(check(sys, clean.post, clean.obs)).toBeNull();
    const { post, obs } = edited(sys, (tx) => allocPoolObject(tx, f, 0x140, 64, OWNER_KERNEL, new Observation()), f);
    expect(check(sys, post, obs)).toEqual({ property: "user-confinement", frame: f, message: `the user process reached frame ${f}, shared with it; byte 0x140 holds the kernel's data` });
    // The process's own object there is no violation.
    const own = edited(sys, (tx) => allocPoolObject(tx, f, 0x140, 64, OWNER_USER, new Observation()), f);
    expect(check(sys, own.post, own.obs)).toBeNull();
    // No user access: nothing to check, nothing counted.
    const none = new Observation();
    expect(check(sys, post, none)).toBeNull();
    expect(count(sys, post, none)).toEqual([0, 0, 0, 0]);
  });

  it("which frames are granted: the process's own anonymous page, I/O memory shared with that process; not another's, not unshared pool, not kernel", () => {
    const sys = makeSystem({ ...MAIO, processes: 2 }, maio);
    const f = 3;
    const cases: [string, (tx: Tx) => void, boolean, boolean][] = [
      // name, edit, granted to process 0, granted to process 1
      ["anonymous page of process 0", (tx) => setFrame(tx.w(FRAMES), f, ROLE_USER, 0, 0, 1), true, false],
      ["anonymous page of process 1", (tx) => setFrame(tx.w(FRAMES), f, ROLE_USER, 0, 0, 2), false, true],
      ["pool shared with process 0", (tx) => setFrame(tx.w(FRAMES), f, ROLE_IO_POOL, 0, F_USER_SHARED, 0), true, false],
      ["pool shared with process 1", (tx) => setFrame(tx.w(FRAMES), f, ROLE_IO_POOL, 0, F_USER_SHARED | (1 << F_USER_PROC_SHIFT), 0), false, true],
      ["pool not shared", (tx) => setFrame(tx.w(FRAMES), f, ROLE_IO_POOL, 0, 0, 0), false, false],
      ["kernel page with the shared flag", (tx) => setFrame(tx.w(FRAMES), f, ROLE_KERNEL, 0, F_USER_SHARED, 1), false, false],
    ];
    for (const [name, edit, p0, p1] of cases) {
      const { post } = edited(sys, edit, f);
      expect([userGranted(post, f, 0), userGranted(post, f, 1)], name).toEqual([p0, p1]);
      expect(userGranted(post, f), name).toBe(p0); // one process: process 0
    }
  });

  it("with several processes the message names who the frame belongs to; otherwise it describes the frame", () => {
    const two = makeSystem({ ...MAIO, processes: 2 }, maio);
    const msg = (sys: System, edit: (tx: Tx) => void, proc: number) => {
      const { post, obs } = edited(sys, edit, 3, proc);
      return check(sys, post, obs)?.message ?? null;
    };
    expect(msg(two, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_USER, 0, 0, 2), 0)).toBe("user process 0 reached frame 3, which is not granted to it: it is the anonymous page of user process 1");
    expect(msg(two, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_USER, 0, 0, 1), 1)).toBe("user process 1 reached frame 3, which is not granted to it: it is the anonymous page of user process 0");
    expect(msg(two, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_IO_POOL, 0, F_USER_SHARED, 0), 1)).toBe("user process 1 reached frame 3, which is not granted to it: it is I/O memory granted to user process 0");
    const free = msg(two, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_FREE, 0, 0, 0), 0)!;
    expect(free).toMatch(/^the user process reached frame 3, which is not granted to it: it is /);
    const pool = msg(two, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_IO_POOL, 0, 0, 0), 0)!;
    expect(pool).toMatch(/^the user process reached frame 3, which is not granted to it: it is /);
    // A kernel frame flagged shared is not I/O memory: described, not "granted to process 0".
    expect(msg(two, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_KERNEL, 0, F_USER_SHARED, 0), 1)).toMatch(/^the user process reached frame 3, which is not granted to it: it is /);
    // processes: 1 is one process: described.
    const single = makeSystem({ ...MAIO, processes: 1 }, maio);
    expect(msg(single, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_USER, 0, 0, 2), 0)).toMatch(/^the user process reached frame 3, which is not granted to it: it is /);
    const one = makeSystem(MAIO, maio);
    expect(msg(one, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_USER, 0, 0, 2), 0)).toMatch(/^the user process reached frame 3, which is not granted to it: it is /);
    expect(frameRole(one.init[FRAMES], 3)).not.toBe(ROLE_USER);
  });

  it("the antecedent counts an access to another frame as the case, one to the process's own page as context", () => {
    const sys = makeSystem({ ...MAIO, processes: 2 }, maio);
    const own = edited(sys, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_USER, 0, 0, 2), 3, 1);
    expect(count(sys, own.post, own.obs)).toEqual([0, 0, 1, 0]);
    const other = edited(sys, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_USER, 0, 0, 2), 3, 0);
    expect(count(sys, other.post, other.obs)).toEqual([0, 1, 0, 0]);
    const shared = edited(sys, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_IO_POOL, 0, F_USER_SHARED, 0), 3, 0);
    expect(count(sys, shared.post, shared.obs)).toEqual([0, 1, 0, 0]);
    // A kernel frame whose aux reads as process 0: not the process's own page.
    const kernel = edited(sys, (tx) => setFrame(tx.w(FRAMES), 3, ROLE_KERNEL, 0, 0, 1), 3, 0);
    expect(count(sys, kernel.post, kernel.obs)).toEqual([0, 1, 0, 0]);
    expect(userConfinement.antecedent!.afterMap).toBe(false);
    expect(makeSystem(MAIO, strict).cfg.processes).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { FRAMES, OBJECTS } from "../../model/geometry.ts";
import { allocFrames, frameRole, freeFrames, ROLE_FREE, ROLE_IO_BUFFER, ROLE_PINNED, ROLE_USER } from "../../model/physical-memory.ts";
import { pinCount, pinFrame, unpinFrame } from "../../model/pinning.ts";
import { freeObject, kmalloc, objFrame, OWNER_KERNEL } from "../../model/objects.ts";
import { ROLE_SLAB } from "../../model/physical-memory.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem, Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";
import { Kernel } from "../../model/kernel.ts";
import { userTouch, userUnmap } from "../../model/mmu.ts";
import { config, framesOnFreeLists, freshTx, listedHeadsConsistent, txOn } from "./helpers.ts";

describe("pinning", () => {
  it("counts pins per frame in w1 bits 0..15 and refuses free frames", () => {
    const { tx, obs } = freshTx(config());
    const f = allocFrames(tx, 1, ROLE_IO_BUFFER, 2, obs);
    expect(pinFrame(tx, f, obs)).toBe(true);
    expect(pinFrame(tx, f, obs)).toBe(true);
    expect(pinFrame(tx, f + 1, obs)).toBe(true);
    expect(pinCount(tx.c[FRAMES], f)).toBe(2);
    expect(pinCount(tx.c[FRAMES], f + 1)).toBe(1);
    expect(obs.counters[C.pins]).toBe(3);
    const free = [...framesOnFreeLists(tx.g.cfg, tx.c[FRAMES])][0];
    expect(pinFrame(tx, free, obs)).toBe(false);
    expect(unpinFrame(tx, free, obs)).toBe(false);
    expect(obs.counters[C.pins]).toBe(3);
  });

  it("a pinned block its owner frees is kept (role pinned) until its last unpin frees it", () => {
    const { tx, obs } = freshTx(config());
    const f = allocFrames(tx, 1, ROLE_IO_BUFFER, 2, obs);
    pinFrame(tx, f, obs);
    pinFrame(tx, f + 1, obs);
    freeFrames(tx, f, 1, obs);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_PINNED);
    expect(frameRole(tx.c[FRAMES], f + 1)).toBe(ROLE_PINNED);
    expect(framesOnFreeLists(tx.g.cfg, tx.c[FRAMES]).has(f)).toBe(false);
    unpinFrame(tx, f, obs);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_PINNED); // f + 1 is still pinned
    unpinFrame(tx, f + 1, obs);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_FREE);
    expect(framesOnFreeLists(tx.g.cfg, tx.c[FRAMES]).has(f)).toBe(true);
    expect(listedHeadsConsistent(tx.g.cfg, tx.c[FRAMES])).toBe(true);
    expect(obs.counters[C.unpins]).toBe(2);
    // The freed frames carry no pin count into their next life.
    const again = allocFrames(tx, 1, ROLE_IO_BUFFER, 2, obs);
    expect(again).toBe(f);
    expect(pinCount(tx.c[FRAMES], f)).toBe(0);
  });

  it("unpinning a frame its owner still holds leaves it allocated", () => {
    const { tx, obs } = freshTx(config());
    const i = kmalloc(tx, 64, OWNER_KERNEL, ROLE_SLAB, obs);
    const f = objFrame(tx.c[OBJECTS], i);
    pinFrame(tx, f, obs);
    unpinFrame(tx, f, obs);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_SLAB);
    // A pinned slab emptied by kfree is not reused as a slab.
    pinFrame(tx, f, obs);
    freeObject(tx, i, obs);
    expect(frameRole(tx.c[FRAMES], f)).toBe(ROLE_PINNED);
    const j = kmalloc(tx, 64, OWNER_KERNEL, ROLE_SLAB, obs);
    expect(objFrame(tx.c[OBJECTS], j)).not.toBe(f);
  });

  it("munmap of a pinned user page does not reclaim the frame", () => {
    const sys = makeSystem(config({ userPages: 2 }), strict);
    const { tx, obs } = txOn(sys);
    userTouch(tx, 0, 0, true, obs);
    const user = [...Array(sys.cfg.frames).keys()].find((f) => frameRole(tx.c[FRAMES], f) === ROLE_USER)!;
    pinFrame(tx, user, obs);
    userUnmap(tx, 0, 0, obs);
    expect(frameRole(tx.c[FRAMES], user)).toBe(ROLE_PINNED);
    unpinFrame(tx, user, obs);
    expect(frameRole(tx.c[FRAMES], user)).toBe(ROLE_FREE);
  });

  it("the Kernel pins every page of a mapping once and unpins them all", () => {
    const sys = makeSystem(config(), strict);
    const st = new Stepper(sys, new Observation());
    const s = st.step(sys.init, { t: "map", cpu: 0, dev: 0, src: "pages", size: 3 * 4096, dir: "bidirectional" });
    const { tx, obs } = txOn(sys, s);
    const k = new Kernel(tx, obs);
    expect(k.pinMapping(0)).toBe(true);
    expect(obs.counters[C.pins]).toBe(4); // 3 pages round up to an order-2 block, all 4 pages mapped
    k.unpinMapping(0);
    expect(obs.counters[C.unpins]).toBe(4);
  });
});

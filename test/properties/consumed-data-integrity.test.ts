/**
 * consumed-data-integrity (properties/consumed-data-integrity.ts): lazy lets
 * a device write through its stale IOTLB entry into a received buffer whose
 * unmap has returned and which the driver still holds; the exact message,
 * the byte ranges that overlap the buffer and those beside it, and what is
 * not consumed (still mapped, freed, a read). Added for issue 15 part 7
 * (Stryker survivors).
 */
import { describe, expect, it } from "vitest";
import { type Event } from "../../model/events.ts";
import { MAPS, OBJECTS } from "../../model/geometry.ts";
import { allocPoolObject, OWNER_USER } from "../../model/objects.ts";
import { Observation } from "../../model/observation.ts";
import { mSegFrame, mSegOffset } from "../../model/dma-mapping.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Policy } from "../../model/policy.ts";
import { consumed, consumedDataIntegrity, consumedObjectIn } from "../../properties/consumed-data-integrity.ts";
import { Runner } from "../model/helpers.ts";

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" };
const write = (offset: number, len: number, write = true): Event => ({ t: "dma", dev: 0, write, page: 15, offset, len });

/** Map, a write (the IOTLB caches it), the unmap (`free`: the driver frees the buffer too); the check's answer for `after`. */
function run(policy: Policy, free: boolean, after: Event) {
  const r = Runner.of(policy);
  r.steps([MAP, write(0, 1)]);
  const frame = mSegFrame(r.state[MAPS], 0, 0), off = mSegOffset(r.state[MAPS], 0, 0);
  r.step({ t: "unmap", cpu: 0, k: 0, free });
  const s = r.step(after);
  const counts = new Float64Array(3);
  consumedDataIntegrity.antecedent!.count(r.sys, s.pre, s.event, r.obs, s.post, counts, 1);
  return { r, s, frame, off, v: consumedDataIntegrity.check(r.sys, s.pre, s.event, r.obs, s.post), counts: Array.from(counts) };
}

describe("consumed-data-integrity", () => {
  it("lazy: a write through the stale IOTLB entry into the buffer the driver holds after its unmap", () => {
    const probe = run(lazy, false, { t: "tick", ms: 1 });
    const off = probe.off;
    const { v, frame, counts, s } = run(lazy, false, write(off + 8, 4));
    expect(s.segSource.length).toBe(1);
    expect(v).toEqual({
      property: "consumed-data-integrity", dev: 0, frame, iovaPfn: 519,
      message: `device 0 wrote bytes 0x${(off + 8).toString(16)}..0x${(off + 11).toString(16)} of frame ${frame} through an IOTLB entry for IOVA 0x${(519 * 4096 + off + 8).toString(16)}, ` +
        `inside kmalloc-64 object of the driver of dev0, which the kernel is consuming: its unmap returned and the driver holds it`,
    });
    expect(counts).toEqual([0, 1, 0]);
  });

  it("the buffer's first and last bytes are inside it; the bytes just before and after are not", () => {
    const off = run(lazy, false, { t: "tick", ms: 1 }).off;
    expect(run(lazy, false, write(off + 63, 1)).v).not.toBeNull();
    expect(run(lazy, false, write(off, 1)).v).not.toBeNull();
    expect(run(lazy, false, write(off + 64, 8)).v).toBeNull();
    if (off > 0) expect(run(lazy, false, write(off - 1, 1)).v).toBeNull();
    else expect(run(lazy, false, write(off + 64, 1)).counts).toEqual([0, 1, 0]); // the frame holds it: counted, not violated
  });

  it("not consumed: a read, a freed buffer, a still-mapped one; strict leaves nothing to write through", () => {
    const off = run(lazy, false, { t: "tick", ms: 1 }).off;
    const read = run(lazy, false, write(off, 4, false));
    expect([read.v, read.counts]).toEqual([null, [0, 0, 0]]);
    const freed = run(lazy, true, write(off, 4));
    expect(freed.v).toBeNull();
    expect(freed.counts).toEqual([0, 0, 1]); // a device write, to a frame holding no consumed buffer
    const st = run(strict, false, write(off, 4));
    expect(st.v).toBeNull();
    const r = Runner.of(lazy);
    r.steps([MAP, write(0, 1)]);
    const s = r.step(write(0, 4));
    expect(consumedDataIntegrity.check(r.sys, s.pre, s.event, r.obs, s.post)).toBeNull();
    const f = mSegFrame(r.state[MAPS], 0, 0);
    expect(consumedObjectIn(r.state, r.sys.cfg.maxMappings, f * 4096, (f + 1) * 4096)).toBe(-1);
  });

  it("only this step's device writes count: not a read, not without a device, not a stale segment past nseg", () => {
    const { r, frame, off } = run(lazy, false, { t: "tick", ms: 1 });
    const e: Event = { t: "tick", ms: 1 };
    const obs = new Observation();
    const at = (dev: number, write: boolean, nseg: number) => {
      obs.dev = dev;
      obs.write = write;
      obs.nseg = nseg;
      obs.segFrame[0] = frame;
      obs.segOffset[0] = off;
      obs.segLen[0] = 4;
      const c = new Float64Array(4);
      consumedDataIntegrity.antecedent!.count(r.sys, r.state, e, obs, r.state, c, 1);
      return [consumedDataIntegrity.check(r.sys, r.state, e, obs, r.state) !== null, ...Array.from(c)];
    };
    expect(at(0, true, 1)).toEqual([true, 0, 1, 0, 0]);
    expect(at(0, false, 1)).toEqual([false, 0, 0, 0, 0]);
    expect(at(-1, true, 1)).toEqual([false, 0, 0, 0, 0]);
    expect(at(0, true, 0)).toEqual([false, 0, 0, 0, 0]);
  });

  it("another live mapping does not keep the unmapped buffer from being consumed", () => {
    const r = Runner.of(lazy);
    r.steps([MAP, write(0, 1), { ...MAP, size: 128 }]);
    const frame = mSegFrame(r.state[MAPS], 0, 0), off = mSegOffset(r.state[MAPS], 0, 0);
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    expect(consumedObjectIn(r.state, r.sys.cfg.maxMappings, frame * 4096 + off, frame * 4096 + off + 1)).toBeGreaterThanOrEqual(0);
    const s = r.step(write(off, 4));
    expect(consumedDataIntegrity.check(r.sys, s.pre, s.event, r.obs, s.post)).not.toBeNull();
  });

  it("a user-owned object is never consumed", () => {
    const r = Runner.of(lazy);
    const tx = r.tx();
    const i = allocPoolObject(tx, 20, 0, 64, OWNER_USER, new Observation());
    expect(i).toBeGreaterThanOrEqual(0);
    const st = tx.commit();
    expect(consumed(st, r.sys.cfg.maxMappings, i)).toBe(false);
    expect(consumedObjectIn(st, r.sys.cfg.maxMappings, 20 * 4096, 21 * 4096)).toBe(-1);
  });

  it("consumed: a driver's object no live mapping names; the kernel's own objects never are", () => {
    const { r, frame } = run(lazy, false, { t: "kmalloc", size: 64 });
    const ob = r.state[OBJECTS];
    const n = ob[0];
    const found = consumedObjectIn(r.state, r.sys.cfg.maxMappings, frame * 4096, (frame + 1) * 4096);
    expect(found).toBeGreaterThanOrEqual(0);
    expect(consumed(r.state, r.sys.cfg.maxMappings, found)).toBe(true);
    let kernel = 0;
    for (let i = 0; i < n; i++) if (i !== found) { expect(consumed(r.state, r.sys.cfg.maxMappings, i)).toBe(false); kernel++; }
    expect(kernel).toBeGreaterThanOrEqual(0);
    expect(consumedDataIntegrity.antecedent!.afterMap).toBe(true);
  });
});

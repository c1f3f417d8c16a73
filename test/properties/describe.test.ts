/**
 * properties/describe.ts, the words every violation message uses for a
 * frame, a byte and a translation source, on hand-made states: each role,
 * a slab with no, one and more than three objects, an object reaching into
 * the frame from the one before, bounce frames with and without an owner
 * and leftover data, the allocation slack beyond a mapped buffer. Added for
 * issue 15 part 7 (Stryker survivors of properties/describe.ts).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { FRAMES, FRAME_W, OBJECTS } from "../../model/geometry.ts";
import { allocPagesObject, allocPoolObject, kmalloc, KIND_PAGES, objFrame, OWNER_KERNEL, ownerDriver } from "../../model/objects.ts";
import {
  F_DETACHED, F_STALE, ROLE_BOUNCE, ROLE_FREE, ROLE_IO_POOL, ROLE_IOMMU_PT, ROLE_KERNEL, ROLE_MMU_PT, ROLE_SLAB, setFrame,
} from "../../model/physical-memory.ts";
import { Observation, SRC_ATC, SRC_FORGED, SRC_IOTLB, SRC_NONE, SRC_PASSTHROUGH, SRC_PDEC_WALK, SRC_WALK } from "../../model/observation.ts";
import { strict } from "../../model/policies/strict.ts";
import { type State, Tx } from "../../model/state.ts";
import { makeSystem } from "../../model/system.ts";
import { describeByte, describeFrame, hex, sourceName } from "../../properties/describe.ts";
import { Runner } from "../model/helpers.ts";

const sys = makeSystem({ ...DEFAULT_CONFIG, maxObjects: 16 }, strict);
function state(edit: (tx: Tx, obs: Observation) => void): State {
  const tx = new Tx(sys.g);
  tx.begin(sys.init);
  edit(tx, new Observation());
  return tx.commit();
}
const P = 4096;

describe("describeFrame", () => {
  it("free, CPU and IOMMU page tables (linked or unlinked), a role's frame with or without objects", () => {
    const s = state((tx) => {
      setFrame(tx.w(FRAMES), 20, ROLE_FREE, 0, 0, 0);
      setFrame(tx.w(FRAMES), 21, ROLE_MMU_PT, 0, 0, 0);
      setFrame(tx.w(FRAMES), 22, ROLE_IOMMU_PT, 0, 0, 1);
      setFrame(tx.w(FRAMES), 23, ROLE_IOMMU_PT, 0, F_DETACHED, 0x301);
      setFrame(tx.w(FRAMES), 24, ROLE_KERNEL, 0, 0, 0);
      setFrame(tx.w(FRAMES), 25, ROLE_IO_POOL, 0, 0, 0);
    });
    expect([20, 21, 22, 23, 24].map((f) => describeFrame(s, f))).toEqual([
      "free", "a CPU page table", "an IOMMU page table of dom 1", "an IOMMU page table of dom 1 (unlinked, not yet freed)", "a kernel frame",
    ]);
    const pool = state((tx, o) => {
      setFrame(tx.w(FRAMES), 25, ROLE_IO_POOL, 0, 0, 0);
      allocPoolObject(tx, 25, 0x200, 256, ownerDriver(1), o);
    });
    expect(describeFrame(pool, 25)).toBe("a 256-byte I/O pool buffer of the driver of dev1 at +0x200");
    const two = state((tx, o) => {
      setFrame(tx.w(FRAMES), 25, ROLE_IO_POOL, 0, 0, 0);
      allocPoolObject(tx, 25, 0x200, 256, ownerDriver(1), o);
      allocPoolObject(tx, 25, 0x400, 256, ownerDriver(1), o);
    });
    expect(describeFrame(two, 25)).toBe("a 256-byte I/O pool buffer of the driver of dev1 at +0x200, a 256-byte I/O pool buffer of the driver of dev1 at +0x400");
  });

  it("a slab: empty, with its objects, with more than three (the first three and a count)", () => {
    const slabs: number[] = [];
    const many = state((tx, o) => {
      for (let k = 0; k < 5; k++) kmalloc(tx, 64, OWNER_KERNEL, ROLE_SLAB, o);
      for (let g = 0; g < sys.cfg.frames; g++) if ((tx.c[FRAMES][g * FRAME_W] & 0xf) === ROLE_SLAB) slabs.push(g);
    });
    expect(slabs).toHaveLength(1);
    const sf = slabs[0];
    expect(describeFrame(many, sf)).toBe(
      "a kmalloc-64 slab holding a kmalloc-64 object of the kernel at +0x0, a kmalloc-64 object of the kernel at +0x40, a kmalloc-64 object of the kernel at +0x80 and 2 more",
    );
    const three = state((tx, o) => {
      for (let k = 0; k < 3; k++) kmalloc(tx, 64, OWNER_KERNEL, ROLE_SLAB, o);
    });
    expect(describeFrame(three, sf)).toBe("a kmalloc-64 slab holding a kmalloc-64 object of the kernel at +0x0, a kmalloc-64 object of the kernel at +0x40, a kmalloc-64 object of the kernel at +0x80");
    const empty = state((tx) => setFrame(tx.w(FRAMES), sf, ROLE_SLAB, 0, 0, 0));
    expect(describeFrame(empty, sf)).toBe("a kmalloc-8 slab");
  });

  it("a block of pages: the first frame names it at +0x0, the next by where it starts; the frames around it do not", () => {
    let first = -1;
    const s = state((tx, o) => {
      const i = allocPagesObject(tx, 1, OWNER_KERNEL, ROLE_KERNEL, KIND_PAGES, o);
      first = objFrame(tx.c[OBJECTS], i);
      // The frames around it: roles whose description lists the objects in them.
      setFrame(tx.w(FRAMES), first + 2, ROLE_KERNEL, 0, 0, 0);
      setFrame(tx.w(FRAMES), first - 1, ROLE_KERNEL, 0, 0, 0);
    });
    expect(first).toBeGreaterThan(0);
    expect(describeFrame(s, first)).toBe("a 2-page block of the kernel at +0x0");
    expect(describeFrame(s, first + 1)).toBe(`a 2-page block of the kernel starting at frame ${first} +0x0`);
    expect(describeFrame(s, first + 2)).not.toMatch(/2-page block/);
    expect(describeFrame(s, first - 1)).not.toMatch(/2-page block/);
  });
});

describe("describeByte", () => {
  it("a byte of an object, and one beyond the buffer mapped at the object's start (allocation slack)", () => {
    const r = Runner.of(strict);
    r.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 100, dir: "to-device" });
    let slab = -1;
    for (let g = 0; g < r.sys.cfg.frames; g++) if ((r.state[FRAMES][g * FRAME_W] & 0xf) === ROLE_SLAB) slab = g;
    const a = slab * P;
    expect(describeByte(r.state, a + 99, r.sys.cfg.maxMappings)).toBe("byte +0x63 of a kmalloc-128 object of the driver of dev0");
    expect(describeByte(r.state, a + 100, r.sys.cfg.maxMappings)).toBe("byte +0x64 of a kmalloc-128 object of the driver of dev0, beyond the 100-byte buffer mapped there (allocation slack)");
    expect(describeByte(r.state, a + 127, r.sys.cfg.maxMappings)).toMatch(/^byte \+0x7f of .*allocation slack\)$/);
    expect(describeByte(r.state, a + 128, r.sys.cfg.maxMappings)).toBe("a free slot of a kmalloc-128 slab holding a kmalloc-128 object of the driver of dev0 at +0x0 (it may hold a freed object's data)");
    // With no mapping left, the slack is just part of the object.
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    r.steps([{ t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }]);
    expect(describeByte(r.state, a + 100, r.sys.cfg.maxMappings)).toBe("byte +0x64 of a kmalloc-128 object of the driver of dev0");
  });

  it("bounce frames: a slot owned by a mapping, with or without leftover data; outside any slot", () => {
    const s = state((tx) => {
      setFrame(tx.w(FRAMES), 20, ROLE_BOUNCE, 0, 0, 3);
      setFrame(tx.w(FRAMES), 21, ROLE_BOUNCE, 0, F_STALE, 3);
      setFrame(tx.w(FRAMES), 22, ROLE_BOUNCE, 0, 0, 0);
      setFrame(tx.w(FRAMES), 23, ROLE_BOUNCE, 0, F_STALE, 0);
      setFrame(tx.w(FRAMES), 24, ROLE_MMU_PT, 0, 0, 0);
      setFrame(tx.w(FRAMES), 26, ROLE_BOUNCE, 0, 0, 1);
    });
    const m = sys.cfg.maxMappings;
    expect([20, 21, 22, 23, 24].map((f) => describeByte(s, f * P + 5, m))).toEqual([
      "a bounce slot owned now by mapping #2",
      "bounce-slot padding holding leftover data of an earlier mapping (not zeroed), in a slot owned now by mapping #2",
      "a bounce frame outside any live slot",
      "bounce-slot padding holding leftover data of an earlier mapping (not zeroed)",
      "a CPU page table",
    ]);
    expect(describeByte(s, 26 * P, m)).toBe("a bounce slot owned now by mapping #0");
  });

  it("the object's first byte is in it, the byte before it is not", () => {
    const s = state((tx, o) => {
      setFrame(tx.w(FRAMES), 25, ROLE_IO_POOL, 0, 0, 0);
      allocPoolObject(tx, 25, 0x200, 256, ownerDriver(0), o);
    });
    const m = sys.cfg.maxMappings;
    expect(describeByte(s, 25 * P + 0x200, m)).toBe("byte +0x0 of a 256-byte I/O pool buffer of the driver of dev0");
    expect(describeByte(s, 25 * P + 0x2ff, m)).toBe("byte +0xff of a 256-byte I/O pool buffer of the driver of dev0");
    expect(describeByte(s, 25 * P + 0x1ff, m)).toBe("a 256-byte I/O pool buffer of the driver of dev0 at +0x200");
    expect(describeByte(s, 25 * P + 0x300, m)).toBe("a 256-byte I/O pool buffer of the driver of dev0 at +0x200");
  });
});

describe("sourceName and hex", () => {
  it("each translation source with its article; an unknown one; without the article", () => {
    expect([SRC_NONE, SRC_PASSTHROUGH, SRC_WALK, SRC_IOTLB, SRC_PDEC_WALK, SRC_ATC, SRC_FORGED, 99].map((s) => sourceName(s))).toEqual([
      "a no translation", "an identity mapping (passthrough)", "a page walk", "an IOTLB entry", "a page walk from a cached directory entry",
      "a translated request from its ATC", "a forged translated request", "a translation",
    ]);
    expect(sourceName(SRC_IOTLB, false)).toBe("IOTLB entry");
    expect([hex(0), hex(255), hex(0x207008)]).toEqual(["0x0", "0xff", "0x207008"]);
  });
});

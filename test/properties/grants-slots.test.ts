// Grants (properties/grants.ts) in a bounce slot and in a permanent pool
// (issue 16, mutation testing): frameGranted and firstUngrantedByte read
// directly on states the bounce and damn policies build.
// - bounce: dev0's 64-byte to-device buffer (frame 6, +64) is bounced into
//   slot frame 8 at +64; the slot (one page, aux = mapping #0 + 1) is
//   granted to dev0 only, for reading: the copy always, the padding while it
//   holds no leftover data (F_STALE clear); frames below or above it are not,
//   even one whose record happens to hold the same aux.
// - damn: dev0's I/O pool (frames 8..15) holds two buffers in frame 8, a
//   from-device one at +3968 and a to-device one at +4032; the free space
//   below them is dev0's in both directions, each buffer only in its own
//   mapping's direction, and nothing of it is another device's.
import { describe, expect, it } from "vitest";
import { PAGE_SIZE } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { mSegBounce, mSegFrame, mSegOffset } from "../../model/dma-mapping.ts";
import { FRAMES, FRAME_W, MAPS } from "../../model/geometry.ts";
import { F_STALE, frameAux, frameRole, ROLE_BOUNCE, ROLE_IO_POOL } from "../../model/physical-memory.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { damn } from "../../model/policies/damn.ts";
import { type State } from "../../model/state.ts";
import { devicePoolFrame, firstUngrantedByte, frameGranted } from "../../properties/grants.ts";
import { copyState, Runner } from "../model/helpers.ts";

const P = PAGE_SIZE;

describe("grants in a bounce slot", () => {
  const r = Runner.of(bounce);
  r.steps([{ t: "kmalloc", size: 64 }, { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" }] as Event[]);
  const s = r.state;
  const maps = r.sys.cfg.maxMappings;
  const slot = mSegBounce(s[MAPS], 0, 0);
  const buf = mSegFrame(s[MAPS], 0, 0);
  const copy = slot * P + (mSegOffset(s[MAPS], 0, 0) % P);
  const first = (st: State, dev: number, write: boolean, a: number, b: number) => firstUngrantedByte(st, maps, dev, write, a, b);

  it("the scenario: a one-page slot above the buffer, owned by mapping #0, its copy not at the slot's start", () => {
    expect([buf, slot, copy - slot * P]).toEqual([6, 8, 64]);
    expect(frameRole(s[FRAMES], slot)).toBe(ROLE_BOUNCE);
    expect(frameAux(s[FRAMES], slot)).toBe(1);
    expect(frameRole(s[FRAMES], slot + 1)).toBe(ROLE_BOUNCE);
    expect(frameAux(s[FRAMES], slot + 1)).toBe(0); // a free slot
    expect(frameAux(s[FRAMES], 5)).toBe(1); // an MMU table frame whose aux reads as mapping #0 + 1
    expect(s[FRAMES][slot * FRAME_W] & F_STALE).toBe(0);
  });

  it("frameGranted: the slot and the buffer's frame, to dev0 only; not the frames around the slot", () => {
    expect(frameGranted(s, maps, 0, slot)).toBe(true);
    expect(frameGranted(s, maps, 0, buf)).toBe(true);
    expect(frameGranted(s, maps, 1, slot)).toBe(false);
    expect(frameGranted(s, maps, 1, buf)).toBe(false);
    expect(frameGranted(s, maps, 0, slot + 1)).toBe(false);
    expect(frameGranted(s, maps, 0, 5)).toBe(false); // below the slot, though its aux matches
    expect(frameGranted(s, maps, 0, 1)).toBe(false);
    expect(frameGranted(s, maps, 0, 20)).toBe(false);
  });

  it("firstUngrantedByte: a frame outside the slot is not granted by it, though its record's aux matches the mapping", () => {
    expect(frameAux(s[FRAMES], 5)).toBe(1);
    expect(first(s, 0, false, 5 * P, 5 * P + 1)).toBe(5 * P);
    expect(first(s, 0, false, 5 * P + 100, 6 * P)).toBe(5 * P + 100);
  });

  it("firstUngrantedByte: the copy and the clean padding are dev0's for reading, up to the slot's end", () => {
    expect(first(s, 0, false, copy, copy + 64)).toBe(-1);
    expect(first(s, 0, false, slot * P, copy)).toBe(-1); // padding before the copy
    expect(first(s, 0, false, slot * P, (slot + 1) * P)).toBe(-1);
    expect(first(s, 0, false, copy + 64, (slot + 1) * P)).toBe(-1); // padding after it
    expect(first(s, 0, false, slot * P + 8, (slot + 1) * P + 1)).toBe((slot + 1) * P);
    expect(first(s, 0, false, (slot - 1) * P + P - 1, copy)).toBe((slot - 1) * P + P - 1);
    expect(first(s, 0, true, copy, copy + 64)).toBe(copy); // to-device: not for writing
    expect(first(s, 0, true, slot * P, copy)).toBe(slot * P);
    expect(first(s, 1, false, copy, copy + 64)).toBe(copy); // another device
    expect(first(s, 0, false, buf * P + 64, buf * P + 128)).toBe(-1); // the buffer itself
    expect(first(s, 0, false, buf * P + 60, buf * P + 128)).toBe(buf * P + 60);
  });

  it("firstUngrantedByte: padding that holds leftover data (F_STALE) is nobody's; the copy stays granted", () => {
    const st = copyState(s);
    st[FRAMES][slot * FRAME_W] |= F_STALE;
    expect(first(st, 0, false, copy, copy + 64)).toBe(-1);
    expect(first(st, 0, false, slot * P, copy + 64)).toBe(slot * P);
    expect(first(st, 0, false, copy, copy + 65)).toBe(copy + 64);
    expect(frameGranted(st, maps, 0, slot)).toBe(true);
  });

  it("a slot another mapping owns now (aux) grants mapping #0 nothing there", () => {
    const st = copyState(s);
    expect(frameAux(st[FRAMES], slot)).toBe(1);
    st[FRAMES][slot * FRAME_W] += 1 << 16; // aux (bits 16..) = mapping #1 + 1
    expect(frameAux(st[FRAMES], slot)).toBe(2);
    expect(frameGranted(st, maps, 0, slot)).toBe(false);
    expect(first(st, 0, false, copy, copy + 64)).toBe(copy);
    expect(first(st, 0, false, slot * P, copy)).toBe(slot * P);
  });

  it("a slot's extent comes from its segment: the free slot above, its record edited to name mapping #0, is not granted", () => {
    // Mapping #0's slot is one page (frame 8); frame 9's aux says #0 too, but no segment of #0 was bounced there.
    const st = copyState(s);
    st[FRAMES][(slot + 1) * FRAME_W] += 1 << 16;
    expect(frameAux(st[FRAMES], slot + 1)).toBe(1);
    expect(frameGranted(st, maps, 0, slot + 1)).toBe(false);
    expect(first(st, 0, false, (slot + 1) * P, (slot + 1) * P + 1)).toBe((slot + 1) * P);
    expect(first(st, 0, false, copy + 64, (slot + 2) * P)).toBe((slot + 1) * P); // the slot's padding up to its end, no further
  });
});

describe("grants in a permanent I/O pool", () => {
  const r = Runner.of(damn);
  r.steps([
    { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
    { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device" },
  ] as Event[]);
  const s = r.state;
  const maps = r.sys.cfg.maxMappings;
  const f = 8;
  const first = (dev: number, write: boolean, a: number, b: number) => firstUngrantedByte(s, maps, dev, write, a, b);

  it("the scenario: dev0's pool frame 8 holds a from-device buffer at +3968 and a to-device one at +4032", () => {
    expect(frameRole(s[FRAMES], f)).toBe(ROLE_IO_POOL);
    expect([mSegFrame(s[MAPS], 0, 0), mSegOffset(s[MAPS], 0, 0), mSegFrame(s[MAPS], 1, 0), mSegOffset(s[MAPS], 1, 0)]).toEqual([f, 4032, f, 3968]);
    expect(devicePoolFrame(s, 0, f)).toBe(true);
    expect(devicePoolFrame(s, 1, f)).toBe(false);
    expect(devicePoolFrame(s, 0, 16)).toBe(false); // a free frame
    expect(devicePoolFrame(s, 0, 0)).toBe(false); // an IOMMU table frame
  });

  it("the free space is dev0's both ways, up to the first buffer", () => {
    for (const write of [false, true]) {
      expect(first(0, write, f * P, f * P + 3968)).toBe(-1);
      expect(first(0, write, f * P + 100, f * P + 3968)).toBe(-1);
      expect(first(0, write, (f + 1) * P, (f + 2) * P)).toBe(-1); // a pool frame with no buffer
      expect(first(1, write, f * P, f * P + 1)).toBe(f * P); // not another device's
      expect(first(1, write, (f + 1) * P, (f + 2) * P)).toBe((f + 1) * P);
    }
  });

  it("each buffer only in its own mapping's direction", () => {
    expect(first(0, false, f * P, (f + 1) * P)).toBe(f * P + 3968); // the from-device buffer is not for reading
    expect(first(0, false, f * P + 100, f * P + 4000)).toBe(f * P + 3968);
    expect(first(0, true, f * P, (f + 1) * P)).toBe(f * P + 4032); // the to-device one not for writing
    expect(first(0, true, f * P + 3968, f * P + 4032)).toBe(-1);
    expect(first(0, false, f * P + 4032, (f + 1) * P)).toBe(-1);
    expect(first(0, false, f * P + 4000, (f + 1) * P + 8)).toBe(f * P + 4000);
    expect(frameGranted(s, maps, 0, f)).toBe(true);
    expect(frameGranted(s, maps, 1, f)).toBe(false);
  });
});

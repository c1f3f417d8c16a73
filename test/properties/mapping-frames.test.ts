/**
 * properties/mapping-frames.ts, read directly on states the policies build:
 * which IOVA pages a live mapping covers, which frames hold its buffer (its
 * segments' frames from the granule its offset starts in, its bounce slots,
 * its device's pool), and the IOVA bytes each segment was handed. Added for
 * issue 15 part 7 (Stryker survivors of properties/mapping-frames.ts).
 */
import { describe, expect, it } from "vitest";
import { type Event } from "../../model/events.ts";
import { MAPS } from "../../model/geometry.ts";
import { mIova, mPages, mSegBounce, mSegFrame, mSegOffset, mSegs } from "../../model/dma-mapping.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { strict } from "../../model/policies/strict.ts";
import { coversPage, mappingHoldsFrame, segIovaRange } from "../../properties/mapping-frames.ts";
import { Runner } from "../model/helpers.ts";

const P = 4096;

describe("mapping-frames", () => {
  it("coversPage: exactly the pages of a live mapping's IOVA range, of its own slot", () => {
    const r = Runner.of(strict);
    r.steps([
      { t: "map", cpu: 0, dev: 0, src: "pages", size: P, dir: "to-device" },
      { t: "map", cpu: 0, dev: 0, src: "pages", size: 2 * P, dir: "to-device" },
    ] as Event[]);
    const mp = r.state[MAPS];
    expect([mIova(mp, 0), mIova(mp, 1), mPages(mp, 1)]).toEqual([0x207, 0x204, 2]);
    const pages = (m: number) => [0x203, 0x204, 0x205, 0x206, 0x207, 0x208].filter((v) => coversPage(mp, m, v));
    expect(pages(0)).toEqual([0x207]);
    expect(pages(1)).toEqual([0x204, 0x205]);
    expect(pages(2)).toEqual([]); // a free slot
  });

  it("mappingHoldsFrame: a sub-range of a two-page allocation is held by the granule it lies in, not the one before", () => {
    // dma_map_page of bytes 4196..4395 of two pages: the segment starts at offset 4196 of the allocation.
    const r = Runner.of(strict);
    r.step({ t: "map", cpu: 0, dev: 0, src: "pages", size: 2 * P, dir: "to-device", offset: P + 100, len: 200 });
    const mp = r.state[MAPS];
    const f = mSegFrame(mp, 0, 0);
    expect(mSegOffset(mp, 0, 0)).toBe(P + 100);
    expect([f - 1, f, f + 1, f + 2].map((x) => mappingHoldsFrame(r.state, 0, x))).toEqual([false, false, true, false]);
    const range = { start: 0, end: 0 };
    segIovaRange(mp, 0, 0, range);
    expect(range).toEqual({ start: mIova(mp, 0) * P + 100, end: mIova(mp, 0) * P + 300 });
  });

  it("mappingHoldsFrame: a kmalloc buffer beside another object is held by its slab frame", () => {
    const r = Runner.of(strict);
    r.steps([{ t: "kmalloc", size: 64 }, { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" }] as Event[]);
    const mp = r.state[MAPS];
    const f = mSegFrame(mp, 0, 0);
    expect(mSegOffset(mp, 0, 0)).toBe(64);
    expect([f - 1, f, f + 1].map((x) => mappingHoldsFrame(r.state, 0, x))).toEqual([false, true, false]);
  });

  it("mappingHoldsFrame: a bounced buffer is held by its frame and its slot, not by the frames around the slot", () => {
    const r = Runner.of(bounce);
    r.steps([{ t: "kmalloc", size: 64 }, { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" }] as Event[]);
    const mp = r.state[MAPS];
    const [buf, slot] = [mSegFrame(mp, 0, 0), mSegBounce(mp, 0, 0)];
    expect([buf, slot]).toEqual([6, 8]);
    const held = [5, 6, 7, 8, 9].filter((f) => mappingHoldsFrame(r.state, 0, f));
    expect(held).toEqual([6, 8]);
  });

  it("segIovaRange: scatter-gather segments follow one another, each from its offset in its first granule", () => {
    const r = Runner.of(strict);
    r.step({ t: "map-sg", cpu: 0, dev: 0, sizes: [5000, 64, 64], dir: "to-device" });
    const mp = r.state[MAPS];
    expect(mSegs(mp, 0)).toBe(3);
    const base = mIova(mp, 0) * P;
    const got = [0, 1, 2].map((i) => {
      const range = { start: 0, end: 0 };
      segIovaRange(mp, 0, i, range);
      return [range.start - base, range.end - base];
    });
    // Segment 0 spans two granules; segments 1 and 2 each start a granule of their own, at their slab offset.
    const off = (i: number) => mSegOffset(mp, 0, i) % P;
    expect(got).toEqual([[off(0), off(0) + 5000], [2 * P + off(1), 2 * P + off(1) + 64], [3 * P + off(2), 3 * P + off(2) + 64]]);
  });

  it("mappingHoldsFrame: a two-page buffer that is not bounced holds its two frames only (no slot: not frame 0)", () => {
    const r = Runner.of(strict);
    r.step({ t: "map", cpu: 0, dev: 0, src: "pages", size: 2 * P, dir: "to-device" });
    const f = mSegFrame(r.state[MAPS], 0, 0);
    expect(mSegBounce(r.state[MAPS], 0, 0)).toBe(-1);
    expect([0, 1, f - 1, f, f + 1, f + 2].map((x) => mappingHoldsFrame(r.state, 0, x))).toEqual([false, false, false, true, true, false]);
  });
});

/**
 * Buffers as drivers make them: a map of a range inside its allocation
 * (dma_map_page of a sub-range, dma_map_single of an interior pointer),
 * page-aligned lengths at unaligned starts, ranges crossing a page. Only the
 * range is granted; both engines generate such maps.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event, formatEvent } from "../../model/events.ts";
import { MAPS, OBJECTS } from "../../model/geometry.ts";
import { mPages, mSegFrame, mSegLen, mSegOffset, MS_MAPPED, mStatus } from "../../model/dma-mapping.ts";
import { objCount } from "../../model/objects.ts";
import { strict } from "../../model/policies/strict.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { damn } from "../../model/policies/damn.ts";
import { strictFreeBeforeWait, strictRangeNoOffset } from "../../model/policies/broken.ts";
import { segmentLive } from "../../properties/grants.ts";
import { dmaAddress, makeSystem } from "../../model/system.ts";
import { findProperty, PROPERTIES } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";
import { decodeScope } from "../../checker/scope-file.ts";
import { Runner } from "./helpers.ts";

const RANGE: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device", offset: 2048, len: 4096 };
const byteConf = findProperty("byte-confinement")!;

describe("a map of a range inside its allocation", () => {
  it("maps the granules the range spans and returns the range's address; only the range is granted", () => {
    const r = Runner.of(strict);
    r.step(RANGE);
    const mp = r.state[MAPS];
    expect(mStatus(mp, 0)).toBe(MS_MAPPED);
    expect([mSegOffset(mp, 0, 0), mSegLen(mp, 0, 0), mPages(mp, 0)]).toEqual([2048, 4096, 2]);
    expect(dmaAddress(mp, 0) % 4096).toBe(2048);
    expect(formatEvent(RANGE)).toBe("map cpu0 dev0 pages 8192B [+0x800 len 4096] to-device");
    const exec = new Executor(makeSystem(DEFAULT_CONFIG, strict), [byteConf]);
    // Inside the range, across the page boundary (the range has IOVA pages 518..519, window pages 14..15): granted.
    expect(exec.run([RANGE, { t: "dma", dev: 0, write: false, page: 14, offset: 2048, len: 4096 }]).violation).toBeNull();
    // The allocation's first half-page is mapped (same granule) but not granted.
    expect(exec.run([RANGE, { t: "dma", dev: 0, write: false, page: 14, offset: 0, len: 1 }]).violation?.message).toMatch(/byte 0x0 is not granted/);
  });

  it("dma-integrity: accesses across a range's two granules reach its own block; a policy that reserves one page too few shares the second", () => {
    const integ = findProperty("dma-integrity")!;
    const acrossBoth: Event = { t: "dma", dev: 0, write: false, page: 14, offset: 2048, len: 4096 };
    const second: Event = { t: "map", cpu: 1, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
    expect(new Executor(makeSystem(DEFAULT_CONFIG, strict), [integ]).run([second, RANGE, acrossBoth]).violation).toBeNull();
    // strict-range-no-offset reserves ceil(4096 / 4096) = 1 IOVA page for a range spanning two: with the
    // top page taken by the first map, it gets 518 and maps its second page over the first map's 519.
    const v = new Executor(makeSystem(DEFAULT_CONFIG, strictRangeNoOffset), [integ]).run([second, RANGE]).violation;
    expect(v?.message).toMatch(/mappings #0 and #1 of device 0 are both live and share IOVA page/);
  });

  it("bounce bounces a page-aligned length at an unaligned start, so the rest of the block stays unreachable", () => {
    const exec = new Executor(makeSystem(DEFAULT_CONFIG, bounce), PROPERTIES);
    const events: Event[] = [RANGE, { t: "dma", dev: 0, write: false, page: 14, offset: 0, len: 8192 }];
    expect(exec.run(events).violation).toBeNull();
  });

  it("damn maps an interior pointer of a pool buffer at that pointer's IOVA, and frees the whole buffer after the unmap", () => {
    const r = Runner.of(damn);
    r.step({ t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 2048, dir: "to-device", offset: 100, len: 1000 });
    const mp = r.state[MAPS];
    expect(dmaAddress(mp, 0) % 4096).toBe(mSegOffset(mp, 0, 0) % 4096);
    r.step({ t: "unmap", cpu: 0, k: 0, free: true });
    expect(objCount(r.state[OBJECTS])).toBe(0);
  });

  it("a grant to a range never transfers to a later allocation there (generations count segments starting inside it)", () => {
    // strict-free-before-wait frees the block while its unmap still waits; the next map gets the same frames.
    // No table teardown: the free IOVAs under a table being torn down would be held back (reserveUnderTable).
    const r = Runner.of(strictFreeBeforeWait, { reclaimEmptyTables: false });
    r.step(RANGE);
    r.step({ t: "unmap", cpu: 0, k: 0, free: false });
    r.step({ ...RANGE, cpu: 1 });
    const mp = r.state[MAPS];
    expect(mSegFrame(mp, 1, 0)).toBe(mSegFrame(mp, 0, 0));
    expect([segmentLive(r.state, 0, 0), segmentLive(r.state, 1, 0)]).toEqual([false, true]);
  });

  it("the exhaustive alphabet maps ranges a scope file lists, in every direction", () => {
    const scope = { ...DEFAULT_SCOPE, alphabet: { ...DEFAULT_SCOPE.alphabet, mapRanges: [{ src: "kmalloc" as const, size: 64, offset: 32, len: 32 }] } };
    const ranged = alphabetEvents(scope).filter((e) => e.t === "map" && e.offset !== undefined);
    expect(ranged.length).toBe(2);
    // The default alphabet: the 64-byte object whole to the device, and bytes 32..47 of it from the device.
    const maps = alphabetEvents(DEFAULT_SCOPE).filter((e) => e.t === "map");
    expect(maps).toEqual([
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device", offset: 32, len: 16 },
    ]);
  });

  it("a scope file's range may name one direction; a range that is the whole allocation is the plain map, listed once", () => {
    const d = decodeScope({
      alphabet: {
        kmallocSizes: [64],
        mapRanges: [{ src: "kmalloc", size: 64, offset: 0, len: 64, dir: "to-device" }, { src: "pages", size: 8192, offset: 2048, len: 4096, dir: "bidirectional" }],
      },
    }, "s.json");
    if (!d.ok) throw new Error(d.error);
    const maps = alphabetEvents(d.value.scope).filter((e) => e.t === "map");
    // The file's ranges replace the default's: kmalloc 64 in both directions (the whole to-device range is the
    // same event), and the page-crossing range in the one direction it names.
    expect(maps.map((e) => e.t === "map" && `${e.src} ${e.size} ${e.dir} ${e.offset ?? "-"}`)).toEqual([
      "kmalloc 64 to-device -", "kmalloc 64 from-device -", "pages 8192 bidirectional 2048",
    ]);
    const bad = decodeScope({ alphabet: { mapRanges: [{ src: "pages", size: 8192, offset: 0, len: 1, dir: "sideways" }] } }, "s.json");
    expect(bad.ok ? "" : bad.error).toMatch(/^s\.json: \$\.alphabet\.mapRanges\[0\]\.dir: /);
  });

  it("a scope file adds page-crossing ranges; the exhaustive engine finds strict exposing the block beside the range", () => {
    const d = decodeScope({ alphabet: { kmallocSizes: [], mapRanges: [{ src: "pages", size: 8192, offset: 2048, len: 4096 }] } }, "s.json");
    if (!d.ok) throw new Error(d.error);
    const ex = exhaustiveCheck(makeSystem(d.value.scope.config, strict), [byteConf], alphabetEvents(d.value.scope), { depth: 10, maxStates: 200_000 });
    expect(ex.outcomes[0].events!.map((e) => e.t)).toEqual(["map", "dma"]);
    const bad = decodeScope({ alphabet: { mapRanges: [{ src: "pages", size: 4096, offset: 4000, len: 200 }] } }, "s.json");
    expect(bad.ok ? "" : bad.error).toBe("s.json: $.alphabet.mapRanges[0]: the range must lie inside the allocation (offset + len <= size), and kmalloc sizes be at most 8192");
  });
});

// Grants (properties/grants.ts) at their edges (issue 16): bytes granted to one
// device are not granted to another, and a grant covers only its own frames,
// not the frame just above or below it.
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { PAGE_SIZE } from "../../model/config.ts";
import { mSegFrame } from "../../model/dma-mapping.ts";
import { FRAMES, MAPS, OBJ_W, OBJECTS } from "../../model/geometry.ts";
import { passthrough } from "../../model/policies/passthrough.ts";
import { strict } from "../../model/policies/strict.ts";
import { frameAux } from "../../model/physical-memory.ts";
import { findProperty } from "../../properties/index.ts";
import { firstUngrantedByte, frameGranted, segmentLive } from "../../properties/grants.ts";
import { objCount } from "../../model/objects.ts";
import { Runner } from "../model/helpers.ts";

describe("grants", () => {
  // dev0 maps a whole page, bidirectional; with passthrough a device names frames directly.
  const r = Runner.of(passthrough);
  r.step({ t: "map", cpu: 0, dev: 0, src: "pages", size: PAGE_SIZE, dir: "bidirectional" });
  const s = r.state;
  const f = mSegFrame(s[MAPS], 0, 0);
  const maps = r.sys.cfg.maxMappings;

  it("a mapped page is granted to its mapping's device only", () => {
    expect(frameGranted(s, maps, 0, f)).toBe(true);
    expect(frameGranted(s, maps, 1, f)).toBe(false);
    expect(firstUngrantedByte(s, maps, 0, true, f * PAGE_SIZE, (f + 1) * PAGE_SIZE)).toBe(-1);
    expect(firstUngrantedByte(s, maps, 1, false, f * PAGE_SIZE, (f + 1) * PAGE_SIZE)).toBe(f * PAGE_SIZE);
  });

  it("a grant does not reach the frames beside it", () => {
    expect(frameGranted(s, maps, 0, f + 1)).toBe(false);
    expect(frameGranted(s, maps, 0, f - 1)).toBe(false);
    expect(firstUngrantedByte(s, maps, 0, false, f * PAGE_SIZE, (f + 1) * PAGE_SIZE + 1)).toBe((f + 1) * PAGE_SIZE);
  });

  it("a grant ends with its object: the same bytes holding a newer object (another generation) are not granted", () => {
    const st = s.map((c) => c.slice()) as unknown as typeof s;
    const ob = st[OBJECTS];
    for (let i = 0; i < objCount(ob); i++) ob[1 + i * OBJ_W + 3] += 1 << 16; // every object one generation on
    expect(segmentLive(s, 0, 0)).toBe(true);
    expect(segmentLive(st, 0, 0)).toBe(false);
    expect(frameGranted(st, maps, 0, f)).toBe(false);
    expect(firstUngrantedByte(st, maps, 0, false, f * PAGE_SIZE, (f + 1) * PAGE_SIZE)).toBe(f * PAGE_SIZE);
  });

  it("a mapping that is not bounced grants no frame through the bounce-slot rule (frame 1's record holds aux 1)", () => {
    const r4 = Runner.of(strict);
    r4.step({ t: "map", cpu: 0, dev: 0, src: "pages", size: 4 * PAGE_SIZE, dir: "bidirectional" });
    const s4 = r4.state;
    const f4 = mSegFrame(s4[MAPS], 0, 0);
    expect(frameGranted(s4, maps, 0, f4 + 3)).toBe(true);
    expect(frameAux(s4[FRAMES], 1)).toBe(1);
    expect(frameGranted(s4, maps, 0, 1)).toBe(false);
    expect(frameGranted(s4, maps, 0, 2)).toBe(false);
  });

  it("page-confinement: another device touching the page, or the device touching the page above, is a violation", () => {
    const prop = findProperty("page-confinement")!;
    const exec = new Executor(r.sys, [prop]);
    const map = r.log[0].event;
    const other = exec.run([map, { t: "dma", dev: 1, write: false, page: f, offset: 0, len: 1 }]);
    expect(other.violation?.step).toBe(1);
    const own = exec.run([map, { t: "dma", dev: 0, write: true, page: f, offset: 0, len: PAGE_SIZE }]);
    expect(own.violation).toBeNull();
    const above = exec.run([map, { t: "dma", dev: 0, write: false, page: f + 1, offset: 0, len: 1 }]);
    expect(above.violation?.step).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { C } from "../../model/counters.ts";
import { FRAMES } from "../../model/geometry.ts";
import { type Event } from "../../model/events.ts";
import { pinCount } from "../../model/pinning.ts";
import { vfio } from "../../model/policies/vfio.ts";
import { makeSystem } from "../../model/system.ts";
import { Executor } from "../../checker/execute.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { config } from "./helpers.ts";

describe("vfio (VFIO type1)", () => {
  it("pins and maps every page at map, unpins every page only after the invalidation completed; one container lock per call", () => {
    const sys = makeSystem(config(), vfio);
    const exec = new Executor(sys, PROPERTIES.filter((p) => vfio.claims.includes(p.name)));
    const map: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4 * 4096, dir: "bidirectional" };
    const mapped = exec.run([map]);
    expect(mapped.violation).toBeNull();
    expect(exec.totals[C.pins]).toBe(4);
    expect(exec.totals[C.iommuPteWrites]).toBe(4 + 2); // 4 leaves, 2 new directory entries
    expect(exec.totals[C.containerLocks]).toBe(1);
    const pinned = [...Array(sys.cfg.frames).keys()].filter((f) => pinCount(mapped.final[FRAMES], f) === 1);
    expect(pinned.length).toBe(4);
    // Unmap: blocked on the wait, the pages stay pinned.
    const events: Event[] = [map, { t: "dma", dev: 0, write: true, page: 0, offset: 0, len: 1 }, { t: "unmap", cpu: 0, k: 0, free: true }];
    const waiting = exec.run(events);
    expect(exec.totals[C.unpins]).toBe(0);
    for (const f of pinned) expect(pinCount(waiting.final[FRAMES], f)).toBe(1);
    const done = exec.run([...events, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }]);
    expect(done.violation).toBeNull();
    expect(exec.totals[C.unpins]).toBe(4);
    expect(exec.totals[C.containerLocks]).toBe(2);
    for (const f of pinned) expect(pinCount(done.final[FRAMES], f)).toBe(0);
  });
});

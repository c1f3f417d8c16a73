/**
 * Grants follow the buffer that owns the bytes: a bounce slot is granted
 * only through the mapping that owns it now, and a pool buffer only through
 * its own live mapping; a permanent pool still grants its free space.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { bounce } from "../../model/policies/bounce.ts";
import { damn } from "../../model/policies/damn.ts";
import { bounceSharedSlot } from "../../model/policies/broken.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { randomCheck } from "../../checker/random.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";

const byteConf = findProperty("byte-confinement")!;
const pageConf = findProperty("page-confinement")!;
/** Two live mappings: two buffers can be bounced at once. */
const TWO_MAPPINGS: Scope = { config: { ...DEFAULT_SCOPE.config, maxMappings: 2 }, alphabet: DEFAULT_SCOPE.alphabet };

describe("grants per buffer", () => {
  it("bounce-shared-slot: two live buffers in one slot; the first one's mapping reaches the second's bytes (both engines)", () => {
    const sys = makeSystem(TWO_MAPPINGS.config, bounceSharedSlot);
    const ex = exhaustiveCheck(sys, [byteConf], alphabetEvents(TWO_MAPPINGS), { depth: 40, maxStates: 2_000_000 });
    const cx = ex.outcomes[0].events!;
    expect(cx.map((e) => e.t)).toEqual(["map", "map", "dma"]);
    expect(ex.outcomes[0].violation!.message).toMatch(/a bounce slot owned now by mapping #1/);
    expect(new Executor(makeSystem(TWO_MAPPINGS.config, bounce), [byteConf]).run(cx).violation).toBeNull();
    const ok = exhaustiveCheck(makeSystem(TWO_MAPPINGS.config, bounce), [byteConf, pageConf], alphabetEvents(TWO_MAPPINGS), { depth: 40, maxStates: 2_000_000 });
    expect([ok.exhausted, ok.outcomes.map((o) => o.events)]).toEqual([true, [null, null]]);
    for (const p of [byteConf, pageConf]) {
      const r = randomCheck(makeSystem(DEFAULT_CONFIG, bounceSharedSlot), p, { runs: 10000, seed: 42, maxEvents: 24 });
      expect(r.events!.length, p.name).toBeLessThanOrEqual(4);
      expect(new Executor(makeSystem(DEFAULT_CONFIG, bounce), [p]).run(r.events!).violation).toBeNull();
    }
  });

  it("damn: a pool buffer the driver unmapped but still holds is no longer granted, though the pool maps it (byte-confinement, 3 events)", () => {
    const exec = new Executor(makeSystem(DEFAULT_SCOPE.config, damn), [byteConf, pageConf]);
    const events: Event[] = [
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "unmap", cpu: 0, k: 0, free: false },
      { t: "dma", dev: 0, write: false, page: 2, offset: 0xfc0, len: 1 }, // the pool page at IOVA 512 (top-down)
    ];
    const v = exec.run(events).violation;
    expect(v?.property).toBe("byte-confinement");
    expect(v?.message).toMatch(/not granted to device 0 for reading: it is byte \+0x0 of a 64-byte I\/O pool buffer/);
    // While mapped it is granted; the pool's free space stays granted to its device, and the frame as a whole too.
    expect(exec.run([events[0], events[2]]).violation).toBeNull();
    expect(exec.run([events[0], events[1], { t: "dma", dev: 0, write: true, page: 2, offset: 0, len: 64 }]).violation).toBeNull();
  });
});

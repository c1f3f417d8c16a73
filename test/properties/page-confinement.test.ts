/**
 * page-confinement's violation: the frame, the way the device got there and
 * the IOVA with the access's offset in the page; the note that the driver
 * still holds the buffer only when it does. Added for issue 15 part 7
 * (Stryker survivors of properties/page-confinement.ts).
 */
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";

const prop = findProperty("page-confinement")!;
const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "to-device" };
const DMA: Event = { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 };

describe("page-confinement", () => {
  it("lazy: a stale read at offset 8 of a freed buffer's page names the IOVA with its offset", () => {
    const events: Event[] = [MAP, DMA, { t: "unmap", cpu: 0, k: 0, free: true }, { ...DMA, offset: 8 }];
    const v = new Executor(makeSystem(DEFAULT_CONFIG, lazy), [prop]).run(events).violation;
    expect(v?.message).toMatch(/^device 0 read frame (\d+) through an IOTLB entry for IOVA 0x207008; frame \1 holds nothing granted to device 0: it is free/);
    expect(v?.message).not.toMatch(/the driver still holds its buffer/);
    expect([v?.step, v?.dev, v?.iovaPfn]).toEqual([3, 0, 0x207]);
  });

  it("lazy: the same read with the buffer kept by the driver says so", () => {
    const events: Event[] = [MAP, DMA, { t: "unmap", cpu: 0, k: 0, free: false }, DMA];
    const v = new Executor(makeSystem(DEFAULT_CONFIG, lazy), [prop]).run(events).violation;
    expect(v?.message).toMatch(/\(the driver still holds its buffer, but its unmap has returned: the device may no longer touch it\)$/);
  });
});

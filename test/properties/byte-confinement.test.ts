/**
 * byte-confinement's violation: which byte, of which frame, through what,
 * for which IOVA (with the access's offset in the page); a read of frame 0's
 * first byte (passthrough) is reported like any other. Added for issue 15
 * part 7 (Stryker survivors of properties/byte-confinement.ts).
 */
import { describe, expect, it } from "vitest";
import { Executor } from "../../checker/execute.ts";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { passthrough } from "../../model/policies/passthrough.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { READ_BESIDE_OBJECT } from "./helpers.ts";

const prop = findProperty("byte-confinement")!;

describe("byte-confinement", () => {
  it("strict: a read from offset 8 of the page reaches the kernel object beside the buffer", () => {
    const v = new Executor(makeSystem(DEFAULT_CONFIG, strict), [prop]).run(READ_BESIDE_OBJECT).violation;
    expect(v?.message).toMatch(/^device 0 read bytes 0x8\.\.0x6b of frame 6 through .* for IOVA 0x207008; byte 0x8 is not granted to device 0 for reading: it is /);
    expect([v?.step, v?.dev, v?.frame, v?.iovaPfn]).toEqual([2, 0, 6, 0x207]);
    // Inside the buffer: nothing to report.
    expect(new Executor(makeSystem(DEFAULT_CONFIG, strict), [prop]).run([...READ_BESIDE_OBJECT.slice(0, 2), { ...READ_BESIDE_OBJECT[2], offset: 64, len: 64 } as Event]).violation).toBeNull();
  });

  it("passthrough: the first byte of frame 0 is reported, as byte 0x0", () => {
    const v = new Executor(makeSystem(DEFAULT_CONFIG, passthrough), [prop]).run([{ t: "dma", dev: 0, write: false, page: 0, offset: 0, len: 1 }]).violation;
    expect(v?.message).toMatch(/^device 0 read bytes 0x0\.\.0x0 of frame 0 through .*; byte 0x0 is not granted to device 0 for reading/);
    expect(v?.frame).toBe(0);
  });
});

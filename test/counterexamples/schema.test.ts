// Tests for the counterexample file format (counterexamples/schema.ts, file.ts):
// round trips, byte-stable encoding, one-line errors with JSON paths, safe writes.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeCounterexample,
  encodeCounterexample,
  readCounterexampleFile,
  writeCounterexampleFile,
} from "../../counterexamples/file.ts";
import { COUNTEREXAMPLE_FORMAT, type Counterexample } from "../../counterexamples/schema.ts";
import { configProblem, DEFAULT_CONFIG, type ModelConfig } from "../../model/config.ts";
import { DIRECTIONS, EVENT_TAGS, type Event, type EventTag } from "../../model/events.ts";

const example: Counterexample = {
  format: COUNTEREXAMPLE_FORMAT,
  policy: "deferred",
  policyModule: null,
  property: "page-confinement",
  config: DEFAULT_CONFIG,
  events: [
    { t: "map", cpu: 0, dev: 1, src: "kmalloc", size: 512, dir: "from-device" },
    { t: "unmap", cpu: 0, k: 0, free: true },
    { t: "kmalloc", size: 256 },
    { t: "dma", dev: 1, write: true, page: 0, offset: 0x200, len: 64 },
  ],
  violation: { step: 3, explanation: "device 1 wrote frame 7, which holds a kernel object" },
  found: { engine: "random", seed: 42, path: "17:3:0", runs: 181, ms: 12.5 },
};

// ---- arbitraries -----------------------------------------------------------

const nat = fc.nat({ max: 5000 });
const pos = fc.integer({ min: 1, max: 1 << 20 });
const dir = fc.constantFrom(...DIRECTIONS);

// A mapped type over EventTag: adding an event kind to the model without an
// arbitrary here is a compile error.
const eventArbs: { [K in EventTag]: fc.Arbitrary<Extract<Event, { t: K }>> } = {
  "map": fc.record({ t: fc.constant("map"), cpu: nat, dev: nat, src: fc.constantFrom("kmalloc", "pages"), size: pos, dir }),
  "map-sg": fc.record({ t: fc.constant("map-sg"), cpu: nat, dev: nat, sizes: fc.array(pos, { minLength: 1, maxLength: 4 }), dir }),
  "alloc-coherent": fc.record({ t: fc.constant("alloc-coherent"), cpu: nat, dev: nat, order: nat }),
  "unmap": fc.record({ t: fc.constant("unmap"), cpu: nat, k: nat, free: fc.boolean() }),
  "resume": fc.record({ t: fc.constant("resume"), cpu: nat }),
  "iommu": fc.record({ t: fc.constant("iommu") }),
  "dma": fc.record({ t: fc.constant("dma"), dev: nat, write: fc.boolean(), page: nat, offset: nat, len: pos }),
  "ats-dma": fc.record({ t: fc.constant("ats-dma"), dev: nat, write: fc.boolean(), page: nat, offset: nat, len: pos }),
  "dma-translated": fc.record({ t: fc.constant("dma-translated"), dev: nat, write: fc.boolean(), frame: nat, offset: nat, len: pos }),
  "kmalloc": fc.record({ t: fc.constant("kmalloc"), size: pos }),
  "kfree": fc.record({ t: fc.constant("kfree"), k: nat }),
  "tick": fc.record({ t: fc.constant("tick"), ms: pos }),
  "user-touch": fc.record({ t: fc.constant("user-touch"), cpu: nat, page: nat, write: fc.boolean() }),
  "user-unmap": fc.record({ t: fc.constant("user-unmap"), cpu: nat, page: nat }),
  "kernel-read": fc.record({ t: fc.constant("kernel-read"), frame: nat }),
  "guest-access": fc.record({ t: fc.constant("guest-access"), cpu: nat, page: nat, write: fc.boolean() }),
  "user-get": fc.record({ t: fc.constant("user-get"), cpu: nat, page: nat }),
  "user-put": fc.record({ t: fc.constant("user-put"), cpu: nat, page: nat }),
  "xdp-tx": fc.record({ t: fc.constant("xdp-tx"), cpu: nat, k: nat }),
};
const eventArb: fc.Arbitrary<Event> = fc.oneof(...EVENT_TAGS.map((t) => eventArbs[t] as fc.Arbitrary<Event>));

const configArb: fc.Arbitrary<ModelConfig> = fc
  .record({
    frames: fc.integer({ min: 8, max: 4096 }),
    cpus: fc.integer({ min: 1, max: 8 }),
    devices: fc.integer({ min: 1, max: 16 }),
    iovaPages: fc.integer({ min: 1, max: 4096 }),
    iovaBasePfn: fc.integer({ min: 1, max: 1 << 16 }),
    iommuLevels: fc.integer({ min: 2, max: 6 }),
    fqSize: fc.integer({ min: 1, max: 256 }),
    fqTimeoutMs: fc.integer({ min: 1, max: 100000 }),
    maxMappings: fc.integer({ min: 1, max: 64 }),
    maxObjects: fc.integer({ min: 4, max: 1024 }),
    cmdQueueEntries: fc.integer({ min: 4, max: 512 }),
    maxOrder: fc.integer({ min: 0, max: 10 }),
    userPages: fc.integer({ min: 0, max: 64 }),
    reclaimEmptyTables: fc.boolean(),
  })
  .filter((c) => configProblem(c) === null);

const counterexampleArb: fc.Arbitrary<Counterexample> = fc
  .array(eventArb, { minLength: 1, maxLength: 30 })
  .chain((events) =>
    fc.record({
      format: fc.constant(COUNTEREXAMPLE_FORMAT),
      policy: fc.string(),
      policyModule: fc.option(fc.string({ unit: "grapheme" }), { nil: null }),
      property: fc.constantFrom("page-confinement", "byte-confinement", "iotlb-coherence", "pt-page-safety"),
      config: configArb,
      events: fc.constant(events),
      violation: fc.record({ step: fc.nat({ max: events.length - 1 }), explanation: fc.string({ unit: "binary" }) }),
      found: fc.record({
        engine: fc.constantFrom("random", "exhaustive"),
        seed: fc.option(fc.integer(), { nil: null }),
        path: fc.option(fc.string(), { nil: null }),
        runs: fc.nat(),
        ms: fc.double({ min: 0, max: 1e7, noNaN: true }),
      }),
    }),
  );

const roundTrip = (cx: Counterexample) => decodeCounterexample(JSON.parse(encodeCounterexample(cx)), "rt.json");

// ---- round trips -------------------------------------------------------------

describe("round trip", () => {
  it("decodes what it encodes (handwritten example)", () => {
    expect(roundTrip(example)).toEqual({ ok: true, value: example });
  });

  test.prop([counterexampleArb])("decodes what it encodes (generated)", (cx) => {
    expect(roundTrip(cx)).toEqual({ ok: true, value: cx });
  });

  test.prop([counterexampleArb])("re-encoding is byte-identical", (cx) => {
    const text = encodeCounterexample(cx);
    const back = decodeCounterexample(JSON.parse(text), "rt.json");
    expect(back.ok).toBe(true);
    if (back.ok) expect(encodeCounterexample(back.value)).toBe(text);
    expect(encodeCounterexample(cx)).toBe(text);
  });

  it("writes keys in schema order whatever the input order, one event per line", () => {
    const shuffled = Object.fromEntries(Object.entries(example).reverse()) as unknown as Counterexample;
    const text = encodeCounterexample(shuffled);
    expect(text).toBe(encodeCounterexample(example));
    expect(text.endsWith("}\n")).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(["format", "policy", "policyModule", "property", "config", "events", "violation", "found"]);
    expect(text).toContain('\n    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 512, "dir": "from-device"},\n');
    expect(text).toContain('\n    {"t": "dma", "dev": 1, "write": true, "page": 0, "offset": 512, "len": 64}\n  ],\n');
  });

  it("round-trips every event tag", () => {
    fc.assert(
      fc.property(fc.tuple(...EVENT_TAGS.map((t) => eventArbs[t] as fc.Arbitrary<Event>)), (events) => {
        const cx: Counterexample = { ...example, events, violation: { step: 0, explanation: "" } };
        expect(roundTrip(cx)).toEqual({ ok: true, value: cx });
      }),
      { numRuns: 20 },
    );
  });
});

// ---- malformed input -----------------------------------------------------------

/** `example` as plain JSON with one change applied. */
function broken(change: (j: any) => void): unknown {
  const j = JSON.parse(encodeCounterexample(example));
  change(j);
  return j;
}

function errorOf(r: { ok: true } | { ok: false; error: string }): string {
  expect(r.ok).toBe(false);
  const error = r.ok ? "" : r.error;
  expect(error).not.toContain("\n");
  return error;
}

describe("malformed counterexamples give one line naming the JSON path", () => {
  const cases: [string, (j: any) => void, string][] = [
    ["wrong format tag", (j) => (j.format = "foo"), `bad.json: $.format: expected "dmacheck/counterexample@1", got "foo"`],
    [
      "unknown event tag",
      (j) => (j.events[2].t = "frobnicate"),
      'bad.json: $.events[2].t: unknown event "frobnicate" (expected one of map, map-sg, alloc-coherent, unmap, resume, iommu, dma, ats-dma, dma-translated, kmalloc, kfree, tick, user-touch, user-unmap, kernel-read, guest-access, user-get, user-put, xdp-tx)',
    ],
    ["extra event with an unknown tag", (j) => j.events.push({ t: "reboot", cpu: 0 }), 'bad.json: $.events[4].t: unknown event "reboot" (expected one of map, map-sg, alloc-coherent, unmap, resume, iommu, dma, ats-dma, dma-translated, kmalloc, kfree, tick, user-touch, user-unmap, kernel-read, guest-access, user-get, user-put, xdp-tx)'],
    ["event without a tag", (j) => delete j.events[1].t, "bad.json: $.events[1].t: missing field"],
    ["event that is not an object", (j) => (j.events[1] = 7), "bad.json: $.events[1]: expected an event, got 7"],
    ["string where a number is expected", (j) => (j.events[3].len = "x"), 'bad.json: $.events[3].len: expected a positive integer, got "x"'],
    ["missing field", (j) => delete j.events[0].dir, "bad.json: $.events[0].dir: missing field"],
    ["missing section", (j) => delete j.found, "bad.json: $.found: missing field"],
    ["unknown field", (j) => (j.events[0].colour = "red"), "bad.json: $.events[0].colour: unknown field"],
    ["negative number", (j) => (j.events[1].cpu = -1), "bad.json: $.events[1].cpu: expected a non-negative integer, got -1"],
    ["fractional number", (j) => (j.config.frames = 8.5), "bad.json: $.config.frames: expected an integer, got 8.5"],
    ["bad direction", (j) => (j.events[0].dir = "sideways"), 'bad.json: $.events[0].dir: expected one of "to-device", "from-device", "bidirectional", got "sideways"'],
    ["bad property", (j) => (j.property = "safety"), 'bad.json: $.property: expected one of "page-confinement", "byte-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement", "direct-map-exclusion", "dma-integrity", "stale-window", "no-leak", "availability", "leftover-data", "vm-confinement", "consumed-data-integrity", "user-confinement", "call-progress", got "safety"'],
    ["too many sg sizes", (j) => (j.events[0] = { t: "map-sg", cpu: 0, dev: 0, sizes: [1, 2, 3, 4, 5], dir: "to-device" }), "bad.json: $.events[0].sizes: expected an array of 1 to 4 sizes, got [1,2,3,4,5]"],
    ["no events", (j) => (j.events = []), "bad.json: $.events: expected a non-empty array of events, got []"],
    ["seed of the wrong type", (j) => (j.found.seed = "x"), 'bad.json: $.found.seed: expected an integer or null, got "x"'],
    ["bad config", (j) => (j.config.frames = 2), "bad.json: $.config: frames must be an integer in 8..4096"],
    ["step beyond the events", (j) => (j.violation.step = 9), "bad.json: $.violation.step: step 9 is beyond the 4 events"],
  ];
  it.each(cases)("%s", (_name, change, message) => {
    expect(errorOf(decodeCounterexample(broken(change), "bad.json"))).toBe(message);
  });

  it("not an object at all", () => {
    expect(errorOf(decodeCounterexample([1, 2], "bad.json"))).toBe("bad.json: $: expected an object, got [1,2]");
  });
});

// ---- files ----------------------------------------------------------------------

describe("files", () => {
  const dir = mkdtempSync(join(tmpdir(), "dmacheck-cx-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports invalid JSON with the file name on one line", () => {
    const p = join(dir, "broken.json");
    writeFileSync(p, '{\n  "format": ,\n}\n');
    expect(errorOf(readCounterexampleFile(p))).toMatch(new RegExp(`^${escape(p)}: not valid JSON: .+`));
  });

  it("reports a missing file", () => {
    const p = join(dir, "nope.json");
    expect(errorOf(readCounterexampleFile(p))).toBe(`${p}: cannot read: no such file or directory (ENOENT)`);
  });

  it("writes into a new nested directory and reads back the same value", () => {
    const p = join(dir, "a", "b", "c", "cx.json");
    expect(writeCounterexampleFile(p, example)).toEqual({ ok: true });
    expect(readFileSync(p, "utf8")).toBe(encodeCounterexample(example));
    expect(readCounterexampleFile(p)).toEqual({ ok: true, value: example });
  });

  it("replaces an existing counterexample file", () => {
    const p = join(dir, "replace", "cx.json");
    expect(writeCounterexampleFile(p, example)).toEqual({ ok: true });
    const next: Counterexample = { ...example, policy: "strict" };
    expect(writeCounterexampleFile(p, next)).toEqual({ ok: true });
    expect(readCounterexampleFile(p)).toEqual({ ok: true, value: next });
  });

  it("refuses to overwrite a file that is not a counterexample and leaves it unchanged", () => {
    const p = join(dir, "notes.json");
    writeFileSync(p, '{"my": "notes"}\n');
    expect(errorOf(writeCounterexampleFile(p, example))).toBe(
      `${p}: refusing to overwrite: the existing file is not a dmacheck counterexample`,
    );
    expect(readFileSync(p, "utf8")).toBe('{"my": "notes"}\n');
  });

  it("refuses to overwrite a directory", () => {
    const p = join(dir, "a-directory");
    mkdirSync(p);
    expect(errorOf(writeCounterexampleFile(p, example))).toBe(
      `${p}: refusing to overwrite: the existing file is not a dmacheck counterexample`,
    );
  });

  it("refuses to write a counterexample it could not read back", () => {
    const p = join(dir, "invalid.json");
    const bad: Counterexample = { ...example, violation: { step: 4, explanation: "" } };
    expect(errorOf(writeCounterexampleFile(p, bad))).toBe(`${p}: cannot write: $.violation.step: step 4 is beyond the 4 events`);
    const negative = { ...example, found: { ...example.found, runs: -1 } };
    expect(errorOf(writeCounterexampleFile(p, negative))).toBe(`${p}: cannot write: $.found.runs: expected a non-negative integer, got -1`);
    expect(readCounterexampleFile(p).ok).toBe(false); // nothing was written
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

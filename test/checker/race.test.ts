/**
 * The race pass (checker/matrix.ts racePass): after the main search, the race
 * scope (two CPUs, two unmappable mappings, page and page-crossing buffers) is
 * searched for what the main search left undecided. And the model fix it
 * brought to light: a map on one CPU must not link a new table where the
 * IOMMU may still cache the directory entry of a table another CPU's unmap is
 * tearing down (model/iova-allocator.ts reserveUnderTable).
 */
import { describe, expect, it } from "vitest";
import { type Event } from "../../model/events.ts";
import { MAPS } from "../../model/geometry.ts";
import { mIova } from "../../model/dma-mapping.ts";
import { makeSystem } from "../../model/system.ts";
import { strict } from "../../model/policies/strict.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { damn } from "../../model/policies/damn.ts";
import { strictRangeNoOffset, strictWrongDevice, vfioUndoNoInvalidate } from "../../model/policies/broken.ts";
import { PROPERTIES, findProperty } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { checkPolicyExhaustively } from "../../checker/matrix.ts";
import { DEFAULT_SCOPE, RACE_SCOPE, alphabetEvents, raceScopeFor, raceScopesFor } from "../../checker/scope.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { Runner } from "../model/helpers.ts";

const opts = (maxStates: number) => ({
  scope: DEFAULT_SCOPE, depth: 40, maxStates: 2_000_000, timing: false, race: { base: DEFAULT_SCOPE.config, maxStates },
});

describe("the race scope", () => {
  it("has two CPUs, two unmappable mappings, a sub-page, a one-page and a page-crossing two-page buffer", () => {
    const c = RACE_SCOPE.config;
    expect([c.cpus, c.maxMappings, RACE_SCOPE.alphabet.unmapSlots]).toEqual([2, 2, 2]);
    const maps = alphabetEvents(RACE_SCOPE).filter((e) => e.t === "map" && e.cpu === 0);
    expect(maps).toEqual([
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device", offset: 32, len: 16 },
      // One page, the second of a two-page block: a sub-range that starts past its allocation's first page.
      { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device", offset: 4096, len: 4096 },
      { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "from-device", offset: 2048, len: 4096 },
    ]);
    const unmaps = alphabetEvents(RACE_SCOPE).filter((e) => e.t === "unmap");
    expect(unmaps.length).toBe(2 * 2 * 2); // per CPU, per slot, with and without freeing
  });

  it("gives a policy with per-device state two devices and room for their pools", () => {
    expect(raceScopeFor(strict, DEFAULT_SCOPE.config).config.devices).toBe(1);
    const d = raceScopeFor(damn, DEFAULT_SCOPE.config).config;
    expect([d.devices, d.frames]).toEqual([2, 16]);
    expect(raceScopeFor(strict, DEFAULT_SCOPE.config).config.frames).toBe(10);
  });

  it("is followed by the device race scope (one CPU, two devices) unless it already has two devices", () => {
    const [first, second, ...rest] = raceScopesFor(strict, DEFAULT_SCOPE.config);
    expect(first).toEqual(raceScopeFor(strict, DEFAULT_SCOPE.config));
    expect([second.config.cpus, second.config.devices, second.config.frames, second.config.maxMappings, rest.length]).toEqual([1, 2, 10, 2, 0]);
    expect(second.alphabet).toBe(RACE_SCOPE.alphabet);
    expect(alphabetEvents(second).filter((e) => e.t === "map").map((e) => (e as { dev: number }).dev)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(raceScopesFor(damn, DEFAULT_SCOPE.config)).toHaveLength(1);
    // The device scope keeps the run's IOMMU and device attributes.
    const vtd = raceScopesFor(strict, { ...DEFAULT_SCOPE.config, iommu: "vtd", ats: true });
    expect([vtd[1].config.iommu, vtd[1].config.ats]).toEqual(["vtd", true]);
  });
});

describe("the race pass", () => {
  it("finds what needs a page-crossing buffer, with a replayable counterexample on the race machine", () => {
    const { cells, summary } = checkPolicyExhaustively({ policy: strictRangeNoOffset, module: null }, PROPERTIES, opts(5_000));
    const main = checkPolicyExhaustively({ policy: strictRangeNoOffset, module: null }, PROPERTIES, { ...opts(5_000), race: null }).cells;
    const di = cells.find((c) => c.property === "dma-integrity")!;
    expect(main.find((c) => c.property === "dma-integrity")!.verdict).toBe("holds"); // the default scope cannot see it
    expect([di.verdict, di.pass, di.length]).toEqual(["violated", "race", 2]);
    expect(di.counterexample!.config.cpus).toBe(2);
    expect(replayCounterexample(di.counterexample!, strictRangeNoOffset).reproduced).toBe(true);
    // Cells the main search decided keep its verdict and length.
    for (const c of main) if (c.verdict === "violated") expect(cells.find((x) => x.property === c.property)!.length).toBe(c.length);
    expect(summary.race).not.toBeNull();
    expect(summary.race!.cpus).toBe(2);
  });

  it("drives maps into their error paths: an undo that does not invalidate is caught (pin-safety, 4 events)", () => {
    const main = checkPolicyExhaustively({ policy: vfioUndoNoInvalidate, module: null }, PROPERTIES, { ...opts(5_000), race: null }).cells;
    const { cells } = checkPolicyExhaustively({ policy: vfioUndoNoInvalidate, module: null }, PROPERTIES, opts(5_000));
    const ps = cells.find((c) => c.property === "pin-safety")!;
    expect(main.find((c) => c.property === "pin-safety")!.verdict).toBe("holds");
    expect([ps.verdict, ps.pass, ps.length]).toEqual(["violated", "race", 4]);
    expect(ps.counterexample!.events.map((e) => e.t)).toContain("map");
    expect(replayCounterexample(ps.counterexample!, vfioUndoNoInvalidate).reproduced).toBe(true);
  });

  it("searches the device race scope next: buffers mapped in the wrong device's domain are caught there", () => {
    const main = checkPolicyExhaustively({ policy: strictWrongDevice, module: null }, PROPERTIES, { ...opts(5_000), race: null }).cells;
    const { cells, summary } = checkPolicyExhaustively({ policy: strictWrongDevice, module: null }, PROPERTIES, opts(5_000));
    const pc = cells.find((c) => c.property === "page-confinement")!;
    expect(main.find((c) => c.property === "page-confinement")!.verdict).toBe("holds"); // one device: its domain is domain 0
    expect([pc.verdict, pc.pass, pc.length]).toEqual(["violated", "race", 2]);
    expect([pc.counterexample!.config.cpus, pc.counterexample!.config.devices]).toEqual([1, 2]);
    expect(replayCounterexample(pc.counterexample!, strictWrongDevice).reproduced).toBe(true);
    expect(summary.races.map((r) => [r.cpus, r.devices])).toEqual([[2, 1], [1, 2]]);
    expect(summary.race).toEqual(summary.races[0]);
  });

  it("leaves every claim of strict holding, up to its bound, and reports the bound", () => {
    const { cells, summary } = checkPolicyExhaustively({ policy: strict, module: null }, PROPERTIES, opts(3_000));
    for (const c of cells) if (c.claimed) expect(c.verdict, c.property).toBe("holds");
    expect(summary.race!.stopped).toBe("states");
    expect(summary.race!.states).toBe(3_000);
    expect(summary.race!.depth).toBeGreaterThanOrEqual(4);
    expect(summary.races.map((r) => [r.devices, r.states, r.stopped])).toEqual([[1, 3_000, "states"], [2, 3_000, "states"]]);
  });

  it("does not run when every claimed property is already violated, nor with race null", () => {
    const r = checkPolicyExhaustively({ policy: strict, module: null }, [findProperty("byte-confinement")!, findProperty("page-confinement")!], { ...opts(3_000), race: null });
    expect(r.summary.race).toBeNull();
    expect(r.summary.races).toEqual([]);
  });
});

describe("a map racing an unmap that tears a table down (underDetachedTable)", () => {
  // Found by the race pass: strict, fns, vfio and viommu "violated" availability in 5 events,
  // because the map on cpu1 took IOVA 0x1ff under the level-1 table cpu0's unmap had just
  // emptied and unlinked, linked new tables, and the device walked the old, empty table
  // through the directory entry the IOMMU still cached: an IO page fault on a live mapping.
  const events: Event[] = [
    { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" }, // IOVA 0x201, the window's top (top-down)
    { t: "dma", dev: 0, write: false, page: 3, offset: 0, len: 1 },
    { t: "unmap", cpu: 0, k: 0, free: true },
    { t: "map", cpu: 1, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
    { t: "dma", dev: 0, write: false, page: 1, offset: 0x40, len: 1 },
    { t: "dma", dev: 0, write: false, page: 2, offset: 0x40, len: 1 },
  ];
  const config = { ...DEFAULT_SCOPE.config, cpus: 2, maxMappings: 2 };

  for (const policy of [strict, lazy]) {
    it(`${policy.name}: the map gets no IOVA under the tables being torn down, so no live mapping walks them`, () => {
      const r = Runner.of(policy, config);
      r.steps(events.slice(0, 3));
      const rec = r.step(events[3]);
      // The emptied level-2 table spans the whole 4-page window: every IOVA lies under it until it is freed.
      expect(rec.notes.join("; ")).toContain("map failed (DMA_MAPPING_ERROR)");
      expect(mIova(r.state[MAPS], 1)).toBe(0);
      const ex = new Executor(makeSystem(config, policy), [findProperty("availability")!]).run(events);
      expect(ex.violation).toBeNull();
    });
  }
  // Found by the race pass at 300,000 states: a page another CPU was still unmapping when the
  // table above it was unlinked (its entries cleared, its IOVA not yet freed) was freed by that
  // CPU afterwards and handed to a new map, which linked new tables under the directory entry
  // the IOMMU still cached: availability (claimed) "violated" by strict in 10 events.
  it("strict: a page another CPU frees after the table above it was unlinked is held back too", () => {
    const cfg = { ...config, maxMappings: 2 };
    const buf = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "from-device", offset: 32, len: 16 } as const;
    const trace: Event[] = [
      buf, buf, { t: "unmap", cpu: 0, k: 0, free: true }, { t: "iommu" }, { t: "iommu" },
      { t: "unmap", cpu: 1, k: 0, free: true }, { t: "resume", cpu: 0 }, buf,
      { t: "dma", dev: 0, write: true, page: 0, offset: 32, len: 1 },
    ];
    const r = Runner.of(strict, cfg);
    r.steps(trace.slice(0, 7));
    const rec = r.step(trace[7]);
    // IOVA 0x1fe, freed by cpu0 after cpu1 unlinked the tables above it, stays held: the map fails.
    expect(rec.notes.join("; ")).toContain("map failed (DMA_MAPPING_ERROR)");
    const ex = new Executor(makeSystem(cfg, strict), [findProperty("availability")!]).run(trace);
    expect(ex.violation).toBeNull();
  });
  it("without table reclamation nothing is torn down, and the map takes the next IOVA", () => {
    const r = Runner.of(strict, { ...config, reclaimEmptyTables: false });
    r.steps(events.slice(0, 4));
    expect(mIova(r.state[MAPS], 1)).toBe(0x200); // just below the first, whose IOVA is not freed yet
  });
});

/**
 * properties/reach.ts: which device still reaches a frame, and how (used by
 * pin-safety's messages): passthrough, forged requests (untrusted, ATS, no
 * ACS TB), an IOTLB entry, the device's ATC, its domain's tables, in that
 * order; a blocked device reaches nothing. Added for issue 15 part 7
 * (Stryker survivors of properties/reach.ts).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type ModelConfig } from "../../model/config.ts";
import { ATC, IOTLB } from "../../model/geometry.ts";
import { iommuMapPage } from "../../model/iommu-page-table.ts";
import { iotlbSlot } from "../../model/iotlb.ts";
import { Observation } from "../../model/observation.ts";
import { passthrough } from "../../model/policies/passthrough.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Policy } from "../../model/policy.ts";
import { Tx } from "../../model/state.ts";
import { makeSystem } from "../../model/system.ts";
import {
  deviceReaches, Reach, REACH_ATC, REACH_FORGED, REACH_IOTLB, REACH_NAMES, REACH_NONE, REACH_PASSTHROUGH, REACH_TABLES,
} from "../../properties/reach.ts";

function reach(policy: Policy, over: Partial<ModelConfig>, edit: (tx: Tx) => void, f: number) {
  const sys = makeSystem({ ...DEFAULT_CONFIG, ...over }, policy);
  const tx = new Tx(sys.g);
  tx.begin(sys.init);
  edit(tx);
  const out = new Reach();
  out.dev = 7;
  out.how = 9;
  const yes = deviceReaches(sys, tx.commit(), f, out);
  return { yes, dev: out.dev, how: out.how, iovaPfn: out.iovaPfn, g: sys.g };
}
const none = () => {};

describe("deviceReaches", () => {
  it("nothing mapped or cached: no device reaches a frame, and the result says so", () => {
    expect(reach(strict, {}, none, 20)).toMatchObject({ yes: false, dev: -1, how: REACH_NONE });
  });

  it("passthrough reaches every frame, through device 0 first", () => {
    expect(reach(passthrough, {}, none, 20)).toMatchObject({ yes: true, dev: 0, how: REACH_PASSTHROUGH });
  });

  it("a device's domain tables: the window page that maps the frame, any permission; only device 1's when only it maps it", () => {
    const r = reach(strict, {}, (tx) => iommuMapPage(tx, 1, 504 + 6, 20, true, false, new Observation()), 20);
    expect(r).toMatchObject({ yes: true, dev: 1, how: REACH_TABLES, iovaPfn: 510 });
    expect(reach(strict, {}, (tx) => iommuMapPage(tx, 0, 504 + 15, 20, false, true, new Observation()), 20)).toMatchObject({ yes: true, dev: 0, how: REACH_TABLES, iovaPfn: 519 });
    expect(reach(strict, {}, (tx) => iommuMapPage(tx, 0, 504 + 6, 21, true, true, new Observation()), 20).yes).toBe(false);
  });

  it("a valid IOTLB entry naming the frame, before the tables; an invalid one does not count", () => {
    const fill = (dev: number, i: number, w0: number) => (tx: Tx) => {
      const s = iotlbSlot(tx.g, dev, tx.g.winBase + i);
      tx.w(IOTLB)[s] = w0;
      tx.w(IOTLB)[s + 1] = 20;
    };
    expect(reach(strict, {}, fill(1, 15, 3), 20)).toMatchObject({ yes: true, dev: 1, how: REACH_IOTLB, iovaPfn: 519 });
    expect(reach(strict, {}, fill(0, 0, 1), 20)).toMatchObject({ yes: true, dev: 0, how: REACH_IOTLB, iovaPfn: 504 });
    expect(reach(strict, {}, fill(0, 3, 2), 20).yes).toBe(false); // no valid bit
    expect(reach(strict, {}, fill(0, 3, 3), 21).yes).toBe(false); // another frame
    const both = reach(strict, {}, (tx) => {
      fill(0, 2, 3)(tx);
      iommuMapPage(tx, 0, 504 + 9, 20, true, true, new Observation());
    }, 20);
    expect(both).toMatchObject({ how: REACH_IOTLB, iovaPfn: 506 });
  });

  it("with ATS, a valid ATC entry of the device", () => {
    const fill = (w0: number) => (tx: Tx) => {
      const s = iotlbSlot(tx.g, 1, tx.g.winBase + 4);
      tx.w(ATC)[s] = w0;
      tx.w(ATC)[s + 1] = 20;
    };
    expect(reach(strict, { ats: true }, fill(3), 20)).toMatchObject({ yes: true, dev: 1, how: REACH_ATC, iovaPfn: 508 });
    expect(reach(strict, { ats: true }, fill(2), 20).yes).toBe(false);
    expect(reach(strict, { ats: true }, fill(3), 21).yes).toBe(false); // a valid entry naming another frame
  });

  it("an untrusted device with ATS forges requests to any frame, unless ACS Translation Blocking stops them", () => {
    expect(reach(strict, { untrusted: true, ats: true }, none, 20)).toMatchObject({ yes: true, dev: 0, how: REACH_FORGED });
    expect(reach(strict, { untrusted: true, ats: true, acsTb: true }, none, 20).yes).toBe(false);
    expect(reach(strict, { untrusted: true }, none, 20).yes).toBe(false);
    expect(reach(strict, { ats: true }, none, 20).yes).toBe(false);
  });

  it("a blocked device reaches nothing, whatever its tables and IOTLB say", () => {
    const blocked: Policy = { ...strict, name: "blocked-test", attach: () => "blocked" };
    const r = reach(blocked, {}, (tx) => {
      iommuMapPage(tx, 0, 510, 20, true, true, new Observation());
      const s = iotlbSlot(tx.g, 0, 511);
      tx.w(IOTLB)[s] = 3;
      tx.w(IOTLB)[s + 1] = 20;
    }, 20);
    expect(r.yes).toBe(false);
  });

  it("names each way", () => {
    expect(REACH_NAMES).toEqual([
      "nothing", "its passthrough (identity) attachment", "its domain's page tables", "an IOTLB entry", "its own ATC (ATS)",
      "forged translated requests (ATS, no ACS Translation Blocking)",
    ]);
  });
});

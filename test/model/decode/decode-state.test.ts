// Known answers for the state decoder (model/decode/): after one strict map on
// the default machine, the decoded mapping, leaf PTE, caches and frames.
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, withIommu } from "../../../model/config.ts";
import { decodeState, stateRecords } from "../../../model/decode/state.ts";
import { changeLine, diffRecords } from "../../../model/decode/diff.ts";
import { compareKeys, recordLine } from "../../../model/decode/record.ts";
import { type Event } from "../../../model/events.ts";
import { Observation } from "../../../model/observation.ts";
import { findAnyPolicy } from "../../../model/policies/index.ts";
import { strict } from "../../../model/policies/strict.ts";
import { Stepper, makeSystem } from "../../../model/system.ts";

const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };

function afterMap(cfg = DEFAULT_CONFIG) {
  const sys = makeSystem(cfg, strict);
  const s = new Stepper(sys, new Observation()).step(sys.init, MAP);
  return { sys, before: decodeState(sys, sys.init), after: decodeState(sys, s) };
}

describe("decodeState after one strict map (AMD v1)", () => {
  const { before, after } = afterMap();

  it("decodes the mapping record", () => {
    expect(after.mappings).toEqual([{
      kind: "mapping", key: "#0", status: "mapped", api: "dma_map_single", direction: "to-device", device: 0, iova: "0x207000", pages: 1,
      freeAfterUnmap: false, released: false, segments: "frame 6 +0x0 64 B gen 1",
    }]);
  });

  it("decodes the leaf PTE with its frame and IR/IW", () => {
    const leaf = after.pageTableEntries.filter((e) => e.leaf && e.table.startsWith("IOMMU"));
    expect(leaf).toEqual([{
      kind: "pte", key: "frame 8 [7]", table: "IOMMU dom 0 L1", format: "amd-v1", iova: "0x207000", present: true, leaf: true, target: 6,
      read: true, write: false, entry: "PTE 4 KiB -> pfn 0x6 IR FC", raw: "0x3000000000006001",
    }]);
    // The directory entries down to it: root (frame 0) -> L2 table frame 7 -> L1 table frame 8, IR and IW on each.
    const dirs = after.pageTableEntries.filter((e) => !e.leaf && e.table.startsWith("IOMMU"));
    expect(dirs.map((e) => [e.key, e.target, e.read, e.write])).toEqual([["frame 0 [0]", 7, true, true], ["frame 7 [1]", 8, true, true]]);
  });

  it("leaves the IOTLB, the directory cache, the ATC and the command queue empty", () => {
    expect(after.iotlb).toEqual([]);
    expect(after.pdeCache).toEqual([]);
    expect(after.atc).toEqual([]);
    expect(after.commands).toEqual([]);
    expect(after.flushQueues).toEqual([]);
  });

  it("decodes frames with role and owner", () => {
    expect(after.frames[0]).toMatchObject({ role: "iommu-page-table", owner: "dom 0", detail: "IOMMU level 3 table, pages 0x0..0x7ffffff" });
    expect(after.frames[6]).toMatchObject({ role: "slab", detail: "kmalloc-64 slab", head: true });
    expect(after.frames[8]).toMatchObject({ role: "iommu-page-table", owner: "dom 0", contents: "zeroes" });
    expect(after.objects).toEqual([{ kind: "object", key: "frame 6 +0x0", frame: 6, offset: 0, size: 64, type: "kmalloc-64", owner: "driver of dev0", generation: 1 }]);
    expect(after.iova).toEqual([{ kind: "iova", key: "dom 0 0x207000", dom: 0, iova: "0x207000", pages: 1 }]);
    expect(after.deviceTable[0]).toMatchObject({ key: "dev0", mode: "translate", domainId: 1, root: 0 });
    expect(before.mappings).toEqual([]);
  });

  it("diffs the map as records, in a stable order", () => {
    const changes = diffRecords(stateRecords(before), stateRecords(after));
    const lines = changes.map(changeLine);
    expect(lines).toContain("+ mapping #0: status=mapped api=dma_map_single direction=to-device device=0 iova=0x207000 pages=1 freeAfterUnmap=no released=no segments=\"frame 6 +0x0 64 B gen 1\"");
    expect(lines).toContain("~ frame 6: role free -> slab, order 1 -> 0, detail \"\" -> \"kmalloc-64 slab\"");
    expect(lines.filter((l) => l.startsWith("+ pte "))).toHaveLength(3);
    // Same input, same lines; and the diff of a state with itself is empty.
    expect(diffRecords(stateRecords(before), stateRecords(after)).map(changeLine)).toEqual(lines);
    expect(diffRecords(stateRecords(after), stateRecords(after))).toEqual([]);
  });
});

describe("decodeState on VT-d", () => {
  it("decodes second-level entries and context entries", () => {
    const { after } = afterMap(withIommu(DEFAULT_CONFIG, "vtd"));
    const leaf = after.pageTableEntries.filter((e) => e.leaf && e.table.startsWith("IOMMU"));
    expect(leaf).toHaveLength(1);
    expect(leaf[0]).toMatchObject({ format: "vtd-sl", iova: "0x207000", target: leaf[0].target, read: true, write: false, entry: `4K leaf pfn 0x${leaf[0].target.toString(16)} R-` });
    expect(after.deviceTable.find((e) => e.key === "dev0")).toMatchObject({ mode: "translate", domainId: 1 });
    expect(after.deviceTable.some((e) => e.key === "root bus 0")).toBe(true);
  });
});

describe("policy words by name", () => {
  it("names bounce's words", () => {
    const bounce = findAnyPolicy("bounce")!;
    const sys = makeSystem(DEFAULT_CONFIG, bounce);
    const words = decodeState(sys, sys.init).policyWords;
    expect(words[0]).toMatchObject({ key: "bounce pool first frame + 1", index: 0 });
    expect(recordLine(words[0])).toMatch(/^policy-word bounce pool first frame \+ 1: index=0 value=\d+ hex=0x/);
  });
});

describe("compareKeys", () => {
  it("orders numbers inside keys by value", () => {
    expect(["frame 10", "frame 9", "frame 0x1f", "frame 0x2"].sort(compareKeys)).toEqual(["frame 0x2", "frame 9", "frame 10", "frame 0x1f"]);
  });
});

// dmacheck counterexample: viommu-async-invalidate violates pt-page-safety (9 events).
// the IOMMU's directory cache for dom 0 still holds the level-2 entry covering IOVAs 0x0..0x1fffff, pointing at frame 7, which is no longer that page table: it is free; frame 7 has held an IOMMU page table (dom 0, level 1) since step 3
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "viommu-async-invalidate",
  "policyModule": null,
  "property": "pt-page-safety",
  "config": {
    "frames": 10,
    "cpus": 1,
    "devices": 1,
    "iovaPages": 4,
    "iovaBasePfn": 510,
    "iommuLevels": 3,
    "fqSize": 2,
    "fqTimeoutMs": 10,
    "maxMappings": 1,
    "maxObjects": 4,
    "cmdQueueEntries": 8,
    "maxOrder": 2,
    "userPages": 0,
    "reclaimEmptyTables": true
  },
  "events": [
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "iommu"},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 8,
    "explanation": "the IOMMU's directory cache for dom 0 still holds the level-2 entry covering IOVAs 0x0..0x1fffff, pointing at frame 7, which is no longer that page table: it is free; frame 7 has held an IOMMU page table (dom 0, level 1) since step 3"
  },
  "found": {
    "engine": "exhaustive",
    "seed": null,
    "path": null,
    "runs": 55178,
    "ms": 0
  }
} as const;

test("viommu-async-invalidate violates pt-page-safety at step 9", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pt-page-safety");
  expect(result.trace.violation?.step).toBe(8);
});

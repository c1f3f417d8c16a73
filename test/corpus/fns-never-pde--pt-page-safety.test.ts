// dmacheck counterexample: fns-never-pde violates pt-page-safety (6 events).
// the IOMMU's directory cache for dom 1 still holds the level-2 entry covering IOVAs 0x0..0x1fffff, pointing at frame 8, which is no longer that page table: it is free; frame 8 has held an IOMMU page table (dom 1, level 1) since step 1
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "fns-never-pde",
  "policyModule": null,
  "property": "pt-page-safety",
  "config": {
    "frames": 32,
    "cpus": 2,
    "devices": 2,
    "iovaPages": 16,
    "iovaBasePfn": 504,
    "iommuLevels": 3,
    "fqSize": 256,
    "fqTimeoutMs": 10,
    "maxMappings": 8,
    "maxObjects": 48,
    "cmdQueueEntries": 16,
    "maxOrder": 3,
    "userPages": 4,
    "reclaimEmptyTables": true
  },
  "events": [
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 5,
    "explanation": "the IOMMU's directory cache for dom 1 still holds the level-2 entry covering IOVAs 0x0..0x1fffff, pointing at frame 8, which is no longer that page table: it is free; frame 8 has held an IOMMU page table (dom 1, level 1) since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "47:3:3:3:3:6:6:6:6:8:8:8:10:10:10",
    "runs": 48,
    "ms": 0
  }
} as const;

test("fns-never-pde violates pt-page-safety at step 6", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pt-page-safety");
  expect(result.trace.violation?.step).toBe(5);
});

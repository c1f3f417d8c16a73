// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel-leaf-only-unmount",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [64], "dir": "to-device"},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 7,
    "explanation": "the IOMMU's directory cache for dom 0 still holds the level-2 entry covering IOVAs 0x0..0x1fffff, pointing at frame 7, which is no longer that page table: it is free; frame 7 has held a morsel page table (level 1) since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "632:7:1:3:5:5:7:8:8:8:10:13",
    "runs": 633,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 0, "tick": 3, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("morsel-leaf-only-unmount violates pt-page-safety at step 8", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pt-page-safety");
  expect(result.trace.violation?.step).toBe(7);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "lazy-free-tables-at-unmap",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false}
  ],
  "violation": {
    "step": 2,
    "explanation": "the IOMMU's directory cache for dom 0 still holds the level-2 entry covering IOVAs 0x200000..0x3fffff, pointing at frame 8, which is no longer that page table: it is free; frame 8 has held an IOMMU page table (dom 0, level 1) since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "27:6:0:0:1:1:2:2:2:2:2",
    "runs": 28,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 3, "dma": 1, "kmalloc": 0, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("lazy-free-tables-at-unmap violates pt-page-safety at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pt-page-safety");
  expect(result.trace.violation?.step).toBe(2);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 5,
    "explanation": "the IOMMU's directory cache for dom 0 still holds the level-3 entry covering IOVAs 0x0..0x3fffffff, pointing at frame 7, which is no longer that page table: it is free; frame 7 has held an IOMMU page table (dom 0, level 2) since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2:7:1:3:3:7:7:7:7:8:9:8:8",
    "runs": 3,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 3, "resume": 1, "iommu": 3, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 3, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("fns-never-pde violates pt-page-safety at step 6", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pt-page-safety");
  expect(result.trace.violation?.step).toBe(5);
});

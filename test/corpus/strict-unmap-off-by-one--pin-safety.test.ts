// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-unmap-off-by-one",
  "policyModule": null,
  "property": "pin-safety",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 4,
    "explanation": "frame 6: the page allocator reclaimed it (it held slab memory and is free now), yet device 0 can still reach it through its domain's page tables for IOVA 0x1f8000; frame 6 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "47:8:1:2:2:2:4:6:6",
    "runs": 48,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 3, "user-touch": 3, "user-unmap": 3}, "cpus": 1, "devices": 1}
  }
} as const;

test("strict-unmap-off-by-one violates pin-safety at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pin-safety");
  expect(result.trace.violation?.step).toBe(4);
});

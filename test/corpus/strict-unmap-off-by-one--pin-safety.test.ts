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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 4,
    "explanation": "frame 6: the page allocator reclaimed it (it held io-buffer memory and is free now), yet device 0 can still reach it through its domain's page tables for IOVA 0x207000; frame 6 has held a 1-page io-buffer block of the driver of dev0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "59:10:4:4:7:7:7:7",
    "runs": 60,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 3, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-unmap-off-by-one violates pin-safety at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pin-safety");
  expect(result.trace.violation?.step).toBe(4);
});

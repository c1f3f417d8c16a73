// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu-unpin-before-invalidate",
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
    {"t": "dma", "dev": 0, "write": false, "page": 22, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "tick", "ms": 10},
    {"t": "tick", "ms": 10},
    {"t": "resume", "cpu": 2}
  ],
  "violation": {
    "step": 5,
    "explanation": "frame 6: its last pin was dropped and it went back to the page allocator, yet device 0 can still reach it through an IOTLB entry for IOVA 0x1fe000; frame 6 has been freed by its owner but kept, pinned since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2129:10:7:12:12:13:12:12:12:13",
    "runs": 2130,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 0, "kfree": 3, "tick": 0, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("coiommu-unpin-before-invalidate violates pin-safety at step 6", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pin-safety");
  expect(result.trace.violation?.step).toBe(5);
});

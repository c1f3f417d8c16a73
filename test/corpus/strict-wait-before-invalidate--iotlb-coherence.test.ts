// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wait-before-invalidate",
  "policyModule": null,
  "property": "iotlb-coherence",
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
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 5,
    "explanation": "device 0 read frame 6 through a stale IOTLB entry for IOVA 0x207000; its unmap had already returned; frame 6 has been free since step 5"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "1275:12:7:7:9:9:9:9:12:15:15:15:15:15:10:10",
    "runs": 1276,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 1, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-wait-before-invalidate violates iotlb-coherence at step 6", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(5);
});

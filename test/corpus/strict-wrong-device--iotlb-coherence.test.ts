// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wrong-device",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 read frame 6 through a stale IOTLB entry for IOVA 0x1f8000; its unmap had already returned; frame 6 has held a 1-page io-buffer block of the driver of dev1 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "123:11:7:7:7:9:9:3:8:8:8:5:5",
    "runs": 124,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 3, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("strict-wrong-device violates iotlb-coherence at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(2);
});

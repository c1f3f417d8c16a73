// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-free-before-wait",
  "policyModule": null,
  "property": "page-confinement",
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
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 read frame 6 through an IOTLB entry for IOVA 0x1f8000; frame 6 holds nothing granted to device 0: it is free; frame 6 has been free since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "684:13:8:8:8:11:11:11:14:14:17:10:9:2:9:10:11:11:11:9:9:2:6:4:4:4",
    "runs": 685,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 0, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-free-before-wait violates page-confinement at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(3);
});

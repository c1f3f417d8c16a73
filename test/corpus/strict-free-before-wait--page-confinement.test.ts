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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 8192, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 14, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 14, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 read frame 6 through an IOTLB entry for IOVA 0x206000; frame 6 holds nothing granted to device 0: it is free; frame 6 has been free since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "113:9:3:4:6:7:7:7:11:11:11:12:11:11:11:11:11:13:5:10:10:10:10:10",
    "runs": 114,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-free-before-wait violates page-confinement at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(3);
});

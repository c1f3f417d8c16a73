// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-pfn-up",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device", "offset": 0, "len": 16},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 1, "len": 1},
    {"t": "dma", "dev": 0, "write": false, "page": 1, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 1, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 165, "len": 3932}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 0 read frame 10 through a stale IOTLB entry for IOVA 0x1f9000; nothing is mapped there now (since boot)"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "3409:11:3:3:3:3:7:7:8:7:7:7:7:7:7:7:7:7:7:7:7:7:8:10:11:12:12:12:13:11:10:10:11:10:10:11:14:10",
    "runs": 3410,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 3, "kfree": 1, "tick": 1, "user-touch": 3, "user-unmap": 1}, "cpus": 1, "devices": 1}
  }
} as const;

test("strict-pfn-up violates iotlb-coherence at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(4);
});

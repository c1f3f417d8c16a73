// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "damn-free-to-buddy",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 32, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "dma", "dev": 0, "write": false, "page": 14, "offset": 0, "len": 4097}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 read frame 15 through a stale page walk from a cached directory entry for IOVA 0x207000; its unmap had already returned; frame 15 has been free since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "113:7:0:1:2:2:3:3:3:3:4:6:6:8:8:9:6:8:8:8",
    "runs": 114,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("damn-free-to-buddy violates iotlb-coherence at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(2);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-free-iova-before-wait",
  "policyModule": null,
  "property": "dma-integrity",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device", "offset": 32, "len": 16},
    {"t": "unmap", "cpu": 1, "k": 0, "free": false},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"}
  ],
  "violation": {
    "step": 2,
    "explanation": "mappings #0 and #1 of device 0 are both live and share IOVA page 0x207: a device access there cannot reach both buffers"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "18:6:0:1:3:3:3:3:5:6:7:8:8:5:4:3:3:3:3",
    "runs": 19,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 1, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 0, "user-touch": 3, "user-unmap": 0}, "cpus": 2, "devices": 2}
  }
} as const;

test("strict-free-iova-before-wait violates dma-integrity at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(2);
});

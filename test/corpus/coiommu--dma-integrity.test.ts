// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1500, "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 2048, "dir": "to-device"}
  ],
  "violation": {
    "step": 1,
    "explanation": "mappings #0 and #1 of device 0 are both live and share IOVA page 0x1fe: a device access there cannot reach both buffers"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "1348:13:3:4:3:4",
    "runs": 1349,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 0, "unmap": 3, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 1, "tick": 1, "user-touch": 0, "user-unmap": 3}, "cpus": 1, "devices": 2}
  }
} as const;

test("coiommu violates dma-integrity at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(1);
});

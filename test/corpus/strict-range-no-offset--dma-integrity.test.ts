// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-range-no-offset",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 16384, "dir": "to-device", "offset": 1, "len": 4096}
  ],
  "violation": {
    "step": 1,
    "explanation": "mappings #0 and #1 of device 1 are both live and share IOVA page 0x207: a device access there cannot reach both buffers"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "127:9:1:2:3:3:4:6:7:6:6:6:6:6:6:6:6:6:6:6:6:6:8:7",
    "runs": 128,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 1, "dma": 1, "kmalloc": 3, "kfree": 0, "tick": 0, "user-touch": 0, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("strict-range-no-offset violates dma-integrity at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(1);
});

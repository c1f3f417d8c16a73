// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-unmap-off-by-one",
  "policyModule": null,
  "property": "availability",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 1},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device", "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 3, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 14, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x206000, inside mapping #0 (segment 0, IOVA 0x206000..0x208000, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x206"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "258:12:5:7:7:7:7:7:7:13:14:9:13:14:14:14",
    "runs": 259,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 3, "tick": 3, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-unmap-off-by-one violates availability at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(3);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wrong-device",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device", "offset": 32, "len": 1},
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 1},
    {"t": "dma", "dev": 1, "write": false, "page": 13, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1's read of 1 byte(s) at IOVA 0x205000, inside mapping #1 (segment 0, IOVA 0x204000..0x206000, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x205"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "167:9:1:2:2:2:2:2:7:8:7:7:9:8:8:8:8:8",
    "runs": 168,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 3, "tick": 1, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 2}
  }
} as const;

test("strict-wrong-device violates availability at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(2);
});

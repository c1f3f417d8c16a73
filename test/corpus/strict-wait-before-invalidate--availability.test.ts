// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wait-before-invalidate",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "dma", "dev": 0, "write": true, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 6,
    "explanation": "device 0's write of 1 byte(s) at IOVA 0x1f8000, inside mapping #0 (segment 0, IOVA 0x1f8000..0x1f9000, mapped and not being unmapped), faulted: IO page fault (permission) at IOVA page 0x1f8"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "17435:14:1:3:3:5:5:5:5:5:8:13:14:14:14:14:14",
    "runs": 17436,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 3, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 3, "user-touch": 1, "user-unmap": 3}, "cpus": 1, "devices": 1}
  }
} as const;

test("strict-wait-before-invalidate violates availability at step 7", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(6);
});

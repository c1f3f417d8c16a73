// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-free-tables-early",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 1, "k": 0, "free": false},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 4097, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 13, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x205000, inside mapping #1 (segment 0, IOVA 0x204000..0x205001, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x205"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "8537:9:1:3:3:7:7:7:13:15:14:15:13:14:19:15:20:20:19:19:14:14",
    "runs": 8538,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 3, "iommu": 3, "dma": 1, "kmalloc": 0, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-free-tables-early violates availability at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(4);
});

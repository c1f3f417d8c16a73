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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 4097, "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 2, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x1fa000, inside mapping #1 (segment 0, IOVA 0x1fa000..0x1fa001, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1fa"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "11522:13:1:6:5:3:5:3:3:3:4:4:8:11:9:10:10:8:8:12:12:12:14:14:7:15:6:7:7:7:9:7:6:15:6:6:14:14:10",
    "runs": 11523,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 0, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 1, "kmalloc": 3, "kfree": 0, "tick": 3, "user-touch": 0, "user-unmap": 3}, "cpus": 1, "devices": 1}
  }
} as const;

test("strict-unmap-off-by-one violates availability at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(3);
});

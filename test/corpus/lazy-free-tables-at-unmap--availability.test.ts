// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "lazy-free-tables-at-unmap",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 0, "len": 16},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "from-device"},
    {"t": "dma", "dev": 0, "write": true, "page": 14, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 0's write of 1 byte(s) at IOVA 0x206000, inside mapping #0 (segment 0, IOVA 0x206000..0x206001, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x206"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "738:11:2:2:5:5:5:9:10:14:14:8:13:13",
    "runs": 739,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 3, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("lazy-free-tables-at-unmap violates availability at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(4);
});

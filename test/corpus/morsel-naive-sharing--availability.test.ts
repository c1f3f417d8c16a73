// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel-naive-sharing",
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
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x1f8000, inside mapping #0 (segment 0, IOVA 0x1f8000..0x1f8001, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1f8"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "113:9:5:4:4:3:5:3:5:5:6:6:7:8:7:6:1:1:1:3:2:1:5:2:5:1:1:4:4:4",
    "runs": 114,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("morsel-naive-sharing violates availability at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(2);
});

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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x1f8000, inside mapping #0 (segment 0, IOVA 0x1f8000..0x1f9000, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1f8"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "4959:11:0:1:4:7:7:10:10:3:9:9:9:9",
    "runs": 4960,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 0, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 1, "kfree": 0, "tick": 3, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("morsel-naive-sharing violates availability at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(2);
});

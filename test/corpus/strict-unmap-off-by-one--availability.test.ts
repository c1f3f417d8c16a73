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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [1, 4097], "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 3, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x1fb000, inside mapping #1 (segment 0, IOVA 0x1fb000..0x1fb040, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1fb"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "12526:11:4:8:5:4:4:4:6:5:7:8:9:9:11:11:12:11:12:12:6:11:11",
    "runs": 12527,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 0, "unmap": 1, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 0, "kfree": 0, "tick": 0, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-unmap-off-by-one violates availability at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(3);
});

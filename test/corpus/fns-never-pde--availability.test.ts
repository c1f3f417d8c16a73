// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "fns-never-pde",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 7,
    "explanation": "device 1's read of 1 byte(s) at IOVA 0x1f8000, inside mapping #0 (segment 0, IOVA 0x1f8000..0x1f8040, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1f8"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "27758:8:2:5:4:3:3:4:3:3:4:3:4:6:8:8:8:8:8:11:11:3:3:10:15:17:19:16:18:18",
    "runs": 27759,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 0, "unmap": 3, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 0, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("fns-never-pde violates availability at step 8", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(7);
});

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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 4097, "dir": "from-device"},
    {"t": "dma", "dev": 0, "write": true, "page": 14, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 6,
    "explanation": "device 0's write of 1 byte(s) at IOVA 0x206000, inside mapping #0 (segment 0, IOVA 0x206000..0x207001, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x206"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "476:13:5:7:7:7:7:7:10:10:16:20:17:19:20:17:17:19:24:24:16:23:23:17:17:17:17:17",
    "runs": 477,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 0, "tick": 0, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-wait-before-invalidate violates availability at step 7", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(6);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-free-iova-before-wait",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [8192], "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "map", "cpu": 1, "dev": 0, "src": "kmalloc", "size": 16384, "dir": "to-device", "offset": 32, "len": 4065},
    {"t": "dma", "dev": 0, "write": false, "page": 14, "offset": 32, "len": 1}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x206020, inside mapping #1 (segment 0, IOVA 0x206020..0x207001, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x206"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "9141:13:4:7:8:8:8:8:8:12:12:14:15:19:17:17:17:19:17:18:17:20:20:15:21:20:20:20:21:20:20:20:21:21:21:16",
    "runs": 9142,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 0, "unmap": 3, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 0, "kfree": 3, "tick": 3, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-free-iova-before-wait violates availability at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(4);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-range-no-offset",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 16384, "dir": "to-device", "offset": 4064, "len": 4129},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 4097}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0's read of 4097 byte(s) at IOVA 0x207000, inside mapping #0 (segment 0, IOVA 0x206fe0..0x208001, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x208"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "3273:15:8:4:4:3:4:5:3:3:6:3:5:5:4:7:3:3:6:3:3:3:3:3:3:4:3:6:3:3:7:4:4:5:3:6:3:9:4:3:3:4:5:3:10:4:3:3:3:7:3:13:4:6:3:18:18:18",
    "runs": 3274,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 3, "unmap": 3, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 3, "user-touch": 3, "user-unmap": 3}, "cpus": 1, "devices": 1}
  }
} as const;

test("strict-range-no-offset violates availability at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(1);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-pfn-up",
  "policyModule": null,
  "property": "pin-safety",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 16384, "dir": "to-device", "offset": 5225, "len": 7064},
    {"t": "kmalloc", "size": 64},
    {"t": "kfree", "k": 0}
  ],
  "violation": {
    "step": 2,
    "explanation": "frame 12: the page allocator reclaimed it (it held slab memory and is free now), yet device 0 can still reach it through its domain's page tables for IOVA 0x206000; frame 12 has held a kmalloc-64 object of the kernel at +0x0 since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "12864:9:10:1:0:1:2:7:3:3:3:6:19:19:20:19:19",
    "runs": 12865,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 0, "unmap": 3, "resume": 3, "iommu": 3, "dma": 1, "kmalloc": 3, "kfree": 3, "tick": 3, "user-touch": 1, "user-unmap": 0}, "cpus": 2, "devices": 2}
  }
} as const;

test("strict-pfn-up violates pin-safety at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pin-safety");
  expect(result.trace.violation?.step).toBe(2);
});

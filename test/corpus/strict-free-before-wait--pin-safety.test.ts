// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-free-before-wait",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false}
  ],
  "violation": {
    "step": 2,
    "explanation": "frame 6: the page allocator reclaimed it (it held slab memory and is free now), yet device 0 can still reach it through an IOTLB entry for IOVA 0x207000; frame 6 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "30:11:0:0:1:2:2:2:2:5:5:6:6:6:6:4:4",
    "runs": 31,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 0, "tick": 0, "user-touch": 3, "user-unmap": 0}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-free-before-wait violates pin-safety at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pin-safety");
  expect(result.trace.violation?.step).toBe(2);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wait-before-invalidate",
  "policyModule": null,
  "property": "pin-safety",
  "config": {
    "frames": 10,
    "cpus": 1,
    "devices": 1,
    "iovaPages": 4,
    "iovaBasePfn": 510,
    "iommuLevels": 3,
    "fqSize": 2,
    "fqTimeoutMs": 10,
    "maxMappings": 1,
    "maxObjects": 4,
    "cmdQueueEntries": 8,
    "maxOrder": 2,
    "userPages": 0,
    "reclaimEmptyTables": true
  },
  "events": [
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 3, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 4,
    "explanation": "frame 3: the page allocator reclaimed it (it held slab memory and is free now), yet device 0 can still reach it through an IOTLB entry for IOVA 0x201000; frame 3 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "exhaustive",
    "seed": null,
    "path": null,
    "runs": 2164,
    "ms": 0
  }
} as const;

test("strict-wait-before-invalidate violates pin-safety at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pin-safety");
  expect(result.trace.violation?.step).toBe(4);
});

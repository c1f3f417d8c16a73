// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-narrow-no-invalidate",
  "policyModule": null,
  "property": "iotlb-coherence",
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
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": true, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 wrote frame 6 through a stale IOTLB entry for IOVA 0x207000; the tables now map it to frame 6 without that permission; frame 6 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "212:14:5:3:5:8:3:4:7:7:7:3:3:6:6:6:7:7:7:14:14:14:12:12",
    "runs": 213,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 3, "tick": 1, "user-touch": 0, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-narrow-no-invalidate violates iotlb-coherence at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(3);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wrong-device",
  "policyModule": null,
  "property": "page-confinement",
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
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read frame 6 through a page walk for IOVA 0x207000; frame 6 holds nothing granted to device 0: it is a kmalloc-8 slab holding a kmalloc-8 object of the driver of dev1 at +0x0; frame 6 has held a kmalloc-8 object of the driver of dev1 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "83:10:6:2:9:9:2:2:2:2:2:2:2:2:2:2:2:2",
    "runs": 84,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 0, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 0, "kfree": 3, "tick": 3, "user-touch": 0, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("strict-wrong-device violates page-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

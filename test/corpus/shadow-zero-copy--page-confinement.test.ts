// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "shadow-zero-copy",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [64], "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 11, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 read frame 18 through a page walk for IOVA 0x203000; frame 18 holds nothing granted to device 0: it is a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev0 at +0x0 (the driver still holds its buffer, but its unmap has returned: the device may no longer touch it); frame 18 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "427:9:1:3:3:7:15:15:15",
    "runs": 428,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 1, "kfree": 3, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("shadow-zero-copy violates page-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(2);
});

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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "from-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": true, "page": 3, "offset": 1621, "len": 2476}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 wrote frame 18 through a page walk from a cached directory entry for IOVA 0x1fc000; frame 18 holds nothing granted to device 0: it is a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev0 at +0x0 (the driver still holds its buffer, but its unmap has returned: the device may no longer touch it); frame 18 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "119:14:7:9:8:14:11:14:11:11:24:24:21:21:21:21",
    "runs": 120,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 0, "tick": 1, "user-touch": 3, "user-unmap": 1}, "cpus": 1, "devices": 1}
  }
} as const;

test("shadow-zero-copy violates page-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(2);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "damn-free-to-buddy",
  "policyModule": null,
  "property": "leftover-data",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "kmalloc", "size": 64},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 1 read bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x0 of frame 8 holds the kernel's data: a live kmalloc-64 object of the kernel; frame 8 has held a kmalloc-64 object of the kernel at +0x0 since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2444:9:2:3:3:3:5:5:7:8:7:8:6:7:7",
    "runs": 2445,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 3, "iommu": 1, "dma": 1, "kmalloc": 3, "kfree": 1, "tick": 3, "user-touch": 3, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("damn-free-to-buddy violates leftover-data at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(3);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 14, "offset": 0, "len": 9}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 read bytes 0x0..0x8 of frame 14 through a page walk for IOVA 0x206000; byte 0x8 of frame 14 holds the kernel's data: left there by an earlier user of frame 14 and never zeroed (the frame is now a kmalloc-8 slab holding a kmalloc-8 object of the driver of dev0 at +0x0); frame 14 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "237:8:0:1:2:4:5:5:5:5:7:7:7:9:10:11:10:10:10:10:10:11:10:10:11:9:9:9:9",
    "runs": 238,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 1, "kfree": 3, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("coiommu violates leftover-data at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(3);
});

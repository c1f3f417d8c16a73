// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "shadow-zero-copy",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 11, "offset": 0, "len": 65}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0x40 of frame 18 through a page walk for IOVA 0x203000; byte 0x40 of frame 18 holds the kernel's data: left there by an earlier user of frame 18 and never zeroed (the frame is now a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev0 at +0x0); frame 18 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "133:8:1:3:3:3:7:9:8:10:7:7:8:8:8:8:10:11:4:8:9:8:8:8:8:8:9:8:8:8:8:9:9",
    "runs": 134,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 1, "tick": 3, "user-touch": 1, "user-unmap": 0}, "cpus": 1, "devices": 2}
  }
} as const;

test("shadow-zero-copy violates leftover-data at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(1);
});

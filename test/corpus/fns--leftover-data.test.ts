// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "fns",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [64], "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 65}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0x40 of frame 6 through a page walk for IOVA 0x207000; byte 0x40 of frame 6 holds the kernel's data: left there by an earlier user of frame 6 and never zeroed (the frame is now a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev0 at +0x0); frame 6 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "91:12:1:3:3:3:4:4:1:3:4:3:3:3:3:3:9:8:8",
    "runs": 92,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 3, "tick": 0, "user-touch": 0, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("fns violates leftover-data at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(1);
});

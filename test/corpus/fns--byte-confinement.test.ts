// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "fns",
  "policyModule": null,
  "property": "byte-confinement",
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
    {"t": "map-sg", "cpu": 0, "dev": 1, "sizes": [64], "dir": "from-device"},
    {"t": "dma", "dev": 1, "write": true, "page": 15, "offset": 0, "len": 65}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 1 wrote bytes 0x0..0x40 of frame 6 through a page walk for IOVA 0x207000; byte 0x40 is not granted to device 1 for writing: it is a free slot of a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev1 at +0x0 (it may hold a freed object's data); frame 6 has held a kmalloc-64 object of the driver of dev1 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "16:11:3:8:9:8:8:8:8:8:11:10",
    "runs": 17,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 3, "tick": 1, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 2}
  }
} as const;

test("fns violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

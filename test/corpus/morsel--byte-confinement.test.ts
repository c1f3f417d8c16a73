// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel",
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
    {"t": "map", "cpu": 1, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 32, "len": 1},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 8, "offset": 0, "len": 65}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 read bytes 0x0..0x40 of frame 6 through a page walk for IOVA 0x200000; byte 0x40 is not granted to device 0 for reading: it is byte +0x0 of a kmalloc-64 object of the driver of dev0; frame 6 has held a kmalloc-64 object of the driver of dev0 at +0x40 since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "113:10:4:4:6:7:7:7:9:9:9:11:15:16:15:15:15:15:16:15:16:17:14:14",
    "runs": 114,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("morsel violates byte-confinement at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(3);
});

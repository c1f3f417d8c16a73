// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "lazy",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 0, "len": 1},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 2}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0x1 of frame 6 through a page walk for IOVA 0x207000; byte 0x1 is not granted to device 0 for reading: it is byte +0x1 of a kmalloc-64 object of the driver of dev0, beyond the 1-byte buffer mapped there (allocation slack); frame 6 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "35:1:9:1:1:1:1:1:1:1:2:1:1:1:1:1:1:1:2",
    "runs": 36,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 0, "unmap": 1, "resume": 3, "iommu": 1, "dma": 1, "kmalloc": 3, "kfree": 3, "tick": 3, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("lazy violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

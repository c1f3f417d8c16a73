// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 6, "offset": 0, "len": 2}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0x1 of frame 6 through a page walk for IOVA 0x1fe000; byte 0x1 is not granted to device 0 for reading: it is byte +0x1 of a kmalloc-8 object of the driver of dev0, beyond the 1-byte buffer mapped there (allocation slack); frame 6 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "101:11:0:1:3:4:5:7:1:2:3:3:3:3:3:3:3:3:3:3:3:3:6:5:5:5:6:5:5:6:6:7:7:0:1:1:1:4:5:4:4:4:4:4:4:4:4:4:4:4:5:5:5:5",
    "runs": 102,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 1, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("coiommu violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

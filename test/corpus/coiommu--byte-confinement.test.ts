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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 4097, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 7, "offset": 1, "len": 1}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x1..0x1 of frame 7 through a page walk for IOVA 0x1ff001; byte 0x1 is not granted to device 0 for reading: it is byte +0x1001 of a kmalloc-8192 object of the driver of dev0, beyond the 4097-byte buffer mapped there (allocation slack); frame 7 has held page 2 of a kmalloc-8192 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "38:3:3:1:3:6:2:4:2:2:2:2:2:2:2:2:3:2:3:3:4:4:8:7:7:7:7:7:7:7:7:7:7:7:8:8:7:7",
    "runs": 39,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 3, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("coiommu violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

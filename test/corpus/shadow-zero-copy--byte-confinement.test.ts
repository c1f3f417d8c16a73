// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "shadow-zero-copy",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [1], "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 27, "offset": 0, "len": 2}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0x1 of frame 18 through a page walk for IOVA 0x203000; byte 0x1 is not granted to device 0 for reading: it is byte +0x1 of a kmalloc-8 object of the driver of dev0, beyond the 1-byte buffer mapped there (allocation slack); frame 18 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "50:7:0:1:2:2:5:5:2:9:10:9:9:9:9:9:9:9:9:9:9:9:10:8:8",
    "runs": 51,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("shadow-zero-copy violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

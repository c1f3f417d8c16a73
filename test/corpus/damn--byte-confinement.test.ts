// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "damn",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": true, "page": 0, "offset": 0, "len": 4033}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 wrote bytes 0x0..0xfc0 of frame 8 through a page walk for IOVA 0x1f8000; byte 0xfc0 is not granted to device 0 for writing: it is byte +0x0 of a 64-byte I/O pool buffer of the driver of dev0; frame 8 has held a 64-byte I/O pool buffer of the driver of dev0 at +0xfc0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "24:1:5:5:7:0:1:3:3:5:4:6:8:11:6:9:9:6",
    "runs": 25,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 0, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 0, "tick": 3, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("damn violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

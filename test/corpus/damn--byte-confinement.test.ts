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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "from-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 8, "offset": 0, "len": 4096}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0xfff of frame 8 through a page walk for IOVA 0x200000; byte 0xfff is not granted to device 0 for reading: it is byte +0x0 of a 1-byte I/O pool buffer of the driver of dev0; frame 8 has held a 1-byte I/O pool buffer of the driver of dev0 at +0xfff since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "600:11:0:1:6:13:8:8",
    "runs": 601,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 0, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 1, "tick": 1, "user-touch": 0, "user-unmap": 3}, "cpus": 1, "devices": 2}
  }
} as const;

test("damn violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

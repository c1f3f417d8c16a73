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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": true, "page": 0, "offset": 176, "len": 3920}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 wrote bytes 0xb0..0xfff of frame 8 through a page walk for IOVA 0x1f80b0; byte 0xfff is not granted to device 0 for writing: it is byte +0x0 of a 1-byte I/O pool buffer of the driver of dev0; frame 8 has held a 1-byte I/O pool buffer of the driver of dev0 at +0xfff since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "30:11:0:0:1:2:2:2:2:3:3:2:4:3:3:4:3:3:3:3:3:16:16",
    "runs": 31,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 0, "tick": 0, "user-touch": 3, "user-unmap": 0}, "cpus": 2, "devices": 1}
  }
} as const;

test("damn violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

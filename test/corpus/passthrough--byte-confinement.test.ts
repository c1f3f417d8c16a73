// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "passthrough",
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
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 0,
    "explanation": "device 0 read bytes 0x0..0x0 of frame 15 through an identity mapping (passthrough) for IOVA 0xf000; byte 0x0 is not granted to device 0 for reading: it is free (since boot)"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2:1:1:0:0:0:2:1:1:1:1:1:1:1:1:1",
    "runs": 3,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("passthrough violates byte-confinement at step 1", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(0);
});

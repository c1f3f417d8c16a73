// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "bounce-shared-slot",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 0, "len": 1},
    {"t": "dma", "dev": 0, "write": true, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 wrote bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x207000; byte 0x0 is not granted to device 0 for writing: it is a bounce slot owned now by mapping #1; frame 8 has held mapping #1's bounce slot since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "120:11:1:3:4:6:7:7:7:7:7:10:11:11:10:10:10:12:5:10:10:10:6",
    "runs": 121,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 1, "dma": 1, "kmalloc": 3, "kfree": 1, "tick": 0, "user-touch": 0, "user-unmap": 0}, "cpus": 2, "devices": 2}
  }
} as const;

test("bounce-shared-slot violates byte-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(2);
});

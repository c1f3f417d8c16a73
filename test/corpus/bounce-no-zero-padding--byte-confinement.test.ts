// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "bounce-no-zero-padding",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 6,
    "explanation": "device 0 read bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x0 is not granted to device 0 for reading: it is bounce-slot padding holding leftover data of an earlier mapping (not zeroed), in a slot owned now by mapping #0; frame 8 has held mapping #0's bounce slot since step 6"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "3689:10:1:3:3:7:7:9:8:9:12:12:15:12:14:14:14:11",
    "runs": 3690,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 0, "kfree": 0, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("bounce-no-zero-padding violates byte-confinement at step 7", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(6);
});

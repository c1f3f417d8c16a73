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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device", "offset": 32, "len": 16},
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [4097, 4097], "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 0, "len": 16},
    {"t": "dma", "dev": 1, "write": false, "page": 15, "offset": 0, "len": 17}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 1 read bytes 0x0..0x10 of frame 9 through a page walk for IOVA 0x207000; byte 0x10 is not granted to device 1 for reading: it is bounce-slot padding holding leftover data of an earlier mapping (not zeroed), in a slot owned now by mapping #1; frame 9 has held mapping #1's bounce slot since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "4685:8:3:3:3:3:3:7:8:10:8:9:8:8:8:9:12:11:10:10:10:10:10:10:12:15:15:16:16:16:16:16:16:11:12:11:11:11:11:11:11:11:12:11",
    "runs": 4686,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 0, "kfree": 1, "tick": 3, "user-touch": 0, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("bounce-no-zero-padding violates byte-confinement at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(3);
});

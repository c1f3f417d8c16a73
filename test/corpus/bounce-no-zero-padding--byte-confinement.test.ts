// dmacheck counterexample: bounce-no-zero-padding violates byte-confinement (7 events).
// device 0 read bytes 0x0..0x40 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x40 is not granted to device 0 for reading: it is bounce-slot padding holding leftover data of an earlier mapping (not zeroed), in a slot owned now by mapping #0; frame 8 has held mapping #0's bounce slot since step 6
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 65}
  ],
  "violation": {
    "step": 6,
    "explanation": "device 0 read bytes 0x0..0x40 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x40 is not granted to device 0 for reading: it is bounce-slot padding holding leftover data of an earlier mapping (not zeroed), in a slot owned now by mapping #0; frame 8 has held mapping #0's bounce slot since step 6"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2470:4:3:3:7:7:15:16:14:15:14:14:14:14:14:15:14:15:14:15:15:12:12:12:12",
    "runs": 2471,
    "ms": 0
  }
} as const;

test("bounce-no-zero-padding violates byte-confinement at step 7", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(6);
});

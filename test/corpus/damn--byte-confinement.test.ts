// dmacheck counterexample: damn violates byte-confinement (3 events).
// device 0 read bytes 0x36f..0xfc0 of frame 8 through a page walk for IOVA 0x1f836f; byte 0xfc0 is not granted to device 0 for reading: it is byte +0x0 of a 64-byte I/O pool buffer of the driver of dev0; frame 8 has held a 64-byte I/O pool buffer of the driver of dev0 at +0xfc0 since step 1
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 879, "len": 3154}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 read bytes 0x36f..0xfc0 of frame 8 through a page walk for IOVA 0x1f836f; byte 0xfc0 is not granted to device 0 for reading: it is byte +0x0 of a 64-byte I/O pool buffer of the driver of dev0; frame 8 has held a 64-byte I/O pool buffer of the driver of dev0 at +0xfc0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "4:2:0:0:1:2:2:4:5:5:5:3:2:4:5:2:2:2:15",
    "runs": 5,
    "ms": 0
  }
} as const;

test("damn violates byte-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(2);
});

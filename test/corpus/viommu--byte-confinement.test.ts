// dmacheck counterexample: viommu violates byte-confinement (2 events).
// device 1 read bytes 0x0..0x1 of frame 7 through a page walk from a cached directory entry for IOVA 0x1f9000; byte 0x1 is not granted to device 1 for reading: it is byte +0x1001 of a kmalloc-8192 object of the driver of dev1, beyond the 4097-byte buffer mapped there (allocation slack); frame 7 has held page 2 of a kmalloc-8192 object of the driver of dev1 at +0x0 since step 1
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "viommu",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 4097, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 712, "len": 3386}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 1 read bytes 0x0..0x1 of frame 7 through a page walk from a cached directory entry for IOVA 0x1f9000; byte 0x1 is not granted to device 1 for reading: it is byte +0x1001 of a kmalloc-8192 object of the driver of dev1, beyond the 4097-byte buffer mapped there (allocation slack); frame 7 has held page 2 of a kmalloc-8192 object of the driver of dev1 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "6:2:1:6:3:3:4:6:4:6:7:9:7:11:7:20:20:18:18",
    "runs": 7,
    "ms": 0
  }
} as const;

test("viommu violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

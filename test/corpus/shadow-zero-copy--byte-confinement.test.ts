// dmacheck counterexample: shadow-zero-copy violates byte-confinement (2 events).
// device 0 read bytes 0x0..0x1 of frame 19 through a page walk for IOVA 0x1fd000; byte 0x1 is not granted to device 0 for reading: it is byte +0x1001 of a kmalloc-8192 object of the driver of dev0, beyond the 4097-byte buffer mapped there (allocation slack); frame 19 has held page 2 of a kmalloc-8192 object of the driver of dev0 at +0x0 since step 1
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "shadow-zero-copy",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [4097], "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 21, "offset": 0, "len": 2}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0x1 of frame 19 through a page walk for IOVA 0x1fd000; byte 0x1 is not granted to device 0 for reading: it is byte +0x1001 of a kmalloc-8192 object of the driver of dev0, beyond the 4097-byte buffer mapped there (allocation slack); frame 19 has held page 2 of a kmalloc-8192 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "261:3:6:2:2:4:2:2:3:3:4:9:10:9:9:9:9:9:9:9:9:9:9:9:10:9:9",
    "runs": 262,
    "ms": 0
  }
} as const;

test("shadow-zero-copy violates byte-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(1);
});

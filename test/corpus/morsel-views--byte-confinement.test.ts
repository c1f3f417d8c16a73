// dmacheck counterexample: morsel-views violates byte-confinement (3 events).
// device 0 wrote bytes 0x0..0x40 of frame 6 through a page walk for IOVA 0x1f8000; byte 0x40 is not granted to device 0 for writing: it is a free slot of a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev0 at +0x0 (it may hold a freed object's data); frame 6 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel-views",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [64], "dir": "from-device"},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": true, "page": 0, "offset": 0, "len": 65}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 wrote bytes 0x0..0x40 of frame 6 through a page walk for IOVA 0x1f8000; byte 0x40 is not granted to device 0 for writing: it is a free slot of a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev0 at +0x0 (it may hold a freed object's data); frame 6 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "31:3:2:4:8:9:11:11:13:1:1:5:6:6:7:6:6:6:6:6:7:6:6:6:8",
    "runs": 32,
    "ms": 0
  }
} as const;

test("morsel-views violates byte-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(2);
});

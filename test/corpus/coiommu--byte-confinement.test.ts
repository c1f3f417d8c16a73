// dmacheck counterexample: coiommu violates byte-confinement (5 events).
// device 0 read bytes 0x0..0x800 of frame 13 through a page walk for IOVA 0x205000; byte 0x800 is not granted to device 0 for reading: it is a free slot of a kmalloc-2048 slab holding a kmalloc-2048 object of the driver of dev0 at +0x0 (it may hold a freed object's data); frame 13 has held a kmalloc-2048 object of the driver of dev0 at +0x0 since step 4
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
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
    {"t": "kmalloc", "size": 1},
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "kmalloc", "size": 64},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 2048, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 13, "offset": 0, "len": 2049}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 0 read bytes 0x0..0x800 of frame 13 through a page walk for IOVA 0x205000; byte 0x800 is not granted to device 0 for reading: it is a free slot of a kmalloc-2048 slab holding a kmalloc-2048 object of the driver of dev0 at +0x0 (it may hold a freed object's data); frame 13 has held a kmalloc-2048 object of the driver of dev0 at +0x0 since step 4"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "40:4:7:9:9:11:11:12:12:8:12:14:12:13:12:13:13:12:12",
    "runs": 41,
    "ms": 0
  }
} as const;

test("coiommu violates byte-confinement at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(4);
});

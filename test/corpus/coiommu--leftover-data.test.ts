// dmacheck counterexample: coiommu violates leftover-data (5 events).
// device 0 read bytes 0x0..0x800 of frame 13 through a page walk for IOVA 0x205000; byte 0x800 of frame 13 holds the kernel's data: left there by an earlier user of frame 13 and never zeroed (the frame is now a kmalloc-2048 slab holding a kmalloc-2048 object of the driver of dev0 at +0x0); frame 13 has held a kmalloc-2048 object of the driver of dev0 at +0x0 since step 4
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
  "policyModule": null,
  "property": "leftover-data",
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
    "explanation": "device 0 read bytes 0x0..0x800 of frame 13 through a page walk for IOVA 0x205000; byte 0x800 of frame 13 holds the kernel's data: left there by an earlier user of frame 13 and never zeroed (the frame is now a kmalloc-2048 slab holding a kmalloc-2048 object of the driver of dev0 at +0x0); frame 13 has held a kmalloc-2048 object of the driver of dev0 at +0x0 since step 4"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "40:4:7:9:9:11:11:12:12:8:12:14:12:13:12:13:13:12:12",
    "runs": 41,
    "ms": 0
  }
} as const;

test("coiommu violates leftover-data at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(4);
});

// dmacheck counterexample: coiommu violates page-confinement (3 events).
// device 1 read frame 7 through a page walk for IOVA 0x1ff000; frame 7 holds nothing granted to device 1: it is a kmalloc-2048 slab holding a kmalloc-2048 object of the driver of dev0 at +0x0; frame 7 has held a kmalloc-2048 object of the driver of dev0 at +0x0 since step 2
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
  "policyModule": null,
  "property": "page-confinement",
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
    {"t": "kmalloc", "size": 64},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 2048, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 7, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 read frame 7 through a page walk for IOVA 0x1ff000; frame 7 holds nothing granted to device 1: it is a kmalloc-2048 slab holding a kmalloc-2048 object of the driver of dev0 at +0x0; frame 7 has held a kmalloc-2048 object of the driver of dev0 at +0x0 since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "40:4:7:9:9:11:11:12:12:10:0:6:6",
    "runs": 41,
    "ms": 0
  }
} as const;

test("coiommu violates page-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(2);
});

// dmacheck counterexample: viommu-async-invalidate violates dma-integrity (5 events).
// device 1 read IOVA 0x1f8000 of mapping #0 through an IOTLB entry, but reached frame 6 (a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev1 at +0x0), which holds none of that mapping's buffer; frame 6 has held a kmalloc-64 object of the driver of dev1 at +0x0 since step 1
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "viommu-async-invalidate",
  "policyModule": null,
  "property": "dma-integrity",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 0},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 1 read IOVA 0x1f8000 of mapping #0 through an IOTLB entry, but reached frame 6 (a kmalloc-64 slab holding a kmalloc-64 object of the driver of dev1 at +0x0), which holds none of that mapping's buffer; frame 6 has held a kmalloc-64 object of the driver of dev1 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "23288:2:0:2:4:4:4:8:8:8:8:10:10:10:10:10:13:14:15:16:16:16:14",
    "runs": 23289,
    "ms": 0
  }
} as const;

test("viommu-async-invalidate violates dma-integrity at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(4);
});

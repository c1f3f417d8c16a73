// dmacheck counterexample: viommu-async-invalidate violates page-confinement (4 events).
// device 1 read frame 6 through an IOTLB entry for IOVA 0x1f8000; frame 6 holds nothing granted to device 1: it is free; frame 6 has been free since step 3
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "viommu-async-invalidate",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 0},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 1 read frame 6 through an IOTLB entry for IOVA 0x1f8000; frame 6 holds nothing granted to device 1: it is free; frame 6 has been free since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "773:2:0:1:3:3:4:6:6:8:8:10:10:10:10:10:10",
    "runs": 774,
    "ms": 0
  }
} as const;

test("viommu-async-invalidate violates page-confinement at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(3);
});

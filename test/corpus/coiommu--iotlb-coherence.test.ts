// dmacheck counterexample: coiommu violates iotlb-coherence (3 events).
// device 1 read frame 13 through a stale page walk from a cached directory entry for IOVA 0x205000; its unmap had already returned; frame 13 has held page 2 of a kmalloc-8192 object of the driver of dev0 at +0x0 since step 2
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
  "policyModule": null,
  "property": "iotlb-coherence",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [4097], "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 12, "offset": 0, "len": 4097}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 read frame 13 through a stale page walk from a cached directory entry for IOVA 0x205000; its unmap had already returned; frame 13 has held page 2 of a kmalloc-8192 object of the driver of dev0 at +0x0 since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "1292:4:3:3:6:11:10:9:10:11:9:9:9:9:10:9:13:18:21:18:7:17:19:18:18:17:17:17:19:18:18:11:11",
    "runs": 1293,
    "ms": 0
  }
} as const;

test("coiommu violates iotlb-coherence at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(2);
});

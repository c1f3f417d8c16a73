// dmacheck counterexample: strict-free-iova-before-wait violates iotlb-coherence (5 events).
// device 1 read frame 6 through a stale IOTLB entry for IOVA 0x1f8000; the tables now map it to frame 9; frame 6 has held a 1-page io-buffer block of the driver of dev1 since step 1
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-free-iova-before-wait",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 0},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "map", "cpu": 1, "dev": 1, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 1 read frame 6 through a stale IOTLB entry for IOVA 0x1f8000; the tables now map it to frame 9; frame 6 has held a 1-page io-buffer block of the driver of dev1 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "19299:2:0:3:5:7:9:7:8:10:7:20:22:22:22:25:29:28:25:28:28:29:3:6:6:6:6:6:11:11:11:11:11:11:12:12:12",
    "runs": 19300,
    "ms": 0
  }
} as const;

test("strict-free-iova-before-wait violates iotlb-coherence at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(4);
});

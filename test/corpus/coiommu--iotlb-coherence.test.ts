// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 0, "len": 16},
    {"t": "dma", "dev": 1, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 4097, "dir": "to-device"},
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "dma", "dev": 1, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 1 read frame 15 through a stale page walk from a cached directory entry for IOVA 0x207000; its unmap had already returned; frame 15 has held a 1-page io-buffer block of the driver of dev0 since step 4"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "38:11:1:2:2:2:2:2:2:4:5:5:5:7:9:7:7:7:7:7:8:7:7:9:10:11:11:11:11",
    "runs": 39,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 0, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("coiommu violates iotlb-coherence at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(4);
});

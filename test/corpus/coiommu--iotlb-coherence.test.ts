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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [4097, 4097], "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 3, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 4,
    "explanation": "device 0 read frame 15 through a stale IOTLB entry for IOVA 0x207000; its unmap had already returned; frame 15 has held page 2 of a kmalloc-8192 object of the driver of dev0 at +0x0 since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "164:10:2:4:5:7:5:5:5:8:5:5:6:9:10:6:6:6:7",
    "runs": 165,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 3, "user-touch": 1, "user-unmap": 3}, "cpus": 1, "devices": 2}
  }
} as const;

test("coiommu violates iotlb-coherence at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(4);
});

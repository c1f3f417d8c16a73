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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 1},
    {"t": "dma", "dev": 1, "write": false, "page": 12, "offset": 0, "len": 4097}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 read frame 13 through a stale page walk from a cached directory entry for IOVA 0x205000; its unmap had already returned; frame 13 has held a 2-page io-buffer block of the driver of dev0 since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "528:9:1:3:3:5:5:7:7:8:8:8:13:6:7:9:8:7:7:7:7:7:9:8:8:8:8",
    "runs": 529,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 1, "tick": 0, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 2}
  }
} as const;

test("coiommu violates iotlb-coherence at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(2);
});

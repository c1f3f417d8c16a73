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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 8192, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 6, "offset": 0, "len": 4097}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 read frame 7 through a stale page walk from a cached directory entry for IOVA 0x1ff000; its unmap had already returned; frame 7 has held page 2 of a kmalloc-8192 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "761:6:2:3:4:4:6:9:7:7:7:7:6:6",
    "runs": 762,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 1, "kfree": 0, "tick": 1, "user-touch": 1, "user-unmap": 0}, "cpus": 2, "devices": 1}
  }
} as const;

test("coiommu violates iotlb-coherence at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(2);
});

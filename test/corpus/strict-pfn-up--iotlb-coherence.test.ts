// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-pfn-up",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device", "offset": 32, "len": 16},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 read frame 7 through a stale IOTLB entry for IOVA 0x207000; nothing is mapped there now; frame 7 has held an IOMMU page table (dom 0, level 2) since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "4298:11:3:3:3:3:5:5:5:5:6:7:7:7:7:4:4:4",
    "runs": 4299,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 0, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 1, "kfree": 3, "tick": 1, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-pfn-up violates iotlb-coherence at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(3);
});

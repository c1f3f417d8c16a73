// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wait-before-invalidate",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device", "offset": 0, "len": 1},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 6,
    "explanation": "device 0 read IOVA 0x207000 of mapping #0 through an IOTLB entry, but reached frame 6 (a kmalloc-8 slab holding a kmalloc-8 object of the driver of dev0 at +0x0), which holds none of that mapping's buffer; frame 6 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "17435:14:1:3:3:8:7:6:7:7:6:6:6:7:9:7:11:21:24:24:24:24:27:2:1:2:2:2:2:2:2:2:2:13:15:15:15:13:13",
    "runs": 17436,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 3, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 3, "user-touch": 1, "user-unmap": 3}, "cpus": 1, "devices": 1}
  }
} as const;

test("strict-wait-before-invalidate violates dma-integrity at step 7", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(6);
});

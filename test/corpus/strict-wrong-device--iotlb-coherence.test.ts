// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-wrong-device",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 4097, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 14, "offset": 0, "len": 4097}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read frame 7 through a stale page walk from a cached directory entry for IOVA 0x207000; its unmap had already returned; frame 7 has held page 2 of a kmalloc-8192 object of the driver of dev1 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "83:10:6:2:9:10:13:11:15",
    "runs": 84,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 0, "alloc-coherent": 3, "unmap": 3, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 0, "kfree": 3, "tick": 3, "user-touch": 0, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("strict-wrong-device violates iotlb-coherence at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("iotlb-coherence");
  expect(result.trace.violation?.step).toBe(1);
});

// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "shadow-zero-copy",
  "policyModule": null,
  "property": "pin-safety",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true}
  ],
  "violation": {
    "step": 1,
    "explanation": "frame 18: the page allocator reclaimed it (it held slab memory and is free now), yet device 0 can still reach it through its domain's page tables for IOVA 0x203000; frame 18 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "8:14:3:3:5:7:7:8:8:3:3:3",
    "runs": 9,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 0, "unmap": 3, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 0, "kfree": 0, "tick": 3, "user-touch": 0, "user-unmap": 0}, "cpus": 2, "devices": 1}
  }
} as const;

test("shadow-zero-copy violates pin-safety at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pin-safety");
  expect(result.trace.violation?.step).toBe(1);
});

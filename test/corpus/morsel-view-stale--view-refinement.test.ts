// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel-view-stale",
  "policyModule": null,
  "property": "view-refinement",
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
    {"t": "resume", "cpu": 0},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false}
  ],
  "violation": {
    "step": 2,
    "explanation": "entry 504 of the AMD IOMMU v1 view table in frame 8 (level 1), mirroring morsel table frame 7: the view maps frame 6, but the primary (x86-64) maps nothing there: the view was not invalidated when the primary unmapped; frame 6 has held a kmalloc-64 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2:7:1:3:3:6:6:8:7:8:4",
    "runs": 3,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 3, "resume": 1, "iommu": 3, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 3, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("morsel-view-stale violates view-refinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("view-refinement");
  expect(result.trace.violation?.step).toBe(2);
});

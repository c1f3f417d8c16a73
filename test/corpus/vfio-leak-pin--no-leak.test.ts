// dmacheck counterexample: vfio-leak-pin violates no-leak (5 events).
// nothing is mapped, in progress or queued, yet frame 6 is still pinned (1 pin)
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "vfio-leak-pin",
  "policyModule": null,
  "property": "no-leak",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 4,
    "explanation": "nothing is mapped, in progress or queued, yet frame 6 is still pinned (1 pin)"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "23:3:2:3:4:4:4:7:7:5:5",
    "runs": 24,
    "ms": 0
  }
} as const;

test("vfio-leak-pin violates no-leak at step 5", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("no-leak");
  expect(result.trace.violation?.step).toBe(4);
});

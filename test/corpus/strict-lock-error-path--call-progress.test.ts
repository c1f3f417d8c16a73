// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-lock-error-path",
  "policyModule": null,
  "property": "call-progress",
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
    {"t": "map", "cpu": 1, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 7,
    "explanation": "cpu0's map of mapping #0 (phase 0) never returns: resumed, it waits again, the IOMMU's command queue is empty, and no resume or timer changes anything (a hang)"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2105:17:5:5:9:9:9:13:14:14:14:14:14:15:15:15:15:15",
    "runs": 2106,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 3, "tick": 0, "user-touch": 3, "user-unmap": 3}, "cpus": 2, "devices": 1}
  }
} as const;

test("strict-lock-error-path violates call-progress at step 8", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("call-progress");
  expect(result.trace.violation?.step).toBe(7);
});
